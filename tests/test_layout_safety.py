"""An LMS download is hostile input: a zip is unpacked with the caps of files read from a folder
(size, entries, no links, nothing outside the staging folder), and no layout reader follows a
link; whatever is left out is listed with why, and the rest is still graded."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest
from helpers.lms_layouts import DEMO

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError
from grader.run.discover import discover_view
from grader.run.layouts import ArchiveLimits, open_source
from grader.run.layouts.archive import unzip_source

COURSE = load_course(DEFAULT_ROOT)
NOTEBOOK = (DEMO / "alice" / "activations.ipynb").read_bytes()
CANVAS_NAME = "andersonalice_1001_77000_activations.ipynb"


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
    return path


def _patch(path: Path, name: str, central: int, local: int, value: int, mask: bool) -> None:
    """Rewrite a field of member ``name`` in the central directory (``central``: offset in
    its header) and its local header (``local``), as a forged zip would have it."""
    data = bytearray(path.read_bytes())
    size = 2 if mask else 4
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + length].decode() == name:
            header = int.from_bytes(data[at + 42:at + 46], "little")
            for where in (at + central, header + local):
                old = int.from_bytes(data[where:where + size], "little")
                data[where:where + size] = (old | value if mask else value).to_bytes(
                    size, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def _link(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def test_hostile_members_are_listed_and_never_written(tmp_path: Path) -> None:
    encrypted = "brownbob_1002_77010_forward.ipynb"
    fifo = zipfile.ZipInfo("chencarol_1003_77020_backprop.ipynb")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    source = _zip(tmp_path / "submissions.zip", [
        (CANVAS_NAME, NOTEBOOK),
        ("../andersonalice_1001_77001_escape.ipynb", b"{}"),
        ("/tmp/andersonalice_1001_77002_absolute.ipynb", b"{}"),
        (_link("andersonalice_1001_77003_link.ipynb", "/etc/passwd"), b"/etc/passwd"),
        (encrypted, b"x"), (fifo, b"x"),
        ("a/" * 20 + "deep.ipynb", b"{}"),
    ])
    _patch(source, encrypted, central=8, local=6, value=0x1, mask=True)  # "encrypted" flag
    with open_source(source) as view:
        assert view.layout == "canvas"
        staging = view.staging
        assert staging is not None
        written = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*")
                         if p.is_file() or p.is_symlink())
        reasons = {Path(p).name: why for p, why in view.stray}
        found = discover_view(view, COURSE.assignments)
    assert written == [CANVAS_NAME]  # only the honest member reached the disk
    assert not (tmp_path / "andersonalice_1001_77001_escape.ipynb").exists()
    assert reasons["andersonalice_1001_77001_escape.ipynb"] == \
        "a path that climbs out of the zip (..)"
    assert reasons["andersonalice_1001_77002_absolute.ipynb"] == "an absolute path"
    assert reasons["andersonalice_1001_77003_link.ipynb"] == "a symbolic link (never followed)"
    assert reasons["brownbob_1002_77010_forward.ipynb"] == "encrypted"
    assert reasons["chencarol_1003_77020_backprop.ipynb"] == "not a regular file"
    assert reasons["deep.ipynb"] == "nested too deep"
    assert [(s.student, s.assignment) for s in found.submissions] == [("1001", "activations")]
    assert len(found.unrecognized) == 6  # every one of them is in the run's report
    assert staging is not None and not staging.exists()  # the staging folder is gone after


def test_size_entry_and_total_caps_hold_whatever_a_member_claims(tmp_path: Path) -> None:
    members = [(f"s{n}_100{n}_7700{n}_activations.ipynb", b"x" * 600) for n in range(5)]
    members.append(("big_1009_77009_forward.ipynb", b"y" * 5000))
    source = _zip(tmp_path / "caps.zip", members)
    state = unzip_source(source, tmp_path / "out", ArchiveLimits(
        max_file_bytes=4096, max_entries=3, max_total_bytes=1500))
    assert state.files == 2 and state.total_bytes == 1200  # the total cap stopped the third
    reasons = dict(state.skipped)
    assert reasons["s2_1002_77002_activations.ipynb"].startswith("the zip holds more than")
    assert reasons["big_1009_77009_forward.ipynb"].startswith("larger than")
    state = unzip_source(source, tmp_path / "entries", ArchiveLimits(max_entries=3))
    assert state.files == 3
    assert dict(state.skipped)["s3_1003_77003_activations.ipynb"] == "more than 3 files in the zip"
    lying = tmp_path / "lying.zip"  # a member whose headers claim 10 bytes but hold 50 000
    with zipfile.ZipFile(lying, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("liar_1_2_activations.ipynb", b"z" * 50_000)
    _patch(lying, "liar_1_2_activations.ipynb", central=24, local=22, value=10, mask=False)
    state = unzip_source(lying, tmp_path / "lying", ArchiveLimits(max_file_bytes=4096))
    assert state.files == 0 and state.total_bytes == 0
    assert not (tmp_path / "lying" / "liar_1_2_activations.ipynb").exists()
    assert state.skipped[0][0] == "liar_1_2_activations.ipynb"


def test_not_a_zip_and_no_such_source_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "download.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ConfigError, match="neither a folder nor a zip"), open_source(broken):
        pass
    with pytest.raises(ConfigError, match="no such submissions folder or zip"), \
            open_source(tmp_path / "nope"):
        pass
    with pytest.raises(ConfigError, match="unknown layout"), open_source(tmp_path, "sakai"):
        pass


def test_links_in_a_downloaded_folder_are_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.ipynb"
    secret.write_bytes(NOTEBOOK)
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    (canvas / CANVAS_NAME).write_bytes(NOTEBOOK)
    os.symlink(secret, canvas / "brownbob_1002_77010_activations.ipynb")
    with open_source(canvas) as view:
        found = discover_view(view, COURSE.assignments)
    assert [s.student for s in found.submissions] == ["1001"]
    (link,) = [u for u in found.unrecognized if u.path.is_symlink()]
    assert "symbolic link" in link.reason
    moodle = tmp_path / "moodle"
    (moodle / "Alice Anderson_5301_assignsubmission_file_").mkdir(parents=True)
    (moodle / "Alice Anderson_5301_assignsubmission_file_" / "activations.ipynb").write_bytes(
        NOTEBOOK)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "activations.ipynb").write_bytes(NOTEBOOK)
    os.symlink(outside, moodle / "Bob Brown_5302_assignsubmission_file_")
    with open_source(moodle) as view:
        assert view.layout == "moodle"
        found = discover_view(view, COURSE.assignments)
    assert [s.student for s in found.submissions] == ["5301"]
    assert any("symbolic link" in u.reason for u in found.unrecognized)

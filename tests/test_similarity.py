"""`grade similarity`: planted copies outrank independent work, the stub scores zero, the
reports are safe to open, repeatable, and never reach a student."""

from __future__ import annotations

import csv
import html.parser
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import accessibility
from helpers.similarity_corpus import TRANSFORMS, Member, corpus, write_class

from grader.commands.similarity import SimilarityRequest, similarity
from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.errors import ConfigError
from grader.release.bundle import find_leaks
from grader.similarity import CSV_COLUMNS

pytestmark = pytest.mark.slow  # class-sized similarity corpora

ROOT = DEFAULT_ROOT
COURSE = load_course(ROOT)
GRADE = [sys.executable, "-m", "grader.cli"]
STUB_STUDENTS = ("stub_1", "stub_2")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run(folder: Path, out: Path, **options: object):
    return similarity(SimilarityRequest(folder, out, **options), COURSE,  # type: ignore[arg-type]
                      echo=lambda _: None)


@pytest.fixture(scope="module")
def members() -> dict[str, list[Member]]:
    return {a.id: corpus(a, ROOT) for a in COURSE.assignments}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, members: dict[str, list[Member]]
            ) -> tuple[Path, Path]:
    """The corpus class (planted copies among independent implementations, two untouched
    stubs) and its reports, made with the command's defaults."""
    work = tmp_path_factory.mktemp("similarity")
    stubs = [(s, a.stub) for s in STUB_STUDENTS for a in COURSE.assignments]
    folder = write_class(members, work / "class", stubs)
    run(folder, work / "out", jobs=2)
    return folder, work / "out"


def classify(rows: list[dict[str, str]], members: list[Member]
             ) -> tuple[list[tuple[float, str, str]], list[tuple[float, str, str]]]:
    """(planted pairs, independent pairs) as (score, a, b)."""
    by_name = {m.student: m for m in members}
    planted, independent = [], []
    for row in rows:
        a, b = by_name.get(row["student_a"]), by_name.get(row["student_b"])
        if a is None or b is None:
            continue
        scored = (float(row["score"]), a.student, b.student)
        if a.origin == b.origin:
            planted.append(scored)
        elif not a.lineage & b.lineage:
            independent.append(scored)
    return planted, independent


@pytest.mark.parametrize("assignment_id", [a.id for a in COURSE.assignments])
def test_every_planted_pair_ranks_above_every_independent_pair(
        planted: tuple[Path, Path], members: dict[str, list[Member]], assignment_id: str
) -> None:
    rows = [r for r in read_csv(planted[1] / "similarity.csv")
            if r["assignment"] == assignment_id]
    copies, independent = classify(rows, members[assignment_id])
    origins = {m.origin for m in members[assignment_id]}
    assert len(copies) == len(origins) * (len(TRANSFORMS) + 1) * len(TRANSFORMS) // 2
    assert len(independent) >= 100
    for how in TRANSFORMS:  # every kind of disguise is among the planted pairs
        assert any(how in a or how in b for _, a, b in copies)
    lowest, highest = min(copies), max(independent)
    assert lowest[0] > highest[0], f"planted {lowest} does not beat independent {highest}"
    ranks = {(r["student_a"], r["student_b"]): int(r["rank"]) for r in rows}
    assert max(ranks[(a, b)] for _, a, b in copies) < min(ranks[(a, b)]
                                                          for _, a, b in independent)


def test_untouched_stubs_score_zero_with_each_other_and_everyone(
        planted: tuple[Path, Path]) -> None:
    rows = read_csv(planted[1] / "similarity.csv")
    for assignment in COURSE.assignments:
        mine = [r for r in rows if r["assignment"] == assignment.id]
        both = [r for r in mine if (r["student_a"], r["student_b"]) == STUB_STUDENTS]
        assert len(both) == 1 and float(both[0]["score"]) == 0.0
        with_stub = [r for r in mine if {r["student_a"], r["student_b"]} & set(STUB_STUDENTS)]
        assert len(with_stub) == 2 * (len({r["student_a"] for r in mine}
                                          | {r["student_b"] for r in mine}) - 2) + 1
        assert all(float(r["score"]) == 0.0 for r in with_stub)
    page = (planted[1] / "similarity.html").read_text(encoding="utf-8")
    assert "2 handed in no code beyond the stub" in page


def test_csv_holds_every_pair_best_first(planted: tuple[Path, Path]) -> None:
    text = (planted[1] / "similarity.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = read_csv(planted[1] / "similarity.csv")
    for assignment in COURSE.assignments:
        mine = [r for r in rows if r["assignment"] == assignment.id]
        students = {r["student_a"] for r in mine} | {r["student_b"] for r in mine}
        assert len(mine) == len(students) * (len(students) - 1) // 2
        scores = [float(r["score"]) for r in mine]
        assert scores == sorted(scores, reverse=True)
        assert [int(r["rank"]) for r in mine] == list(range(1, len(mine) + 1))
        top = mine[0]
        assert float(top["score"]) == max(float(top["share_a"]), float(top["share_b"]))
        assert int(top["shared_lines_a"]) > 0 and top["file_a"].endswith(".ipynb")


def test_html_lists_top_pairs_one_click_from_side_by_side_code(
        planted: tuple[Path, Path]) -> None:
    page = (planted[1] / "similarity.html").read_text(encoding="utf-8")
    collector = Collector()
    collector.feed(page)
    for assignment in COURSE.assignments:
        links = [h for h in collector.links if h.startswith(f"#pair-{assignment.id}-")]
        assert len(links) == 20  # --top's default
        assert all(h[1:] in collector.ids for h in links)
        assert f"Histogram of pair scores for {assignment.title}" in page
    assert page.count("<mark class=") > 100  # shared regions highlighted in the code
    # each match numbered where it starts, the same numbers on both sides of a pair
    pair = page.split('id="pair-backprop-1"')[1].split('<div class="pair"')[0]
    sides = pair.split('<div class="side">')[1:]
    numbers = [set(re.findall(r'<span class="mn">\[(\d+)\]</span>', side)) for side in sides]
    assert len(sides) == 2 and numbers[0] and numbers[0] == numbers[1]
    assert collector.scripts == 0 and 'src="' not in page  # nothing runs, nothing to fetch


class Collector(html.parser.HTMLParser):
    """Links, ids and tags that run or fetch something, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if found.get("id"):
            self.ids.add(str(found["id"]))
        self.scripts += tag in ("script", "img", "iframe")


def test_scores_are_the_same_on_every_run(planted: tuple[Path, Path], tmp_path: Path) -> None:
    """copydetect hashes with Python's salted hash(): the workers fix the seed."""
    run(planted[0], tmp_path, jobs=2, only=("activations", "backprop"))
    again = read_csv(tmp_path / "similarity.csv")
    first = [r for r in read_csv(planted[1] / "similarity.csv")
             if r["assignment"] in ("activations", "backprop")]
    assert again == first


def test_cell_order_splits_and_magics_give_one_text_and_names_do_not_reorder() -> None:
    from grader.extract.read import Cell
    from grader.similarity.code import graded_code

    first = "import numpy as np\n\ndef relu(x):\n    return np.maximum(0, x)  # clip\n"
    second = "def sigmoid(x):\n    '''s'''\n    return 1 / (1 + np.exp(-x))\n"
    together = graded_code([Cell(1, first + "\n" + second, None)])
    apart = graded_code([Cell(1, second, 3), Cell(2, "%matplotlib inline\n" + first, 1)])
    assert together == apart and "import" not in together
    renamed = graded_code([Cell(1, second.replace("x", "v") + first.replace("x", "q"), None)])
    assert re.findall(r"def (\w+)", renamed) == re.findall(r"def (\w+)", together)


def test_hostile_names_and_code_are_escaped_in_html_and_inert_in_csv(tmp_path: Path) -> None:
    reference = COURSE.get("activations").reference
    names = ["=HYPERLINK(\"http:x\")", "+cmd", "@sum", "-1+2", "<img src=x onerror=alert(1)>"]
    cell = ("def relu(x):\n    s = '</code></pre><script>alert(2)</script>'\n"
            "    return x * (x > 0)\n")
    for name in names:
        folder = tmp_path / "class" / name
        folder.mkdir(parents=True)
        notebook = nbformat.read(reference, as_version=4)
        notebook.cells.append(nbformat.v4.new_code_cell(cell))
        nbformat.write(notebook, str(folder / "activations.ipynb"))
    run(tmp_path / "class", tmp_path / "out", only=("activations",))
    page = (tmp_path / "out" / "similarity.html").read_text(encoding="utf-8")
    collector = Collector()
    collector.feed(page)
    assert collector.scripts == 0
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(2)" in page
    cells = [cell for row in csv.reader(io.StringIO(
        (tmp_path / "out" / "similarity.csv").read_text(encoding="utf-8"))) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http:x\")" in cells and "'-1+2" in cells


def test_unreadable_files_are_listed_and_the_rest_compared(tmp_path: Path) -> None:
    demo = ROOT / "demo" / "submissions"
    folder = tmp_path / "class"
    for student in ("alice", "frank"):
        shutil.copytree(demo / student, folder / student)
    (folder / "zoe").mkdir()
    (folder / "zoe" / "activations.ipynb").write_text("{not json", encoding="utf-8")
    report = run(folder, tmp_path / "out", only=("activations",))
    result = report.results[0]
    assert result.students == 2 and result.pairs[0].score == 100.0
    assert [(k.student, k.file) for k in result.skipped] == [("zoe", "zoe/activations.ipynb")]
    assert "invalid JSON" in result.skipped[0].reason
    assert "zoe/activations.ipynb" in (tmp_path / "out" / "similarity.html").read_text()


def test_a_wall_of_code_is_compared_in_part_and_said_so(tmp_path: Path) -> None:
    wall = "\n".join(f"def helper_{i}(a, b):\n    return a * {i} + b ** {i % 7} - a // {i + 1}"
                     for i in range(400))
    for student in ("ann", "ben"):
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "activations.py").write_text(
            "import numpy as np\n\ndef relu(x):\n    return np.maximum(0, x)\n\n"
            "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n\n" + wall)
    result = run(tmp_path / "class", tmp_path / "out", only=("activations",)).results[0]
    assert [k.student for k in result.skipped] == ["ann", "ben"]
    assert all("only its start was compared" in k.reason for k in result.skipped)
    assert result.pairs[0].score == 100.0


def test_common_code_option_drops_what_most_of_the_class_writes(
        planted: tuple[Path, Path], members: dict[str, list[Member]], tmp_path: Path) -> None:
    """--common 10: code that more than 10 students have is not evidence (MOSS's -m): the
    code the corpus's independent families share stops counting."""
    run(planted[0], tmp_path, only=("activations",), common_percent=10)
    before, after = (classify(read_csv(p / "similarity.csv"), members["activations"])
                     for p in (planted[1], tmp_path))
    assert max(before[1])[0] > 20 and max(after[1])[0] < max(before[1])[0]
    assert min(after[0])[0] > max(after[1])[0]
    with pytest.raises(ConfigError, match="--common"):
        run(planted[0], tmp_path, common_percent=0)


def test_overlap_is_copydetects_similarity_and_regions_land_on_shared_code() -> None:
    from copydetect import compare_files

    from grader.similarity.code import boilerplate_texts, submission_code
    from grader.similarity.fingerprint import (
        boilerplate_hashes,
        fingerprint,
        overlap,
        shared_regions,
    )

    assignment = COURSE.get("training")
    boilerplate = boilerplate_hashes(boilerplate_texts(assignment))
    paths = [assignment.reference, *sorted((ROOT / "tests" / "equivalents" / "training")
                                           .glob("*.py"))]
    prints = [fingerprint(submission_code(p), boilerplate) for p in paths]
    for i, a in enumerate(prints):
        for b in prints[i + 1:]:
            found = overlap(a, b)
            _, (share_a, share_b), _ = compare_files(a, b)
            assert (found.share_a, found.share_b) == pytest.approx((share_a, share_b))
    regions, _ = shared_regions(prints[0], prints[1])
    assert regions
    for start, end in regions:  # copydetect's class-name offsets repaired: no region from 0
        text = prints[0].raw_code[start:end]
        assert 0 < len(text) < len(prints[0].raw_code) / 2, text


def test_command_line_and_its_errors(tmp_path: Path) -> None:
    done = subprocess.run([*GRADE, "similarity", "demo/submissions", "--out", str(tmp_path),
                           "--assignment", "forward"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "forward: 6 students, 15 pairs, top pair 100.0%" in done.stdout
    rows = read_csv(tmp_path / "similarity.csv")
    assert {r["assignment"] for r in rows} == {"forward"}
    carol = [r for r in rows if "carol" in (r["student_a"], r["student_b"])]
    assert len(carol) == 5 and all(float(r["score"]) == 0 for r in carol)
    bad = subprocess.run([*GRADE, "similarity", "demo/submissions", "--out", str(tmp_path),
                          "--assignment", "nope"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "--assignment: unknown 'nope'" in bad.stderr


def test_missing_copydetect_is_a_one_line_install_hint(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "copydetect" else real(name, *a))
    with pytest.raises(ConfigError, match=r"nn-grader\[similarity\]"):
        run(ROOT / "demo" / "submissions", tmp_path)


def test_reports_stay_with_the_instructor(tmp_path: Path) -> None:
    """The reports go only to OUT's top level (never a student's feedback folder), and the
    student bundle's leak scan refuses either file."""
    out = tmp_path / "out"
    (out / "alice" / "activations").mkdir(parents=True)
    (out / "alice" / "activations" / "feedback.md").write_text("feedback\n")
    run(ROOT / "demo" / "submissions", out, only=("activations",))
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["alice/activations/feedback.md", "similarity.csv", "similarity.html"]
    bundle = tmp_path / "bundle"
    (bundle / "activations").mkdir(parents=True)
    for name in ("similarity.csv", "similarity.html"):
        shutil.copyfile(out / name, bundle / "activations" / f"notes-{name}")
    leaks = find_leaks(bundle, COURSE)
    assert sorted(leak for leak in leaks if "similarity report" in leak) == [
        "activations/notes-similarity.csv: a similarity report (for the instructor only)",
        "activations/notes-similarity.html: a similarity report (for the instructor only)"]


def test_bench_runs_tiny(tmp_path: Path) -> None:
    """bench/similarity.py end to end on four students (its figures are a report)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "similarity.py"), "--students",
                           "4", "--pairs", "20", "--work", str(tmp_path)], capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "class: 4 students x 4 assignments compared in" in done.stdout
    assert "similarities equal on 20/20 pairs" in done.stdout
    assert (tmp_path / "out" / "similarity.html").is_file()


@pytest.mark.slow
@pytest.mark.skipif(not accessibility.available(), reason="needs Chromium (Debian package) "
                    "and the dev extra's axe-playwright-python")
def test_html_passes_wcag_22_aa_and_shows_keyboard_focus(planted: tuple[Path, Path]) -> None:
    found = accessibility.audit(planted[1] / "similarity.html")
    print(found.line())  # the axe results, for the record
    assert accessibility.serious(found) == [], found.line()
    assert found.tab_stops and all(s["outline"] for s in found.tab_stops), found.tab_stops


def test_a_pair_score_is_explained_by_lines_and_functions() -> None:
    from grader.similarity.analyse import Pair, ShownPair, Side, marked_lines
    from grader.similarity.report import explain

    code = ("import numpy as np\n\ndef relu(x):\n    return np.maximum(0, x)\n\n"
            "def softmax(z):\n    e = np.exp(z - z.max())\n    return e / e.sum()\n")
    start = code.index("def softmax")
    a = Side("ann", "ann/a.ipynb", marked_lines(code, [(start, len(code) - 1)]))
    b = Side("ben", "ben/a.ipynb", marked_lines(code, [(code.index("    return np.max"),
                                                        code.index(")\n\ndef soft"))]))
    pair = Pair("ann", "ben", 42.0, 42.0, 10.0, 3, 1, a.file, b.file)
    assert explain(ShownPair(1, pair, a, b)) == (
        "42.0%: shared code covers 3 of ann's 6 lines (in softmax) and 1 of ben's 6 lines "
        "(in relu); the score is the larger of the two shares.")


@pytest.fixture(scope="module")
def undiscounted(planted: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same class compared without discounting given and class-common lines (to measure
    what the discounting does)."""
    out = tmp_path_factory.mktemp("undiscounted")
    run(planted[0], out, jobs=2, discount=False)
    return out


def renamed_and_independent(out: Path, members: list[Member], assignment_id: str
                            ) -> tuple[list[tuple[float, str, str]], list[tuple[float, str, str]]]:
    rows = [r for r in read_csv(out / "similarity.csv") if r["assignment"] == assignment_id]
    copies, independent = classify(rows, members)
    renamed = [c for c in copies if {c[1], c[2]} & {f"{o}~renamed" for o in (c[1], c[2])}
               and "~" not in min(c[1], c[2], key=len)]
    return renamed, independent


@pytest.mark.parametrize("assignment_id", [a.id for a in COURSE.assignments])
def test_a_renamed_copy_ranks_first_by_a_clear_margin(
        planted: tuple[Path, Path], undiscounted: Path, members: dict[str, list[Member]],
        assignment_id: str) -> None:
    """Each implementation and its copy with every variable renamed score far above every
    pair of independently written solutions; discounting the given and class-common lines
    lowers the best independent pair (both are printed for the record)."""
    renamed, independent = renamed_and_independent(planted[1], members[assignment_id],
                                                   assignment_id)
    _, before = renamed_and_independent(undiscounted, members[assignment_id], assignment_id)
    assert renamed and independent and before
    weakest, best = min(renamed), max(independent)
    print(f"{assignment_id}: renamed copies {weakest[0]}-{max(renamed)[0]}%, best independent "
          f"pair {best[0]}% ({best[1]} / {best[2]}), {len(independent)} independent pairs; "
          f"without discounting {max(before)[0]}% ({max(before)[1]} / {max(before)[2]})")
    assert weakest[0] >= best[0] + 20, (weakest, best)
    assert best[0] < max(before)[0]


def test_matched_regions_share_a_number_on_both_sides() -> None:
    """Two functions copied in the other order: each region of one side is numbered as the
    region of the other side that it matches, not by position."""
    from grader.similarity.analyse import marked_lines
    from grader.similarity.fingerprint import fingerprint, match_numbers, shared_regions

    first = ("def relu(x):\n    out = x.copy()\n    out[out < 0] = 0.0\n    return out * 1.0\n")
    second = ("def softmax(z):\n    shifted = z - z.max(axis=-1, keepdims=True)\n"
              "    e = np.exp(shifted)\n    return e / e.sum(axis=-1, keepdims=True)\n")
    a = fingerprint(first + "\n\n" + "x = 1\n" * 3 + "\n" + second, frozenset())
    b = fingerprint(second + "\n\n" + "y = [2, 3]\n" * 3 + "\n" + first, frozenset())
    regions_a, regions_b = shared_regions(a, b)
    numbers_a, numbers_b = match_numbers(a, b, regions_a, regions_b)
    assert len(regions_a) == len(regions_b) == 2 and numbers_a == [1, 2]
    assert numbers_b == [2, 1]  # b's first region (softmax) is a's second
    lines = marked_lines(b.raw_code, regions_b, numbers_b)
    assert {n for line in lines[:4] for _, n in line} - {0} == {2}

"""The student bundle's requirements.txt: PyTorch's CPU build from its own index, pinned to the
release installed here, unless course.toml's [bundle] torch asks for the GPU build."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from grader.core.course import DEFAULT_ROOT, load_course
from grader.release.bundle import CPU_TORCH_INDEX, ReleaseRequest, release

INSTALLED = Version(importlib.metadata.version("torch"))
LINUX = {"sys_platform": "linux"}
MAC = {"sys_platform": "darwin"}


def requirements(course_root: Path, out: Path) -> tuple[list[str], list[Requirement]]:
    release(ReleaseRequest(out_dir=out), load_course(course_root), echo=lambda _: None)
    lines = [line.strip() for line in (out / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    options = [line for line in lines if line.startswith("-")]
    return options, [Requirement(line) for line in lines if not line.startswith("-")]


def torch_for(reqs: list[Requirement], platform: dict[str, str]) -> list[Requirement]:
    return [r for r in reqs if r.name == "torch"
            and (r.marker is None or r.marker.evaluate(platform))]


def test_cpu_torch_from_its_index_by_default(tmp_path: Path) -> None:
    options, reqs = requirements(DEFAULT_ROOT, tmp_path / "bundle")
    assert options == [f"--extra-index-url {CPU_TORCH_INDEX}"]
    (linux,) = torch_for(reqs, LINUX)
    (mac,) = torch_for(reqs, MAC)
    release_ = INSTALLED.base_version
    assert str(linux.specifier) == f"=={release_}+cpu"
    assert linux.specifier.contains(Version(f"{release_}+cpu"))
    assert not linux.specifier.contains(Version(f"{release_}+cu128"))
    assert str(mac.specifier) == f"=={release_}"
    assert {r.name for r in reqs} == {"numpy", "pytest", "nbformat", "torch"}


def test_a_gpu_course_gets_pips_default_torch(tmp_path: Path) -> None:
    course = tmp_path / "course"
    for part in ("assignments", "solutions"):
        shutil.copytree(DEFAULT_ROOT / part, course / part)
    text = (DEFAULT_ROOT / "course.toml").read_text().replace('torch = "cpu"', 'torch = "gpu"')
    (course / "course.toml").write_text(text)
    options, reqs = requirements(course, tmp_path / "bundle")
    assert options == []
    (torch,) = torch_for(reqs, LINUX)
    assert str(torch.specifier) == f">={INSTALLED.base_version}"

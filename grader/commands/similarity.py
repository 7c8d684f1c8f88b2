"""``grade similarity SUBMISSIONS_DIR --out DIR``: which students share code beyond the stub.

    DIR/similarity.csv     every pair of students per assignment, best first
    DIR/similarity.html    per assignment a histogram of pair scores, the top pairs, and each
                           of them side by side with the shared regions highlighted

Submissions are found as ``grade`` finds them (grader.run.discover) and compared on the code the
grader grades (grader.similarity). The reports are for the instructor: nothing here writes
into a student's feedback folder, and ``grade release`` refuses to ship either file.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from grader.core.course import Course
from grader.core.errors import ConfigError, GraderError
from grader.core.paths import TEMPLATES_DIR, write_atomic
from grader.run.discover import course_files, discover

if TYPE_CHECKING:
    from grader.similarity.analyse import AssignmentSimilarity


@dataclass(frozen=True)
class SimilarityRequest:
    submissions_dir: Path
    out_dir: Path
    only: tuple[str, ...] = ()
    top: int = 20
    jobs: int = 1
    common_percent: float | None = None
    #: discount given and class-common lines (grader.similarity.analyse); off only to measure
    discount: bool = True


@dataclass(frozen=True)
class SimilarityReport:
    csv_path: Path
    html_path: Path
    results: tuple[AssignmentSimilarity, ...]


def similarity(request: SimilarityRequest, course: Course,
               echo: Callable[[str], None] = print) -> SimilarityReport:
    """Compare every pair of students per assignment and write the two reports."""
    if importlib.util.find_spec("copydetect") is None:
        raise ConfigError("grade similarity needs copydetect: pip install "
                          "'nn-grader[similarity]' (README's install command includes it)")
    from grader.similarity.analyse import AssignmentJob
    from grader.similarity.pool import analyse_all
    from grader.similarity.report import similarity_csv, similarity_html

    chosen = course.select(request.only)
    if request.top < 1:
        raise ConfigError(f"--top: must be at least 1, got {request.top}")
    if request.jobs < 1:
        raise ConfigError(f"--jobs: must be at least 1, got {request.jobs}")
    if request.common_percent is not None and not 0 < request.common_percent <= 100:
        raise ConfigError(f"--common: must be a percentage above 0 and at most 100, got "
                          f"{request.common_percent}")
    found = discover(request.submissions_dir, course.assignments,
                     course=course_files(course.root))
    jobs = [AssignmentJob(a, tuple((s.student, s.source or s.path,
                                    _label(s.path, request.submissions_dir))
                                   for s in found.submissions if s.assignment == a.id),
                          request.top, request.common_percent, request.discount)
            for a in chosen]
    results = tuple(analyse_all(jobs, request.jobs))
    unrecognized = [(_label(u.path, request.submissions_dir), u.reason)
                    for u in found.unrecognized]
    csv_path = _write(request.out_dir / "similarity.csv", similarity_csv(results))
    html_path = _write(request.out_dir / "similarity.html",
                       similarity_html(results, TEMPLATES_DIR, unrecognized))
    for r in results:
        top = f"top pair {r.pairs[0].score}%" if r.pairs else "no pair"
        echo(f"{r.assignment}: {r.students} students, {len(r.pairs)} pairs, {top}")
    echo(f"Wrote {csv_path} and {html_path} (for the instructor only)")
    return SimilarityReport(csv_path, html_path, results)


def _label(path: Path, root: Path) -> str:
    """``student/notebook.ipynb``: the path as the instructor knows it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _write(path: Path, text: str) -> Path:
    try:
        return write_atomic(path, text)
    except OSError as exc:
        raise GraderError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc

"""One time budget per student and assignment (issue 22): the files one student hands in for
an assignment share one total, each next file gets what is left, and what hung in one file is
not waited on again in the next where it is the same definition (grader.run.budget).
Assertions count budgets and waits, never seconds of wall time."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import SubmissionResult
from grader.core.settings import Limits, Settings, limits_from
from grader.run import budget, local
from grader.run.budget import grade_group, student_groups
from grader.run.cache import ResultCache
from grader.run.grading import Resume, grade_folder
from grader.run.local import close_sandboxes, grade_jobs
from grader.submission.grade import Job
from grader.submission.stops import Remembered, Stop, code_digest

COURSE = load_course(DEFAULT_ROOT)
ACTIVATIONS = next(a for a in COURSE.assignments if a.id == "activations")
ALICE = DEFAULT_ROOT / "demo" / "submissions" / "alice" / "activations.ipynb"


class Clock:
    """time.monotonic for grader.run.budget, advanced by the fake grading below."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_files_of_one_student_share_one_budget_each_next_gets_what_is_left(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(budget.time, "monotonic", clock)
    given: list[float] = []

    def sleeper(job: Job, settings: Settings, remembered: Remembered) -> SubmissionResult:
        # a student whose files each sleep 50 s, or just under the budget the grader gives
        given.append(settings.limits.submission_timeout_s)
        clock.now += min(50.0, settings.limits.submission_timeout_s - 0.01)
        return SubmissionResult(job.student, job.assignment.id, str(job.path))

    limits = Limits(submission_timeout_s=120.0)
    jobs = [Job("mallory", ACTIVATIONS, Path(f"activations_{n}.py")) for n in range(10)]
    results = grade_group(jobs, [Settings(course_root=COURSE.root, limits=limits)] * 10, sleeper)
    assert given == pytest.approx([120.0, 70.0, 20.0])  # what is left, never 10 x 120 s
    assert clock.now <= 120.0
    spent = [r for r in results if r.error and r.error.startswith("Not graded")]
    assert [r.path for r in spent] == [f"activations_{n}.py" for n in range(3, 10)]
    assert all(r.waits == 1 and r.score == 0 for r in spent)  # confirmed like a timeout
    assert all(map(budget.not_run, spent)) and not budget.not_run(results[0])  # never cached
    assert "120 s the grader gives all the files you hand in for activations" in spent[0].error


def test_the_student_total_is_a_limit_like_the_others() -> None:
    assert Limits().student_budget_s() == 120.0  # default: the submission's budget
    assert Limits(submission_timeout_s=30.0).student_budget_s() == 30.0
    assert limits_from({"student_timeout_s": "300"}).student_budget_s() == 300.0
    assert limits_from({}, {"GRADER_STUDENT_TIMEOUT_S": "200"}).student_timeout_s == 200.0


def test_groups_are_per_student_and_assignment_in_job_order() -> None:
    other = next(a for a in COURSE.assignments if a.id != "activations")
    jobs = [Job("a", ACTIVATIONS, Path("1")), Job("b", ACTIVATIONS, Path("2")),
            Job("a", other, Path("3")), Job("a", ACTIVATIONS, Path("4"))]
    assert student_groups(jobs) == [[0, 3], [1], [2]]


def test_a_stop_is_carried_only_to_the_same_code() -> None:
    hanging = code_digest(["def hang():\n    while True:\n        pass", "def other():\n    1"])
    fixed = code_digest(["def hang():\n    return 1", "def other():\n    1"])
    stop = Stop("hang", "hang", "timed_out", "did not return within 1 s", "test_a")
    remembered = Remembered()
    remembered.remember({"hang": stop}, hanging, "activations.py")
    assert set(remembered.for_file(hanging)) == {"hang"}
    assert remembered.for_file(fixed) == {}  # a fixed resubmission is graded afresh
    carried = remembered.for_file(hanging)["hang"]
    assert "in an earlier test (test_a in your file activations.py)" in carried.later_message()


def _honest() -> str:
    """alice's activations (all correct) as one .py file."""
    cells = json.loads(ALICE.read_text())["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _source(hang: str, version: int = 0) -> str:
    return _honest().replace(f"def {hang}(x):\n",
                        f"def {hang}(x):\n    while True:  # version {version}\n        pass\n")


def _grade(folder: Path, sources: list[str], **limits: float
           ) -> tuple[list[SubmissionResult], list[float]]:
    """Grade one student's files through the real grade_jobs (process sandbox); also the
    submission budget the run gave each file it ran."""
    jobs = []
    for n, source in enumerate(sources):
        path = folder / f"activations_{n}.py"
        path.write_text(source)
        jobs.append(Job("mallory", ACTIVATIONS, path))
    settings = Settings(course_root=COURSE.root, sandbox="process", jobs=1,
                        limits=replace(Limits(test_timeout_s=1.0), **limits))
    given: list[float] = []
    real = local.grade_safely

    def recorded(job: Job, own: Settings, *args: object) -> SubmissionResult:
        given.append(own.limits.submission_timeout_s)
        return real(job, own, *args)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local, "grade_safely", recorded)
        try:
            return grade_jobs(jobs, settings), given
        finally:
            close_sandboxes()


@pytest.fixture(scope="module")
def hang_then_fixed(tmp_path_factory: pytest.TempPathFactory) -> list[SubmissionResult]:
    """One run (the hangs waited out once for both tests below): the same hanging sigmoid in
    three files, then the fixed resubmission."""
    folder = tmp_path_factory.mktemp("hang")
    results, _ = _grade(folder, [_source("sigmoid")] * 3 + [_honest()],
                        submission_timeout_s=60.0)
    return results


def test_a_hang_is_waited_on_once_across_a_students_files(
        hang_then_fixed: list[SubmissionResult]) -> None:
    results = hang_then_fixed[:3]
    assert results[0].waits >= 1  # the first file waits on sigmoid (and what calls it)
    assert [r.waits for r in results[1:]] == [0, 0]  # the same sigmoid: not waited on again
    messages = [t.message for t in results[2].tests if t.function == "sigmoid"]
    assert messages and all("in your file activations_0.py" in m for m in messages)
    assert results[2].score == results[0].score > 0  # relu, elu, softmax still graded


def test_a_fixed_resubmission_is_graded_afresh(
        hang_then_fixed: list[SubmissionResult]) -> None:
    hanging, fixed = hang_then_fixed[0], hang_then_fixed[3]
    assert hanging.waits >= 1 and fixed.waits == 0
    assert fixed.score == ACTIVATIONS.max_score  # sigmoid called again: it is fixed now


@pytest.mark.slow  # an 8 s total of hangs waited out (the quick tier keeps the two above)
def test_a_student_with_many_hanging_files_is_bounded_by_the_total(
        tmp_path: Path) -> None:
    # five files, each with its own hanging sigmoid (another code: nothing carried):
    # sigmoid, sigmoid_grad, tanh and tanh_grad wait out 1 s each in every file that runs
    # (where the workers' CPU time is counted, only that counts: about 4 s per file, so a
    # total of 10 s runs two or three of the five files)
    sources = [_source("sigmoid", version) for version in range(5)]
    results, given = _grade(tmp_path, sources, student_timeout_s=10.0,
                            submission_timeout_s=60.0)
    assert given[0] == 10.0  # the student's total, not the submission's 60 s
    for k in range(1, len(given)):  # each next file gets what the waits before it left
        assert given[k] <= 10.0 - sum(r.waits for r in results[:k]) * 1.0
    not_run = [r for r in results if (r.error or "").startswith("Not graded")]
    assert not_run and len(given) + len(not_run) == 5
    assert sum(results[k].waits for k in range(len(given))) <= 10 + len(given)


@pytest.mark.slow  # hangs waited out (2 s total) through grade_folder
def test_a_file_not_run_is_not_cached(tmp_path: Path) -> None:
    # file 0 hangs on sigmoid and what calls it, 1 s each: one hang or two leave less than
    # budget.MIN_FILE_S of the student's 2 s (with 3 s, one hang fewer than usual in file 0,
    # as in one full-suite run, left file 1 enough to run its first tests)
    folder = tmp_path / "submissions" / "mallory"
    folder.mkdir(parents=True)
    for version in range(2):
        (folder / f"activations_{version}.py").write_text(_source("sigmoid", version))
    settings = Settings(course_root=COURSE.root, sandbox="process", jobs=1,
                        limits=Limits(test_timeout_s=1.0, student_timeout_s=2.0))
    try:
        run = grade_folder(tmp_path / "submissions", COURSE, settings, ["activations"],
                           resume=Resume(ResultCache(tmp_path / "out")))
    finally:
        close_sandboxes()
    (result,) = run.results
    assert [Path(a.path).name for a in result.other_attempts] == ["activations_1.py"]
    assert result.other_attempts[0].score == 0  # file 1 found the budget spent
    # only the file that ran is cached: file 1's row depends on file 0
    assert len(list(ResultCache(tmp_path / "out").entries())) == 1

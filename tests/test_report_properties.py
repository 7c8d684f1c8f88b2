"""Property-based tests (Hypothesis) of the report and cache path (issue 22).

Generated SubmissionResults carry arbitrary Unicode (lone surrogates and control characters
included) in every text, and floats including nan, inf, subnormals and +-1e308 in every number
a report draws or prints; names read from disk are arbitrary bytes. The real writers run on
them: write_reports (grades.csv, gradebook.csv, summary, results.json, feedback Markdown and
HTML, loss curves), the terminal's score table, the CI summary, Classroom result and log, the
cache's put and get, and discovery on a real folder. Example counts are modest: the file runs
in seconds.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.core.course import DEFAULT_ROOT, load_course
from grader.core.results import STATUSES, Curve, RunResult, SubmissionResult, TestResult
from grader.core.text import display_name, display_path, valid
from grader.integrations.ci import CiOutcome, _echo_summary, classroom_result, summary_markdown
from grader.report import score_table, write_reports
from grader.report.plots import loss_curve, score_histogram
from grader.run.cache import ResultCache, result_to_dict
from grader.run.discover import discover
from grader.submission.grade import Job

COURSE = load_course(DEFAULT_ROOT)
ACTIVATIONS = COURSE.get("activations")
FEW = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])

#: Any code point: lone surrogates (category Cs) and controls included.
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=40)
EXTREMES = [math.nan, math.inf, -math.inf, 1e308, -1e308, 1.79e308, -1.79e308, 5e-324,
            -5e-324, 2.2e-308, 0.0, -0.0]
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True) | \
    st.sampled_from(EXTREMES)
CURVE_VALUE = st.none() | ANY_FLOAT


def curves() -> st.SearchStrategy[Curve]:
    return st.builds(Curve, name=ANY_TEXT,
                     student=st.lists(CURVE_VALUE, max_size=12).map(tuple),
                     reference=st.lists(CURVE_VALUE, max_size=12).map(tuple),
                     step=st.integers(1, 10**6))


def make_tests(text: st.SearchStrategy[str]) -> st.SearchStrategy[TestResult]:
    return st.builds(
        TestResult, name=text, description=text, status=st.sampled_from(STATUSES),
        score=ANY_FLOAT, max_score=ANY_FLOAT, message=text, seed=st.integers(0, 2**32 - 1),
        duration_s=ANY_FLOAT, function=text, earlier_test=text, budget_s=ANY_FLOAT,
        worker_s=ANY_FLOAT, curves=st.lists(curves(), max_size=2).map(tuple))


def submission_results(text: st.SearchStrategy[str]) -> st.SearchStrategy[SubmissionResult]:
    return st.builds(
        SubmissionResult, student=text, assignment=st.sampled_from(["activations", "backprop"]),
        path=st.none() | text, tests=st.lists(make_tests(text), max_size=3).map(tuple),
        max_score=ANY_FLOAT, error=st.none() | text, notes=st.lists(text, max_size=2).map(tuple),
        output=text, duration_s=ANY_FLOAT, matched_by=text, grader_error=st.booleans())


def runs(text: st.SearchStrategy[str]) -> st.SearchStrategy[RunResult]:
    return st.builds(RunResult, results=st.lists(submission_results(text), min_size=1,
                                                 max_size=3).map(tuple),
                     unrecognized=st.lists(st.tuples(text, text), max_size=2).map(tuple),
                     sandbox=text, duration_s=ANY_FLOAT)


#: Text as the grader has it after the edge (grader.core.text.valid): any valid Unicode.
VALID_TEXT = ANY_TEXT.map(valid)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


# slow: each example writes a whole run's reports (about 12 s each here; a follow-up)
@pytest.mark.slow
@FEW
@given(run=runs(VALID_TEXT))
def test_every_writer_takes_any_valid_text_and_any_float(run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = write_reports(run, out, titles={"activations": "Activations"})
    assert paths.run is not None
    # the run as reported keeps the run's order (the gradebook's columns follow it)
    assert [r.grader_error for r in paths.run.results] == [r.grader_error for r in run.results]
    assert len(_csv_rows(paths.grades_csv)) == len(run.results)
    for file in paths.files:
        file.read_bytes().decode("utf-8")  # every report is valid UTF-8
    for submission in paths.submissions:
        json.loads(submission.results_json.read_text(encoding="utf-8"))
    table = score_table(run)
    table.encode("utf-8")
    assert "\x1b" not in table
    total = sum(r.score for r in run.results)
    feedback = {(s.student, s.assignment): s.feedback_md for s in paths.submissions}
    summary_markdown(run, total, 100.0, feedback, COURSE).encode("utf-8")
    json.dumps(classroom_result(run, 100.0, False)).encode("utf-8")
    lines: list[str] = []
    outcome = CiOutcome(run, "student", total, 100.0, False, 0, out / "s.md", out / "c.json")
    _echo_summary(outcome, lines.append, paused=True)
    "\n".join(lines).encode("utf-8")


@FEW
@given(run=runs(ANY_TEXT))
def test_any_text_at_all_never_stops_the_reports(run: RunResult, tmp_path: Path) -> None:
    """Text that skipped the edge (a lone surrogate): the submission is contained (its row
    says error), every row and file is still written, and all of it is valid UTF-8."""
    paths = write_reports(run, tmp_path / "out")
    assert len(_csv_rows(paths.grades_csv)) == len(run.results)
    for file in paths.files:
        file.read_bytes().decode("utf-8")


@FEW
@given(result=submission_results(ANY_TEXT))
def test_the_cache_keeps_a_result_exactly_or_not_at_all(result: SubmissionResult) -> None:
    with tempfile.TemporaryDirectory() as tmp:  # each example its own folder
        _cache_round_trip(result, Path(tmp))


def _cache_round_trip(result: SubmissionResult, tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "out")
    job = Job(valid(result.student) or "s", ACTIVATIONS, tmp_path / "a.ipynb")
    result = SubmissionResult(**{**result.__dict__, "student": job.student,
                                 "assignment": "activations"})
    stored = cache.put(job, "k", result)
    back = cache.get(job, "k")
    if stored is None:
        assert back is None and cache.entries() == []
        return
    assert back is not None and back.student == job.student
    assert json.dumps(result_to_dict(back)) == json.dumps(
        result_to_dict(SubmissionResult(**{**result.__dict__, "path": str(job.path)})))


@FEW
@given(entry=st.binary(max_size=200) | ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_in_a_cache_entry_read_as_no_entry(entry: bytes, tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "out")
    job = Job("s", ACTIVATIONS, tmp_path / "a.ipynb")
    path = cache.root / "s" / "activations" / "k.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(entry)
    assert cache.get(job, "k") is None or cache.get(job, "k").student == "s"


NAME_BYTES = st.binary(min_size=1, max_size=20).filter(
    lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b".."))


@FEW
@given(names=st.lists(NAME_BYTES, min_size=1, max_size=4, unique=True))
def test_display_names_are_valid_distinct_and_keep_utf8_names(names: list[bytes]) -> None:
    shown = [display_name(os.fsdecode(n)) for n in names]
    for raw, name in zip(names, shown, strict=True):
        name.encode("utf-8")
        try:
            assert name == raw.decode("utf-8")  # a UTF-8 name is shown as it is
        except UnicodeDecodeError:
            assert "\ufffd" in name and "~" in name
    assert len(set(shown)) == len(shown)
    display_path(os.fsdecode(b"/".join(names))).encode("utf-8")


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAME_BYTES.filter(lambda b: not b.startswith(b".")), min_size=1,
                      max_size=3, unique=True),
       file=NAME_BYTES.filter(lambda b: not b.startswith(b".")))  # a dot-file is hidden: ignored
def test_discovery_names_any_folder_and_file_with_valid_text(names: list[bytes], file: bytes,
                                                            tmp_path_factory) -> None:
    root = tmp_path_factory.mktemp("names")
    for name in names:
        folder = os.path.join(os.fsencode(root), name)
        os.mkdir(folder)
        with open(os.path.join(folder, file + b"_activations.py"), "w") as handle:
            handle.write("def relu(x):\n    return x\n")
    found = discover(root, COURSE.assignments)
    assert len(found.students) == len(names) == len(set(found.students))
    for student in found.students:
        student.encode("utf-8")
    assert {s.student for s in found.submissions} == set(found.students)
    for submission in found.submissions:
        assert submission.path.is_file()  # the real bytes still open the file
        display_path(submission.path).encode("utf-8")


@settings(max_examples=40, deadline=None)
@given(curve=curves(), title=VALID_TEXT)
def test_a_loss_curve_draws_any_floats(curve: Curve, title: str) -> None:
    picture = loss_curve(curve, title)
    assert picture.uri.startswith("data:image/svg+xml;base64,")
    ElementTree.fromstring(base64.b64decode(picture.uri.split(",", 1)[1]))  # well-formed
    for value in (*curve.student, *curve.reference):
        assert value is None or isinstance(value, float)


@settings(max_examples=100, deadline=None)
@given(scores=st.lists(ANY_FLOAT, max_size=8), top=ANY_FLOAT, title=VALID_TEXT)
def test_a_histogram_draws_any_scores(scores: list[float], top: float, title: str) -> None:
    picture = score_histogram(scores, top, title)
    assert picture.uri.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(picture.uri.split(",", 1)[1]).decode("utf-8")
    root = ElementTree.fromstring(svg)  # well-formed whatever the title holds
    for element in root.iter():  # every coordinate a finite number, whatever the scores
        for name in ("x", "y", "width", "height", "x1", "x2", "y1", "y2"):
            if name in element.attrib:
                assert math.isfinite(float(element.attrib[name])), (name, element.attrib)
    counted = picture.alt.rsplit(": ", 1)[1]
    assert sum(map(int, counted.split(", "))) == sum(1 for s in scores if not math.isnan(s))

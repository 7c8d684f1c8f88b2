"""`grade validate` flags a hidden suite that trusts the worker (issue 23, grader.suite.trust):
a planted suite with each bad form, beside the good forms it must leave alone."""

from __future__ import annotations

from pathlib import Path

from grader.core.course import DEFAULT_ROOT, load_course
from grader.suite.trust import trusting

PLANTED = '''import numpy as np
from grader.suite import check, check_close


def ref_loss(params, x, y):
    return float(np.mean((x @ params - y) ** 2))


def student_train(student, x, y):
    return student.train(x, y)


def test_train__loss_decreases(student, rng):
    x, y = rng.normal(size=(4, 2)), rng.normal(size=4)
    params, losses = student_train(student, x, y)
    check(losses[-1] < losses[0], "the loss must fall")                  # bad: line 16
    end = ref_loss(params, x, y)
    start = ref_loss(np.zeros(2), x, y)
    check(end < 0.5 * start, "the loss of your params must halve")     # good: grader's


def test_forward__values(student, rng):
    x = rng.normal(size=3)
    got = student.forward(x)
    want = student.forward(x)
    check_close(got, want, name="forward(x)")                           # bad: line 26
    check_close(got, np.tanh(x), name="forward(x)")                     # good
    assert student.forward(x).shape == x.shape                          # good: x is ours
    assert student.EXPECTED == got                                      # bad: line 29, global
    check(np.allclose(student.get("ANSWER"), got), "")                  # bad: line 30, twice
    for (w, b), (rw, rb) in zip(params_of(student), [(1.0, 2.0)]):
        check_close(w, rw, name="w")                                    # good: rw is ours
    assert student.forward(x) is not None                               # good: identity


def params_of(student):
    return student.call("params")
'''


def test_each_bad_form_is_flagged_and_the_good_ones_are_not(tmp_path: Path) -> None:
    suite = tmp_path / "test_planted.py"
    suite.write_text(PLANTED)
    found = trusting(suite, ("train", "forward"))
    assert [line.split(":")[0] for line in found] == \
        ["line 16", "line 26", "line 29", "line 29", "line 30", "line 30"], found
    assert found[0] == ("line 16: test_train__loss_decreases: compares values that all come "
                        "from the student's process; compare with a value the grader computed")
    assert any(line.startswith("line 29: test_forward__values: reads student.EXPECTED")
               for line in found)
    assert any(line.startswith("line 30: test_forward__values: reads student.get('ANSWER')")
               for line in found)


def test_the_courses_own_suites_decide_on_grader_side_facts() -> None:
    for assignment in load_course(DEFAULT_ROOT).assignments:
        assert trusting(assignment.hidden_suite, assignment.functions) == [], assignment.id

"""`grade collect`: the grading runner's records (folders and artifact zips) into one gradebook,
the latest grading per student and assignment counting, bad records skipped with a reason."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from helpers.records import A, B, C, as_folder, as_zip, record_files

from grader.commands.collect import CollectRequest, collect
from grader.core.course import DEFAULT_ROOT, Course, load_course
from grader.integrations.collect import MAX_FILE_BYTES

COURSE = load_course(DEFAULT_ROOT)
def run(tmp_path: Path, roster: Path | None = None) -> tuple[list[dict[str, str]], list[str]]:
    said: list[str] = []
    out = tmp_path / "gradebook.csv"
    collect(CollectRequest(records=(tmp_path / "records",), out=out, roster=roster), COURSE,
            echo=said.append)
    return list(csv.DictReader(out.open(encoding="utf-8"))), said


def test_latest_grading_per_student_and_assignment_counts(tmp_path: Path) -> None:
    records = tmp_path / "records"
    t = "2026-10-01T{:02d}:00:00Z".format
    as_folder(records / "1", record_files("alice", A, t(10), t(10), {"activations": 50}))
    as_zip(records / "2.zip", record_files("alice", B, t(11), t(11), {"activations": 80,
                                                                      "forward": 30}))
    # a regrade of the older commit A, finished last: still A's turn at 10:00 counts
    as_zip(records / "3.zip", record_files("alice", A, t(10), t(15), {"activations": 50},
                                           run_id=3))
    # the newest grading of alice failed: it never replaces a score
    as_zip(records / "4.zip", record_files("alice", C, t(12), t(12), {"activations": 0},
                                           outcome="failure", run_id=4))
    as_zip(records / "deep" / "er" / "5.zip", record_files("Bob", C, t(9), t(9),
                                                           {"training": 70.5}))
    rows, said = run(tmp_path)
    assert [(r["student"], r["activations"], r["forward"], r["training"], r["total"],
             r["graded_at"]) for r in rows] == [
        ("alice", "80", "30", "0", "110", t(11)),
        ("Bob", "0", "0", "70.5", "70.5", t(9))]
    assert list(rows[0]) == ["student", "activations", "forward", "backprop", "training",
                             "total", "graded_at"]
    assert any("alice: the newest grading (cccccccccccc, run 4) did not finish (failure)" in s
               for s in said)
    assert said[-1].startswith("Collected 5 records (0 skipped)")


def test_bad_records_are_skipped_with_a_reason_and_cost_nobody(tmp_path: Path) -> None:
    records = tmp_path / "records"
    t = "2026-10-01T{:02d}:00:00Z".format
    as_zip(records / "good.zip", record_files("alice", A, t(10), t(10), {"forward": 90}))
    as_zip(records / "error.zip", record_files("bob", A, t(10), t(10), {"forward": 0},
                                               broken="forward"))
    bad_sha = record_files("carl", "HEAD", t(10), t(10), {"forward": 100})
    as_zip(records / "sha.zip", bad_sha)
    as_zip(records / "json.zip", {"record.json": b"{not json"})
    huge = record_files("dan", A, t(10), t(10), {"forward": 100})
    huge["dan/forward/results.json"] = b" " * (MAX_FILE_BYTES + 1)
    as_zip(records / "huge.zip", huge)
    escape = record_files("eve", A, t(10), t(10), {})
    escape["../eve/forward/results.json"] = escape["eve/../eve/forward/results.json"] = \
        json.dumps({"score": 100, "max_score": 100, "tests": []}).encode()
    as_zip(records / "escape.zip", escape)
    lying = record_files("fay", A, t(10), t(10), {"forward": 100})
    lying["fay/forward/results.json"] = json.dumps({"score": 900, "max_score": 100,
                                                    "tests": []}).encode()
    as_zip(records / "lying.zip", lying)
    (records / "torn.zip").write_bytes(b"PK\x03\x04 not really")
    rows, said = run(tmp_path)
    assert [(r["student"], r["forward"]) for r in rows] == [("alice", "90")]
    skipped = "\n".join(s for s in said if s.startswith("skipped: "))
    for name, reason in (("error.zip", "the grader failed on this submission"),
                         ("sha.zip", "bad sha"), ("json.zip", "not JSON"),
                         ("huge.zip", "larger than"), ("lying.zip", "bad score"),
                         ("torn.zip", "not a readable zip")):
        assert f"{name}: " in skipped and reason in skipped, name
    assert said[-1].startswith("Collected 2 records (6 skipped)")  # eve: a record, no scores


def test_roster_rows_zeros_and_safe_cells(tmp_path: Path) -> None:
    records = tmp_path / "records"
    t = "2026-10-01T{:02d}:00:00Z".format
    as_folder(records / "x", record_files("Dave", A, t(10), t(10), {"backprop": 64}))
    as_folder(records / "y", record_files("zed", A, t(10), t(10), {"backprop": 10}))
    roster = tmp_path / "roster.csv"  # Classroom 50's form
    roster.write_text("username,first_name,last_name,email,section,github_id,role\n"
                      "carol,=HYPERLINK(\"http://x\"),,c@x,,,student\n"
                      "dave,Dave,D,d@x,,,student\nprof,P,Q,p@x,,,instructor\n")
    rows, said = run(tmp_path, roster)
    assert [(r["student"], r["name"], r["email"], r["lms_id"], r["backprop"], r["total"])
            for r in rows] == [("carol", "'=HYPERLINK(\"http://x\")", "c@x", "", "0", "0"),
                               ("dave", "Dave D", "d@x", "", "64", "64"),
                               ("zed", "", "", "", "10", "10")]
    assert any("zed: graded but not in the roster" in s for s in said)



def deadline_course(tmp_path: Path, counts: str) -> Course:
    """A copy of this course's assignment metadata with due dates, a [late] policy (10% per
    started day, not accepted after 2 days) and an overrides.csv."""
    root = tmp_path / "course"
    for index, assignment in enumerate(("activations", "forward")):
        meta = DEFAULT_ROOT / "assignments" / assignment / "assignment.toml"
        (root / "assignments" / assignment).mkdir(parents=True)
        due = f'due = "2026-10-{5 + 7 * index:02d}T23:59:00+02:00"\n'
        (root / "assignments" / assignment / "assignment.toml").write_text(
            due + meta.read_text())
    (root / "course.toml").write_text("[late]\npenalty_per_day = 10\nmax_days = 2\n"
                                      f'counts = "{counts}"\n')
    (root / "overrides.csv").write_text("student,assignment,points,reason,who\n"
                                        "bob,forward,99,regrade request,Dr. Smith\n")
    return load_course(root)


def test_collect_picks_the_submission_the_policy_says_counts(tmp_path: Path) -> None:
    t = "2026-10-{}:00:00Z".format  # activations is due 10-05 21:59Z, forward 10-12 21:59Z
    files = [record_files("alice", A, t("05T20"), t("05T20"), {"activations": 60}),  # on time
             # 22 h late, 62 - 10% = 55.8
             record_files("alice", B, t("06T20"), t("06T20"), {"activations": 62}, run_id=2),
             # the latest push, 2 days 12 h late: past the cutoff, never counts
             record_files("alice", C, t("08T10"), t("08T10"), {"activations": 100}, run_id=3),
             record_files("bob", A, t("12T10"), t("12T10"), {"forward": 40}, run_id=4)]
    for counts, alice, note in (
            ("last", "55.8", "activations: handed in 22 h after the due date: -10%"),
            ("best", "60", "")):
        course = deadline_course(tmp_path / counts, counts)
        for index, record in enumerate(files):
            as_folder(tmp_path / counts / "records" / str(index), record)
        out = tmp_path / counts / "gradebook.csv"
        collect(CollectRequest(records=(tmp_path / counts / "records",), out=out), course,
                echo=lambda line: None)
        rows = {r["student"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
        assert (rows["alice"]["activations"], rows["alice"]["notes"]) == (alice, note), counts
        assert rows["bob"]["forward"] == "99" and rows["bob"]["total"] == "99"
        assert rows["bob"]["notes"] == ("forward: handed in on time (due 2026-10-12 23:59 "
                                        "+02:00); score set to 99 by Dr. Smith: regrade request")


def test_collect_uses_the_autograde_of_a_record_graded_with_a_penalty(tmp_path: Path) -> None:
    course = deadline_course(tmp_path, "last")
    files = record_files("alice", A, "2026-10-05T20:00:00Z", "2026-10-05T20:00:00Z",
                         {"activations": 45})
    document = json.loads(files["alice/activations/results.json"])
    document["extra_data"] = {"raw_score": 50}  # grade ci took 10% off; collect decides again
    files["alice/activations/results.json"] = json.dumps(document).encode()
    as_folder(tmp_path / "records" / "1", files)
    out = tmp_path / "gradebook.csv"
    collect(CollectRequest(records=(tmp_path / "records",), out=out), course,
            echo=lambda line: None)
    [alice] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert alice["activations"] == "50"  # on time by the runner's clock

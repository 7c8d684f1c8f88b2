"""Rosters for --roster: the course contract's form and Classroom 50's roster.csv (students.csv
before it was renamed), turned into one list of RosterEntry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.core.errors import ConfigError
from grader.core.roster import RosterEntry, classroom50_roster, read_roster


def test_classroom50_roster_becomes_the_contract_roster(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffusername,first_name,last_name,email,section,github_id,role\n"
                      "Alice-W,Alice,Wong,alice@uni.edu,A,101,student\n"
                      "prof-x,Xavier,Prof,x@uni.edu,,7,instructor\n"
                      "bob,,,,B,102,\n"
                      "ta-tom,Tom,T,t@uni.edu,,8,ta\n"
                      "\"carol\",\"Carol, Jr.\",\"=1+1\",c@uni.edu,A,103,student\n",
                      encoding="utf-8")
    expected = (RosterEntry("alice-w", "Alice Wong", "alice@uni.edu"),
                RosterEntry("bob", "", ""),
                RosterEntry("carol", "Carol, Jr. =1+1", "c@uni.edu"))
    assert classroom50_roster(roster) == expected
    assert read_roster(roster) == expected
    legacy = tmp_path / "students.csv"  # the name before Classroom 50 renamed it
    legacy.write_text("username,first_name,last_name,email,section,github_id\nbob,,,,,\n")
    assert read_roster(legacy) == (RosterEntry("bob"),)


def test_contract_roster_and_bad_rosters(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name,email,lms_id\nalice,Alice W,a@x,S1\nbob,,,\n")
    assert read_roster(roster) == (RosterEntry("alice", "Alice W", "a@x", "S1"),
                                   RosterEntry("bob"))
    cases = {"name,email\nAlice,a@x\n": "needs a 'student' column",
             "student,name\nalice,A\nalice,B\n": "roster.csv:3: student 'alice' is listed twice",
             "student,name\n,A\n": "roster.csv:2: a roster row without a student",
             "username,role\nbob,student\nBOB,student\n": "listed twice"}
    for text, message in cases.items():
        roster.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(message)):
            read_roster(roster)
    roster.write_text("student\nalice\n")
    with pytest.raises(ConfigError, match="not a Classroom 50 roster"):
        classroom50_roster(roster)
    roster.write_bytes(b"student\n\xff\xfe\n")
    with pytest.raises(ConfigError, match="roster.csv: cannot read"):
        read_roster(roster)

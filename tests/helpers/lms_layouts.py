"""The demo class as each LMS hands it out: builders for the layouts `grade SOURCE` reads.

File and folder names follow the LMSs' own documentation: Canvas "Download submissions"
renames each file ``<sortable name, lowercased, no spaces or punctuation>[_LATE]_<user id>_
<submission id>_<original name>`` in one flat zip; Moodle "Download all submissions" gives a
folder ``<Full Name>_<participant id>_assignsubmission_file_`` per participant; a Gradescope
export has ``submission_metadata.yml`` and a ``submission_<id>/`` folder per submission; a
folder of git checkouts has one repository ``<prefix>-<login>/`` per student.
"""

from __future__ import annotations

import csv
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.core.course import DEFAULT_ROOT

DEMO = DEFAULT_ROOT / "demo" / "submissions"


@dataclass(frozen=True)
class Person:
    login: str  # the demo folder's name
    first: str
    last: str
    canvas_id: int
    sis_id: str
    moodle_id: int  # Moodle's participant id (per assignment)

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def sortable(self) -> str:
        return f"{self.last}, {self.first}"

    @property
    def email(self) -> str:
        return f"{self.login}@uni.example"


CLASS = (
    Person("alice", "Alice", "Anderson", 1001, "S-01", 5301),
    Person("bob", "Bob", "Brown", 1002, "S-02", 5302),
    Person("carol", "Carol", "Chen", 1003, "S-03", 5303),
    Person("dave", "Dave", "Di Marco", 1004, "S-04", 5304),
    Person("erin", "Erin", "O'Neil", 1005, "S-05", 5305),
    Person("frank", "Frank", "Fischer-Lee", 1006, "S-06", 5306),
)
#: Bob handed in late: Canvas marks his files LATE.
LATE = {"bob"}


def canvas_slug(person: Person) -> str:
    """Canvas's name part: the sortable name lowercased, without spaces or punctuation."""
    return "".join(ch for ch in person.sortable.lower() if ch.isalnum())


def people(who: tuple[str, ...] = ()) -> tuple[Person, ...]:
    return tuple(p for p in CLASS if not who or p.login in who)


def _files(person: Person, only: tuple[str, ...] = ()) -> list[Path]:
    return sorted(p for p in (DEMO / person.login).iterdir()
                  if not only or any(a in p.name.lower() for a in only))


def canvas_download(target: Path, only: tuple[str, ...] = (), who: tuple[str, ...] = ()
                    ) -> Path:
    target.mkdir(parents=True)
    for n, person in enumerate(people(who)):
        late = "_LATE" if person.login in LATE else ""
        for k, path in enumerate(_files(person, only)):
            submission = 77000 + 10 * n + k
            name = f"{canvas_slug(person)}{late}_{person.canvas_id}_{submission}_{path.name}"
            shutil.copyfile(path, target / name)
    return target


def moodle_download(target: Path, only: tuple[str, ...] = (), who: tuple[str, ...] = ()
                    ) -> Path:
    target.mkdir(parents=True)
    for person in people(who):
        folder = target / f"{person.full}_{person.moodle_id}_assignsubmission_file_"
        folder.mkdir()
        for path in _files(person, only):
            shutil.copyfile(path, folder / path.name)
    return target


def gradescope_export(target: Path, only: tuple[str, ...] = (), who: tuple[str, ...] = ()
                      ) -> Path:
    target.mkdir(parents=True)
    lines = []
    for n, person in enumerate(people(who)):
        key = f"submission_{24000 + n}"
        (target / key).mkdir()
        for path in _files(person, only):
            shutil.copyfile(path, target / key / path.name)
        lines += [f"{key}:", "  :submitters:", f"  - :name: {person.full}",
                  f"    :sid: '{person.sis_id}'", f"    :email: {person.email}",
                  f"  :created_at: 2026-11-0{n + 1} 10:15:00.000000000 +01:00",
                  "  :score: 0.0", "  :status: processed"]
    (target / "submission_metadata.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def git_checkouts(target: Path, only: tuple[str, ...] = (), who: tuple[str, ...] = ()
                  ) -> Path:
    target.mkdir(parents=True)
    for person in people(who):
        repo = target / f"nn-course-lab-{person.login}"
        (repo / ".git").mkdir(parents=True)
        (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
        for path in _files(person, only):
            shutil.copyfile(path, repo / path.name)
    return target


def per_student(target: Path, only: tuple[str, ...] = (), who: tuple[str, ...] = ()
                ) -> Path:
    target.mkdir(parents=True)
    for person in people(who):
        (target / person.login).mkdir()
        for path in _files(person, only):
            shutil.copyfile(path, target / person.login / path.name)
    return target


def zipped(folder: Path, archive: Path, wrap: str = "") -> Path:
    """``folder`` as the zip the LMS gives (inside ``wrap/`` when given)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, (Path(wrap) / path.relative_to(folder)).as_posix())
    return archive


def contract_roster(target: Path) -> Path:
    """The course contract's roster: student (the login), name, email, lms_id (Canvas id)."""
    lines = ["student,name,email,lms_id"]
    lines += [f"{p.login},{p.full},{p.email},{p.canvas_id}" for p in CLASS]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


#: Canvas assignment ids of the course's assignments (the columns ``Title (id)``)
CANVAS_ASSIGNMENTS = {"activations": 4242, "forward": 4243, "backprop": 4244, "training": 4245}


def canvas_gradebook_export(target: Path) -> Path:
    """A Canvas gradebook export as Canvas writes it (lib/gradebook_exporter.rb): Student,
    ID, SIS User ID, SIS Login ID, Section, ``Name (id)`` assignment columns, Canvas's own
    score columns; the ``    Points Possible`` row second; Canvas's test student included."""
    titles = [f"{name.capitalize()} ({number})" for name, number in CANVAS_ASSIGNMENTS.items()]
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles,
              "Current Score", "Unposted Current Score", "Final Score"]
    rows = [header, ["    Points Possible", "", "", "", "", *["100.00"] * 4, "", "", ""]]
    rows += [[p.sortable, str(p.canvas_id), p.sis_id, p.login, "NN 101 A", *[""] * 4,
              "", "", ""] for p in CLASS]
    rows.append(["Student, Test", "1099", "", "", "NN 101 A", *[""] * 4, "", "", ""])
    with target.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    return target


def moodle_participants(target: Path) -> Path:
    """Moodle's participants page, "Download table data as" CSV (with the ID number and
    e-mail identity fields shown), a teacher included."""
    rows = [["First name", "Last name", "ID number", "Email address", "Roles", "Groups",
             "Last access to course"]]
    rows += [[p.first, p.last, p.sis_id, p.email, "Student", "No groups", "1 day"]
             for p in CLASS]
    rows.append(["Tess", "Teacher", "", "tess@uni.example", "Teacher", "No groups", "now"])
    with target.open("w", newline="", encoding="utf-8-sig") as out:
        csv.writer(out).writerows(rows)
    return target

"""Grade the mutants grader.commands.mutation derives from the reference, and score the suite.

Each mutant is written as a ``.py`` file and graded like a hand-written one (grade_job, in the
validation's sandbox), but only the tests of the function it mutates run (no other test can
kill it). It is killed when one of them fails, crashes or times out. Each survivor's mirror
(grader.commands.mirror) is graded next, on every test: when the mirror passes, the mutant gave
the reference's outputs on every input of the tests and on random probes, and it is
*equivalent*: named apart and left out of the score. The mutation score of a function is
killed / (made - equivalent); the course's ``[validate] mutation_score`` in ``course.toml`` (a
percentage, default 0: reported, not required) applies to each assignment as a whole.
"""

from __future__ import annotations

import ast
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.commands.consistency import caught, function_of
from grader.commands.mirror import differs, mirror_source
from grader.commands.mutation import DEFAULT_CAP, Mutant, generate
from grader.core.course import Assignment
from grader.core.errors import ConfigError
from grader.core.results import ERROR, TIMED_OUT, SubmissionResult

COURSE_FILE = "course.toml"

#: grade(name, path, select): grade_job on the file, running the tests ``select`` accepts.
Grade = Callable[[str, Path, Callable[[str], bool] | None], SubmissionResult]


@dataclass(frozen=True)
class FunctionScore:
    """The generated mutants of one contract function and what became of them."""

    function: str
    made: int = 0
    killed: int = 0
    equivalent: tuple[Mutant, ...] = ()
    surviving: tuple[Mutant, ...] = ()

    @property
    def counted(self) -> int:
        return self.made - len(self.equivalent)

    @property
    def score(self) -> float:
        """Percent of the non-equivalent mutants killed (100 when there are none)."""
        return 100.0 * self.killed / self.counted if self.counted else 100.0


@dataclass(frozen=True)
class GeneratedScore:
    """Every function's score, the course's requirement, and the seconds it took."""

    functions: tuple[FunctionScore, ...] = ()
    required: float = 0.0
    seconds: float = 0.0
    errors: tuple[str, ...] = field(default=())

    def total(self, what: str) -> int:
        return sum(getattr(f, what) if what in ("made", "killed", "counted")
                   else len(getattr(f, what)) for f in self.functions)

    @property
    def score(self) -> float:
        counted = self.total("counted")
        return 100.0 * self.total("killed") / counted if counted else 100.0

    @property
    def ok(self) -> bool:
        return self.score >= self.required and not self.errors


def required_score(course_root: Path) -> float:
    """``[validate] mutation_score`` of the course's course.toml, in percent (0 if unset)."""
    path = course_root / COURSE_FILE
    if not path.is_file():
        return 0.0
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("validate", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from None
    value = table.get("mutation_score", 0) if isinstance(table, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ConfigError(f"{path}: [validate] mutation_score must be a percentage from 0 to "
                          f"100, not {value!r}")
    return float(value)


def score_generated(assignment: Assignment, reference_source: str, grade: Grade,
                    required: float = 0.0, cap: int = DEFAULT_CAP,
                    generous: Grade | None = None) -> GeneratedScore:
    """Make, grade and classify the generated mutants of every contract function.

    ``grade`` gives students' time budgets, so a mutant that loops for ever costs seconds;
    ``generous`` (default ``grade``) has validate's own long limit: it grades the mirrors (they
    run the code twice and more) and regrades a mutant that only timed out, so a slow moment
    of a loaded machine kills nothing."""
    started = time.monotonic()
    mutants = generate(reference_source, assignment.functions, cap)
    classes = _class_names(reference_source)
    outcome: dict[str, str] = {}
    errors = []
    with tempfile.TemporaryDirectory(prefix=f"mutants-{assignment.id}-") as folder:
        for mutant in mutants:
            path = _write(Path(folder), mutant.name, mutant.source)
            result = grade(mutant.name, path, _tests_of(mutant.function))
            if _only_timed_out(result) and generous is not None:
                result = generous(mutant.name, path, _tests_of(mutant.function))
            errors += [f"{mutant.name}: {t.name}: {t.message}" for t in result.tests
                       if t.status == ERROR]
            if caught(result, {mutant.function}):
                outcome[mutant.name] = "killed"
            elif mutant.function in classes:
                outcome[mutant.name] = "surviving"  # classes are not mirrored
            else:
                mirror = mirror_source(reference_source, mutant.source, assignment.functions)
                path = _write(Path(folder), f"{mutant.name}_mirror", mirror)
                # every test of the suite: a difference anywhere counts
                graded = (generous or grade)(f"{mutant.name}-mirror", path, None)
                outcome[mutant.name] = "surviving" if differs(graded) else "equivalent"
    scores = []
    for function in assignment.functions:
        mine = [m for m in mutants if m.function == function]
        scores.append(FunctionScore(
            function, made=len(mine),
            killed=sum(outcome[m.name] == "killed" for m in mine),
            equivalent=tuple(m for m in mine if outcome[m.name] == "equivalent"),
            surviving=tuple(m for m in mine if outcome[m.name] == "surviving")))
    return GeneratedScore(tuple(scores), required, round(time.monotonic() - started, 1),
                          tuple(errors))


def _only_timed_out(result: SubmissionResult) -> bool:
    lost = [t for t in result.tests if t.score < t.max_score]
    return bool(lost) and all(t.status == TIMED_OUT for t in lost)


def _tests_of(function: str) -> Callable[[str], bool]:
    """Accepts the names of the tests of ``function``: only they can kill its mutants."""
    return lambda test: function_of(test.split("[")[0]) == function


def _write(folder: Path, stem: str, source: str) -> Path:
    path = folder / f"{stem}.py"
    path.write_text(source, encoding="utf-8")
    return path


def _class_names(source: str) -> set[str]:
    return {node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)}


def report_lines(generated: GeneratedScore) -> list[str]:
    """Per function: made, killed, equivalent, surviving and the score; each survivor's diff."""
    lines = [f"  generated mutants: {generated.total('made')} made, "
             f"{generated.total('killed')} killed, {generated.total('equivalent')} equivalent, "
             f"{generated.total('surviving')} surviving: score {generated.score:.0f}% "
             f"(course requires {generated.required:g}%) in {generated.seconds:g} s"]
    for f in generated.functions:
        lines.append(f"    {f.function:<20} {f.made:>3} made {f.killed:>3} killed "
                     f"{len(f.equivalent):>3} equivalent {len(f.surviving):>3} surviving  "
                     f"{f.score:.0f}%")
    for f in generated.functions:
        for mutant in f.equivalent:
            lines.append(f"  equivalent (not counted): {mutant.name}: {mutant.description}")
        for mutant in f.surviving:
            lines.append(f"  survived: {mutant.name}: {mutant.description}")
            lines += [f"    {line}" for line in mutant.diff.splitlines()]
    lines += [f"  grader error: {line}" for line in generated.errors]
    return lines

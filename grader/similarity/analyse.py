"""One assignment's similarity: every pair of students scored, the top pairs with regions.

A student's score against another is the higher of the two sides' shares (copydetect ranks
pairs the same way): the part of one student's own code, beyond the boilerplate, that the
other has too. A student with several files for one assignment is compared through each; the
best-matching file of each side counts, and is named.

:func:`analyse` is a pure function of plain data (paths in, scores out), so it can run in a
worker process: copydetect's hashes depend on the process's hash seed, so everything of one
assignment happens in one process, started with a fixed ``PYTHONHASHSEED``
(:func:`grader.similarity.run.analyse_all`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from grader.core.course import Assignment
from grader.core.errors import ExtractionError
from grader.similarity.code import boilerplate_texts, submission_code
from grader.similarity.fingerprint import (
    MAX_FILTERED,
    NO_OVERLAP,
    Fingerprint,
    Overlap,
    boilerplate_hashes,
    fingerprint,
    match_numbers,
    overlap,
    shared_regions,
    without,
)
from grader.similarity.hidden import examine

#: Graded code longer than this many characters is compared only up to it: pygments takes a
#: few seconds for that much, and a pasted megabyte of data is not code anyone copied.
MAX_CODE_CHARS = 50_000
#: Width of a histogram bin, in score percent.
BIN_WIDTH = 5
#: With ``common_percent``, code is common only when more than this many students have it
#: (MOSS's -m default), so a few copies in a small class still stand out.
MIN_COMMON = 10


@dataclass(frozen=True)
class AssignmentJob:
    """What to compare: the assignment, its (student, path, label) files, and how many top
    pairs to show. The label names the file in the reports (``student/notebook.ipynb``).
    With ``common_percent``, code that more than that share of the students have (and more
    than MIN_COMMON) is dropped like boilerplate (MOSS's -m); off by default, because a
    solution passed round that many students would then vanish from the report."""

    assignment: Assignment
    files: tuple[tuple[str, Path, str], ...]
    top: int
    common_percent: float | None = None


@dataclass(frozen=True)
class Pair:
    """Two students' score (percent) and shares; ``a`` sorts before ``b``."""

    student_a: str
    student_b: str
    score: float
    share_a: float
    share_b: float
    lines_a: int
    lines_b: int
    file_a: str
    file_b: str


@dataclass(frozen=True)
class Side:
    """One side of a shown pair: its graded code split into lines of (text, match) runs; match
    0 is code not shared, 1, 2, ... number the shared regions (the same number on the other
    side: the region it matches)."""

    student: str
    file: str
    lines: tuple[tuple[tuple[str, int], ...], ...]


@dataclass(frozen=True)
class ShownPair:
    rank: int
    pair: Pair
    a: Side
    b: Side


@dataclass(frozen=True)
class Skipped:
    student: str
    file: str
    reason: str


@dataclass(frozen=True)
class AssignmentSimilarity:
    """Everything the reports need about one assignment."""

    assignment: str
    title: str
    students: int
    pairs: tuple[Pair, ...]  # every pair of compared students, best first
    shown: tuple[ShownPair, ...]
    histogram: tuple[int, ...]  # pair counts per BIN_WIDTH-percent bin, 0-5 first
    skipped: tuple[Skipped, ...]
    stub_only: tuple[str, ...]  # students with no code beyond the boilerplate


@dataclass(frozen=True)
class _Document:
    student: str
    file: str
    fingerprint: Fingerprint


def analyse(job: AssignmentJob) -> AssignmentSimilarity:
    """Fingerprint every file of ``job``, score every pair of students, show the top ones."""
    boilerplate = boilerplate_hashes(boilerplate_texts(job.assignment))
    documents, skipped = _fingerprints(job.files, boilerplate)
    students = sorted({d.student for d in documents})
    if job.common_percent is not None:
        limit = common_limit(len(students), job.common_percent)
        documents = _without_common(documents, limit)
    best = _best_pairs(documents)
    pairs = [_pair(a, b, best.get((a, b))) for a, b in combinations(students, 2)]
    pairs.sort(key=_rank_key)
    by_file = {(d.student, d.file): d for d in documents}
    shown = tuple(_shown(rank, pair, by_file) for rank, pair in enumerate(pairs[:job.top], 1)
                  if pair.score > 0)
    stub_only = tuple(s for s in students
                      if all(d.fingerprint.empty for d in documents if d.student == s))
    return AssignmentSimilarity(job.assignment.id, job.assignment.title, len(students),
                                tuple(pairs), shown, histogram(p.score for p in pairs),
                                tuple(skipped), stub_only)


def _fingerprints(files: tuple[tuple[str, Path, str], ...], boilerplate: frozenset[int]
                  ) -> tuple[list[_Document], list[Skipped]]:
    documents, skipped = [], []
    for student, path, label in files:
        try:
            code = submission_code(path)
        except ExtractionError as exc:
            skipped.append(Skipped(student, label, str(exc)))
            continue
        flags, recovered = examine(code)
        if flags:  # code that hides itself: named, and what it runs compared where recovered
            skipped.append(Skipped(student, label, "hides code from the comparison: "
                                   + ", ".join(flags[:6]) + (" ..." if len(flags) > 6 else "")
                                   + ("; the code it runs was recovered and compared"
                                      if recovered else "; the code it runs could not be "
                                      "recovered: read it")))
        if recovered:
            code = f"{code}\n\n{recovered}"
        if len(code) > MAX_CODE_CHARS:
            code = code[:MAX_CODE_CHARS]
            skipped.append(Skipped(student, label, f"graded code over {MAX_CODE_CHARS} "
                                   "characters: only its start was compared"))
        found = fingerprint(code, boilerplate)
        if found.truncated:
            skipped.append(Skipped(student, label, f"over {MAX_FILTERED} characters of code "
                                   "once comments and spaces are gone: only its start was "
                                   "compared"))
        documents.append(_Document(student, label, found))
    return documents, skipped


def common_limit(students: int, percent: float) -> int:
    """Code in more than this many students' files is common, not evidence."""
    return max(MIN_COMMON, int(students * percent / 100))


def _without_common(documents: list[_Document], limit: int) -> list[_Document]:
    """Each document less the fingerprints more than ``limit`` students have: code the whole
    class writes (what the contract dictates, the lecture's formulas) is not copied."""
    holders: dict[int, set[str]] = {}
    for d in documents:
        for h in d.fingerprint.hashes:
            holders.setdefault(h, set()).add(d.student)
    common = {h for h, who in holders.items() if len(who) > limit}
    return [dataclasses.replace(d, fingerprint=without(d.fingerprint, common))
            for d in documents]


def _best_pairs(documents: list[_Document]
                ) -> dict[tuple[str, str], tuple[Overlap, _Document, _Document]]:
    """The best-scoring file pair of each pair of students (keys sorted by student)."""
    best: dict[tuple[str, str], tuple[Overlap, _Document, _Document]] = {}
    for x, y in combinations(documents, 2):
        if x.student == y.student:
            continue
        a, b = (x, y) if x.student < y.student else (y, x)
        found = overlap(a.fingerprint, b.fingerprint)
        key = (a.student, b.student)
        if found is not NO_OVERLAP and (key not in best or _score(found) > _score(best[key][0])):
            best[key] = (found, a, b)
    return best


def _score(found: Overlap) -> float:
    return max(found.share_a, found.share_b)


def _pair(a: str, b: str, best: tuple[Overlap, _Document, _Document] | None) -> Pair:
    if best is None:
        return Pair(a, b, 0.0, 0.0, 0.0, 0, 0, "", "")
    found, doc_a, doc_b = best
    return Pair(a, b, round(100 * _score(found), 1), round(100 * found.share_a, 1),
                round(100 * found.share_b, 1), found.lines_a, found.lines_b, doc_a.file,
                doc_b.file)


def _rank_key(pair: Pair) -> tuple[float, int, str, str]:
    return (-pair.score, -(pair.lines_a + pair.lines_b), pair.student_a, pair.student_b)


def histogram(scores: object) -> tuple[int, ...]:
    """Counts of scores per BIN_WIDTH-percent bin (100 falls in the last bin)."""
    bins = [0] * (100 // BIN_WIDTH)
    for score in scores:  # type: ignore[attr-defined]
        bins[min(int(score // BIN_WIDTH), len(bins) - 1)] += 1
    return tuple(bins)


def _shown(rank: int, pair: Pair, by_file: dict[tuple[str, str], _Document]) -> ShownPair:
    doc_a = by_file[(pair.student_a, pair.file_a)].fingerprint
    doc_b = by_file[(pair.student_b, pair.file_b)].fingerprint
    regions_a, regions_b = shared_regions(doc_a, doc_b)
    numbers_a, numbers_b = match_numbers(doc_a, doc_b, regions_a, regions_b)
    return ShownPair(rank, pair,
                     Side(pair.student_a, pair.file_a,
                          marked_lines(doc_a.raw_code, regions_a, numbers_a)),
                     Side(pair.student_b, pair.file_b,
                          marked_lines(doc_b.raw_code, regions_b, numbers_b)))


def marked_lines(code: str, regions: list[tuple[int, int]], numbers: list[int] | None = None
                 ) -> tuple[tuple[tuple[str, int], ...], ...]:
    """``code`` as lines of (text, match number: 0 outside every region) runs, for the
    side-by-side view; ``numbers``: each region's (default 1 for all)."""
    runs: list[tuple[str, int]] = []
    at = 0
    numbered = sorted(zip(regions, numbers or [1] * len(regions), strict=True))
    for (start, end), number in numbered:
        start, end = max(start, at), min(end, len(code))
        if end <= start:
            continue
        if start > at:
            runs.append((code[at:start], 0))
        runs.append((code[start:end], number))
        at = end
    runs.append((code[at:], 0))
    lines: list[list[tuple[str, int]]] = [[]]
    for text, shared in runs:
        for i, piece in enumerate(text.split("\n")):
            if i:
                lines.append([])
            if piece:
                lines[-1].append((piece, shared))
    return tuple(tuple(line) for line in lines)

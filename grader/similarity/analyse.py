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
from grader.similarity.code import Code, boilerplate_texts, given_lines, line_key, submission
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
#: A line (as written, comments and spacing aside) that more than this share of the students
#: write, and more than MIN_COMMON of them, is the class's common code, not evidence: the
#: lecture's idioms (``x = np.asarray(x, dtype=float)``) and the contract's shape. Half: a
#: lower share also swallowed lines that a few planted copy rings share in the test corpus.
COMMON_LINE_SHARE = 0.5


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
    #: discount given and class-common lines (the default; off only to measure what it does)
    discount: bool = True


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


Line = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Block:
    """The statements of one code cell, in the notebook's order: ``cell`` is its number among
    the code cells (1-based, as Jupyter's In [n] after Restart & Run All; 0: a .py file; -1:
    code recovered from a string it executes), ``numbers`` each line's number in that cell (or
    file)."""

    cell: int
    numbers: tuple[int, ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Side:
    """One side of a shown pair: its graded code split into lines of (text, match) runs; match
    0 is code not shared, 1, 2, ... number the shared regions (the same number on the other
    side: the region it matches). ``blocks``: the same lines by code cell in notebook order
    (``lines`` is then their concatenation, a blank line between statements)."""

    student: str
    file: str
    lines: tuple[Line, ...]
    blocks: tuple[Block, ...] = ()


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
    code: Code = Code("")


@dataclass(frozen=True)
class ReadFile:
    student: str
    file: str
    text: str
    code: Code


def analyse(job: AssignmentJob) -> AssignmentSimilarity:
    """Fingerprint every file of ``job``, score every pair of students, show the top ones."""
    texts = boilerplate_texts(job.assignment)
    boilerplate = boilerplate_hashes(texts)
    read, skipped = _read(job.files)
    given = given_per_file(job, texts, read) if job.discount else {}
    documents, truncated = _fingerprints(read, boilerplate, given)
    skipped += truncated
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


def _read(files: tuple[tuple[str, Path, str], ...]) -> tuple[list[ReadFile], list[Skipped]]:
    read, skipped = [], []
    for student, path, label in files:
        try:
            code = submission(path)
        except ExtractionError as exc:
            skipped.append(Skipped(student, label, str(exc)))
            continue
        text = code.text
        flags, recovered = examine(text)
        if flags:  # code that hides itself: named, and what it runs compared where recovered
            skipped.append(Skipped(student, label, "hides code from the comparison: "
                                   + ", ".join(flags[:6]) + (" ..." if len(flags) > 6 else "")
                                   + ("; the code it runs was recovered and compared"
                                      if recovered else "; the code it runs could not be "
                                      "recovered: read it")))
        if recovered:
            text = f"{text}\n\n{recovered}"
        if len(text) > MAX_CODE_CHARS:
            text = text[:MAX_CODE_CHARS]
            skipped.append(Skipped(student, label, f"graded code over {MAX_CODE_CHARS} "
                                   "characters: only its start was compared"))
        read.append(ReadFile(student, label, text, code))
    return read, skipped


def given_per_file(job: AssignmentJob, texts: list[str], read: list[ReadFile]
           ) -> dict[tuple[str, str], frozenset[int]]:
    """Per file, its lines that are not the student's own evidence: lines of the stub and the
    public tests, a contract function's ``def`` line, and lines more than
    :data:`COMMON_LINE_SHARE` of the class (and more than MIN_COMMON students) write."""
    stub, signature = given_lines(job.assignment, texts)
    keys = {(r.student, r.file): [line_key(line) for line in r.text.split("\n")] for r in read}
    holders: dict[str, set[str]] = {}
    for (student, _), lines in keys.items():
        for key in set(lines):
            holders.setdefault(key, set()).add(student)
    limit = common_limit(len({r.student for r in read}), 100 * COMMON_LINE_SHARE)
    common = {key for key, who in holders.items() if len(who) > limit}
    given = {}
    for r in read:
        lines = r.text.split("\n")
        given[(r.student, r.file)] = frozenset(
            i for i, key in enumerate(keys[(r.student, r.file)])
            if key and (key in stub or key in common or signature.match(lines[i])))
    return given


def _fingerprints(read: list[ReadFile], boilerplate: frozenset[int],
                  given: dict[tuple[str, str], frozenset[int]]
                  ) -> tuple[list[_Document], list[Skipped]]:
    documents, skipped = [], []
    for r in read:
        found = fingerprint(r.text, boilerplate, given=given.get((r.student, r.file),
                                                                 frozenset()))
        if found.truncated:
            skipped.append(Skipped(r.student, r.file, f"over {MAX_FILTERED} characters of code "
                                   "once comments and spaces are gone: only its start was "
                                   "compared"))
        documents.append(_Document(r.student, r.file, found, r.code))
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
    doc_a = by_file[(pair.student_a, pair.file_a)]
    doc_b = by_file[(pair.student_b, pair.file_b)]
    regions_a, regions_b = shared_regions(doc_a.fingerprint, doc_b.fingerprint)
    numbers_a, numbers_b = match_numbers(doc_a.fingerprint, doc_b.fingerprint, regions_a,
                                         regions_b)
    return ShownPair(rank, pair,
                     _side(doc_a, marked_lines(doc_a.fingerprint.raw_code, regions_a,
                                               numbers_a)),
                     _side(doc_b, marked_lines(doc_b.fingerprint.raw_code, regions_b,
                                               numbers_b)))


def _side(doc: _Document, lines: tuple[Line, ...]) -> Side:
    """A side in notebook order: its statements regrouped by code cell (the comparison used
    the canonical order, which no cell layout changes)."""
    blocks = in_notebook_order(lines, doc.code)
    shown: list[Line] = []
    for block in blocks:
        if shown:
            shown.append(())
        shown.extend(block.lines)
    return Side(doc.student, doc.file, tuple(shown), tuple(blocks))


def in_notebook_order(lines: tuple[Line, ...], code: Code) -> list[Block]:
    """``lines`` (of the canonical text, perhaps with recovered code after it) as blocks per
    code cell, cells in notebook order, statements in their order within the cell."""
    canonical = code.text.count("\n") + 1 if code.text else 0
    spans = []
    for k, (start, cell, first) in enumerate(code.places):
        end = code.places[k + 1][0] - 1 if k + 1 < len(code.places) else canonical
        spans.append((cell, first, start, min(end, len(lines))))
    blocks: list[Block] = []
    for cell, first, start, end in sorted(spans):
        body = lines[start:end]
        numbers = tuple(range(first, first + len(body)))
        if blocks and blocks[-1].cell == cell:
            last = blocks[-1]
            blocks[-1] = Block(cell, (*last.numbers, 0, *numbers), (*last.lines, (), *body))
        else:
            blocks.append(Block(cell, numbers, body))
    rest = lines[canonical:]
    while rest and not rest[0]:
        rest = rest[1:]
    if rest:
        blocks.append(Block(-1, tuple(range(1, len(rest) + 1)), rest))
    return blocks


def marked_lines(code: str, regions: list[tuple[int, int]], numbers: list[int] | None = None
                 ) -> tuple[Line, ...]:
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

"""Winnowing fingerprints of code, from copydetect (MOSS's algorithm), and fast pair overlap.

copydetect gives the whole text side: its Python tokenizer-filter (pygments) drops comments
and whitespace and turns every identifier into ``V`` (functions ``F``, classes ``O``, strings
``S``), its k-gram hashing and robust winnowing pick the fingerprints, its boilerplate
fingerprints are every k-gram of the given code (as its own ``CopyDetector`` makes them), and
``compare_files`` gives the shared regions of two files, mapped back to their original text,
for the side-by-side view.

What this module adds is speed for a whole class: ``compare_files`` costs 0.1-0.5 ms a pair
in numpy calls, too slow for 500 students (125,000 pairs per assignment). Here each
fingerprint also keeps bit masks (Python ints) of the filtered characters it covers and the
original lines it touches; a pair's overlap is the OR of its shared fingerprints' masks,
counted with ``int.bit_count``: exactly copydetect's token overlap and similarity (the sum of
its merged copied slices over the file's token coverage), plus the lines, several times
faster (bench/similarity.py measures both on the same pairs).

copydetect hashes k-grams with Python's ``hash``, which is salted per process: fingerprints
of one assignment are always made and compared in one process, and that process runs with a
fixed ``PYTHONHASHSEED`` (see grader.similarity.analyse) so a rerun gives the same scores.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import or_

import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import filter_code, get_document_fingerprints, get_token_coverage

#: copydetect's noise threshold: matches shorter than this many filtered characters are noise.
NOISE = 25
#: Matches at least this long are always found (winnowing window = GUARANTEE - NOISE + 1).
GUARANTEE = 30
#: Filtered characters fingerprinted per document (a typical submission has 400-1,000): the
#: masks take about length squared / 50 bytes, so a pasted wall of code cannot exhaust memory.
MAX_FILTERED = 10_000
_LANGUAGE = "python"
_NAME = "submission.py"
_IDENTIFIER = re.compile(r"[^\W\d]\w*")


@dataclass(frozen=True)
class Fingerprint:
    """A document's fingerprints. Its first six fields are the attributes copydetect's
    ``compare_files`` reads from a ``CodeFingerprint``. Per hash, ``masks`` is one bit mask
    (a Python int) of the filtered characters it covers (bit i: position i) and, from bit
    ``line_bit`` up, of the original lines it touches, wherever the hash was taken from."""

    k: int
    hashes: frozenset[int]
    hash_idx: dict[int, list[int]]
    filtered_code: str
    offsets: np.ndarray
    token_coverage: int
    raw_code: str
    masks: dict[int, int]
    line_bit: int
    truncated: bool = False  # only the first MAX_FILTERED filtered characters count

    @property
    def empty(self) -> bool:
        return not self.hashes


@dataclass(frozen=True)
class Overlap:
    """What two documents share: copydetect's similarity of each side (0..1) and the number
    of original lines of each side that shared code touches."""

    share_a: float
    share_b: float
    lines_a: int
    lines_b: int


NO_OVERLAP = Overlap(0.0, 0.0, 0, 0)


def boilerplate_hashes(texts: list[str], noise: int = NOISE) -> frozenset[int]:
    """Every k-gram hash of ``texts`` (copydetect's boilerplate: a window of 1)."""
    hashes: set[int] = set()
    for text in texts:
        found = CodeFingerprint(_NAME, noise, 1, fp=io.StringIO(text), language=_LANGUAGE)
        hashes.update(int(h) for h in found.hashes)
    return frozenset(hashes)


def fingerprint(code: str, boilerplate: frozenset[int], noise: int = NOISE,
                guarantee: int = GUARANTEE, given: frozenset[int] = frozenset()
                ) -> Fingerprint:
    """Tokenize, filter, hash and winnow ``code``; drop the boilerplate's k-grams, and each
    k-gram at least half of whose characters lie on ``given`` lines (0-based lines of
    ``code``: what the stub gave, a contract function's signature, lines most of the class
    writes)."""
    filtered, offsets = filter_code(code, _NAME, _LANGUAGE)
    offsets = repair_class_offsets(code, filtered, offsets)
    truncated = len(filtered) > MAX_FILTERED
    filtered = filtered[:MAX_FILTERED]
    # Boilerplate is dropped here rather than by copydetect: its np.intersect1d(...,
    # assume_unique=True) on a file's repeated k-grams also drops some that are not boilerplate.
    _, found = get_document_fingerprints(filtered, noise, guarantee - noise + 1)
    line_of = _line_of_filtered(code, len(filtered), offsets)
    keep = _not_given(line_of, given, noise)
    hash_idx = {int(h): kept for h, idx in found.items() if int(h) not in boilerplate
                and (kept := [int(i) for i in idx if keep(int(i))])}
    last, span = len(filtered) - 1, (1 << noise) - 1
    line_bit = len(filtered) + noise
    masks = {}
    for h, positions in hash_idx.items():
        mask = 0
        for i in positions:
            first, end = line_of[i], line_of[min(i + noise - 1, last)]
            mask |= span << i | ((1 << (end - first + 1)) - 1) << (line_bit + first)
        masks[h] = mask
    coverage = int(get_token_coverage(hash_idx, noise, len(filtered)))
    return Fingerprint(noise, frozenset(hash_idx), hash_idx, filtered, offsets, coverage, code,
                       masks, line_bit, truncated)


def _not_given(line_of: list[int], given: frozenset[int], noise: int) -> Callable[[int], bool]:
    """Whether the k-gram at a filtered position is mostly the student's own (fewer than half
    of its characters on ``given`` lines)."""
    if not given:
        return lambda _: True
    before = [0]
    for line in line_of:
        before.append(before[-1] + (line in given))
    last = len(line_of)
    return lambda i: 2 * (before[min(i + noise, last)] - before[i]) < noise


def repair_class_offsets(code: str, filtered: str, offsets: np.ndarray) -> np.ndarray:
    """copydetect 0.5's offsets with its class-name rows fixed.

    ``filter_code`` records a class name's row with the name's length less one instead of the
    characters removed so far, so a shared region starting at a class name would map to the
    top of the file. The right value is the next row's (or the total removed) less that
    length; it is used where it lands exactly on an identifier of that length.
    """
    if len(offsets) == 0:
        return offsets
    fixed = offsets.copy()
    removed = len(code) - len(filtered)
    for row, (position, recorded) in enumerate(offsets.tolist()):
        if position >= len(filtered) or filtered[position] != "O":
            continue
        following = offsets[row + 1][1] if row + 1 < len(offsets) else removed
        start = position + following - recorded
        name = code[start:start + recorded + 1] if start >= 0 else ""
        before = code[start - 1] if start > 0 else " "
        if _IDENTIFIER.fullmatch(name) and not (before.isalnum() or before == "_"):
            fixed[row][1] = following - recorded
    return fixed


def without(fp: Fingerprint, common: set[int]) -> Fingerprint:
    """``fp`` less the ``common`` hashes, as if they were boilerplate (coverage recomputed)."""
    dropped = fp.hashes & common
    if not dropped:
        return fp
    hash_idx = {h: idx for h, idx in fp.hash_idx.items() if h not in dropped}
    coverage = int(get_token_coverage(hash_idx, fp.k, len(fp.filtered_code)))
    return dataclasses.replace(fp, hashes=fp.hashes - dropped, hash_idx=hash_idx,
                               token_coverage=coverage,
                               masks={h: fp.masks[h] for h in hash_idx})


def _raw_positions(length: int, offsets: np.ndarray) -> np.ndarray:
    """The original character of each filtered character (copydetect's offset mapping)."""
    positions = np.arange(length)
    if len(offsets) > 0 and length:
        rows = np.clip(np.searchsorted(offsets[:, 0], positions), 0, offsets.shape[0] - 1)
        positions = positions + offsets[:, 1][rows]
    return np.maximum.accumulate(positions) if length else positions


def _line_of_filtered(code: str, length: int, offsets: np.ndarray) -> list[int]:
    """The 0-based original line of each filtered character (copydetect's offset mapping)."""
    positions = _raw_positions(length, offsets)
    newlines = np.flatnonzero(np.frombuffer(code.encode("utf-32-le"), dtype=np.uint32) == 10)
    return np.searchsorted(newlines, positions, side="right").tolist()


def overlap(a: Fingerprint, b: Fingerprint) -> Overlap:
    """copydetect's similarity of ``a`` and ``b`` (each side), and the lines they share."""
    shared = a.hashes & b.hashes
    if not shared:
        return NO_OVERLAP
    cover_a, lines_a = _union(a, shared)
    cover_b, lines_b = _union(b, shared)
    return Overlap(cover_a / a.token_coverage, cover_b / b.token_coverage, lines_a, lines_b)


def _union(fp: Fingerprint, shared: frozenset[int]) -> tuple[int, int]:
    """(filtered characters, original lines) that the ``shared`` hashes cover together: their
    masks ORed (the loop runs in C), then counted."""
    mask = reduce(or_, map(fp.masks.__getitem__, shared), 0)
    cover = mask & ((1 << fp.line_bit) - 1)
    return cover.bit_count(), (mask >> fp.line_bit).bit_count()


def shared_regions(a: Fingerprint, b: Fingerprint) -> tuple[list[tuple[int, int]],
                                                             list[tuple[int, int]]]:
    """The shared regions of each side as (start, end) character offsets into its raw code:
    copydetect's ``compare_files`` slices."""
    _, _, (slices_a, slices_b) = compare_files(a, b)
    return _pairs(slices_a), _pairs(slices_b)


def _pairs(slices: np.ndarray) -> list[tuple[int, int]]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return []
    return [(int(start), int(end)) for start, end in zip(slices[0], slices[1], strict=True)]


def match_numbers(a: Fingerprint, b: Fingerprint, regions_a: list[tuple[int, int]],
                  regions_b: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """A match number for each shared region of each side, so the two halves of one match
    share a number (and a colour): a's regions are numbered 1, 2, ... in a's order; a region
    of b takes the number of the region of a whose shared fingerprints it holds most of."""
    raw_a = _raw_positions(len(a.filtered_code), a.offsets)
    raw_b = _raw_positions(len(b.filtered_code), b.offsets)
    votes: Counter[tuple[int, int]] = Counter()
    for h in a.hashes & b.hashes:
        for i in a.hash_idx[h]:
            ra = _region_of(regions_a, int(raw_a[i]))
            for j in b.hash_idx[h]:
                rb = _region_of(regions_b, int(raw_b[j]))
                if ra is not None and rb is not None:
                    votes[(ra, rb)] += 1
    numbers_a = list(range(1, len(regions_a) + 1))
    numbers_b = []
    fresh = len(regions_a)
    for rb in range(len(regions_b)):
        best = max(((count, -ra) for (ra, r), count in votes.items() if r == rb), default=None)
        if best is None:
            fresh += 1
        numbers_b.append(numbers_a[-best[1]] if best else fresh)
    return numbers_a, numbers_b


def _region_of(regions: list[tuple[int, int]], position: int) -> int | None:
    return next((k for k, (start, end) in enumerate(regions) if start <= position < end), None)

"""grader.suite.fmt: a value too long for feedback is cut after a whole element, never
mid-number (``-0.029847, . ...`` was one)."""

from __future__ import annotations

import re

import numpy as np

from grader.suite import fmt


def test_a_long_dump_ends_on_a_whole_number() -> None:
    rng = np.random.default_rng(0)
    for limit in range(60, 400, 7):
        for shape in ((7, 9), (40,), (3, 4, 5)):
            text = fmt(rng.normal(size=shape) * 0.05, limit=limit)
            if not text.endswith(" ..."):
                continue
            assert len(text) <= limit + 4
            last = re.split(r"[\s,\[\]]+", text[:-4].strip())[-1]
            assert last == "" or re.fullmatch(r"-?\d+\.\d*(e[+-]\d+)?|\.\.\.|dtype=float64\)?:?",
                                              last), (limit, text[-40:])
    assert fmt(list(range(5))) == "[0, 1, 2, 3, 4]"

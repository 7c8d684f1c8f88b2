"""The accessibility check itself: axe-core in Debian's Chromium finds what it must (a page with
known WCAG failures), and passes a page without them. The report pages are audited where they
are made: tests/test_demo.py (summary, feedback) and tests/test_similarity.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.accessibility import TAGS, audit, available, serious

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not available(), reason="needs Chromium (Debian package) and "
                                 "the dev extra's axe-playwright-python")]

BAD = """<!DOCTYPE html><html><head><title>t</title></head><body>
<p style="color:#aaa;background:#fff">faint text</p>
<input type="search">
<img src="data:image/png;base64,iVBORw0KGgo=">
</body></html>"""

GOOD = """<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main>
<h1>Title</h1><p style="color:#1f2328">readable text</p>
<label for="q">Find</label> <input type="search" id="q">
</main></body></html>"""


def test_axe_finds_known_failures_and_passes_a_clean_page(tmp_path: Path) -> None:
    (tmp_path / "bad.html").write_text(BAD, encoding="utf-8")
    (tmp_path / "good.html").write_text(GOOD, encoding="utf-8")
    bad = audit(tmp_path / "bad.html")
    print(bad.line())
    found = {v["id"] for v in bad.violations}
    assert {"color-contrast", "label", "image-alt", "html-has-lang"} <= found, found
    assert len(serious(bad)) >= 3
    good = audit(tmp_path / "good.html")
    print(good.line())
    assert serious(good) == [] and good.rules_checked > 50, good.line()
    assert [stop["tag"] for stop in good.tab_stops][:1] == ["INPUT"]
    assert TAGS[-1] == "wcag22aa"

"""axe-core in Debian's headless Chromium, driven by Playwright (never a downloaded browser):
the WCAG 2.2 A/AA rules on a report page, and what keyboard-only use reaches.

axe.min.js comes from the ``axe-playwright-python`` package (the dev extra), which ships it;
Playwright launches ``/usr/bin/chromium`` through ``executable_path``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.browser import chromium

#: The WCAG levels the pages must meet (university courses are bound by 2.1/2.2 AA).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
IMPACTS = ("critical", "serious", "moderate", "minor")


def axe_script() -> Path | None:
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None or spec.origin is None:
        return None
    script = Path(spec.origin).parent / "axe.min.js"
    return script if script.is_file() else None


def available() -> bool:
    return (chromium() is not None and axe_script() is not None
            and importlib.util.find_spec("playwright") is not None)


@dataclass
class Audit:
    page: str
    rules_checked: int
    passes: list[str]
    violations: list[dict[str, Any]]
    incomplete: int
    #: the elements keyboard Tab reached, in order, and whether each showed a focus outline
    tab_stops: list[dict[str, Any]]

    def by_impact(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {impact: [] for impact in IMPACTS}
        for v in self.violations:
            found.setdefault(v["impact"] or "minor", []).append(
                f"{v['id']} ({len(v['nodes'])}): {v['nodes'][0]['target']}")
        return found

    def line(self) -> str:
        counts = ", ".join(f"{impact} {len(ids)}" for impact, ids in self.by_impact().items())
        return (f"axe {self.page}: {self.rules_checked} rules checked ({len(self.passes)} "
                f"passed, {self.incomplete} need review); violations: {counts}")


_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  return {tag: e.tagName, text: (e.textContent || e.id || '').trim().slice(0, 30),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
          visible: r.width > 0 && r.height > 0};
}"""


@contextmanager
def opened(page: Path) -> Iterator[Any]:
    """A Playwright page showing ``page`` in Debian's Chromium, 1280 px wide."""
    from playwright.sync_api import sync_playwright

    browser_path = chromium()
    assert browser_path is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(page.resolve().as_uri())
            yield tab
        finally:
            browser.close()


def audit(page: Path, tabs: int = 8) -> Audit:
    """Run axe-core's WCAG 2.2 A/AA rules on ``page``; then press Tab ``tabs`` times."""
    with opened(page) as tab:
        return audit_tab(tab, page.name, tabs)


def audit_tab(tab: Any, name: str, tabs: int = 8) -> Audit:
    """axe-core on a page already open in ``tab`` (a page with a strict CSP needs a context
    made with ``bypass_csp=True`` to take axe's script); then press Tab ``tabs`` times."""
    script = axe_script()
    assert script is not None
    tab.add_script_tag(path=str(script))
    result = tab.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})", TAGS)
    stops = []
    for _ in range(tabs):
        tab.keyboard.press("Tab")
        stop = tab.evaluate(_FOCUS)
        if stop:
            stops.append(stop)
    checked = {r["id"] for key in ("passes", "violations", "incomplete", "inapplicable")
               for r in result[key]}
    return Audit(page=name, rules_checked=len(checked),
                 passes=[r["id"] for r in result["passes"]],
                 violations=result["violations"], incomplete=len(result["incomplete"]),
                 tab_stops=stops)


def serious(found: Audit) -> list[str]:
    """The serious and critical violations, one line each (what a test asserts empty)."""
    return [f"{impact}: {item}" for impact, items in found.by_impact().items()
            if impact in ("critical", "serious") for item in items]

"""A student's written answer as HTML the review app can show: Markdown and LaTeX, rendered on
the server, inert whatever the student typed.

- Markdown by markdown-it-py (CommonMark, tables, strikethrough) with raw HTML OFF: a
  ``<script>`` or ``<img onerror=...>`` in an answer is shown as text. Student images in
  Markdown (``![](url)``) stay text too (the app shows only the notebook's own PNG/JPEG
  outputs); links keep only http(s) and mailto targets and open with
  ``rel="noopener noreferrer nofollow"`` (any other target, ``javascript:`` included, is text).
- Math (``$...$`` inline, ``$$...$$`` display; mdit-py-plugins' dollarmath) becomes MathML by
  latex2mathml, which Chromium and Firefox draw natively (MathML Core): no MathJax script, so
  the strict Content-Security-Policy stays as it is. latex2mathml copies some input through
  (``\\text{<script>}``, ``\\href{javascript:...}``, ``\\style{...}``), so its output is rebuilt
  from an allowlist of MathML elements and attributes, every text escaped; a formula it cannot
  read is shown as its source.
"""

from __future__ import annotations

import html
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

MAX_FORMULA = 2000  # characters of LaTeX per formula; longer is shown as source
SCHEMES = ("http://", "https://", "mailto:")
REL = "noopener noreferrer nofollow"

#: MathML Core's presentation elements (and the semantics wrapper latex2mathml may emit)
MATH_TAGS = frozenset((
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
    "mfrac", "msqrt", "mroot", "mstyle", "merror", "mpadded", "mphantom", "munder", "mover",
    "munderover", "mtable", "mtr", "mtd", "menclose", "semantics", "annotation"))
MATH_ATTRS = frozenset((
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "minsize",
    "maxsize", "accent", "accentunder", "linethickness", "columnalign", "rowalign",
    "columnspacing", "rowspacing", "width", "height", "depth", "displaystyle", "scriptlevel",
    "movablelimits", "symmetric", "largeop", "form", "notation", "encoding"))
MATHML_NS = "http://www.w3.org/1998/Math/MathML"


class _MathAllowlist(HTMLParser):
    """Re-serialise latex2mathml's output keeping only allowlisted MathML; text escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in MATH_TAGS:
            return
        kept = "".join(f' {name}="{html.escape(value or "", quote=True)}"'
                       for name, value in attrs if name in MATH_ATTRS)
        if tag == "math":
            kept = f' xmlns="{MATHML_NS}"' + kept
        self.out.append(f"<{tag}{kept}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in MATH_TAGS:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))


def mathml(latex: str, display: bool) -> str:
    """``latex`` as allowlisted MathML; the escaped source where it cannot be converted."""
    source = f'<code class="tex">{html.escape(latex)}</code>'
    if len(latex) > MAX_FORMULA:
        return source
    try:
        raw = convert(latex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any parser failure on student input: show the source
        return source
    cleaner = _MathAllowlist()
    cleaner.feed(raw)
    cleaner.close()
    return "".join(cleaner.out)


def _math_renderer(content: str, options: dict[str, Any]) -> str:
    return mathml(content.strip(), bool(options.get("display_mode")))


def _validate_link(url: str) -> bool:
    return url.strip().lower().startswith(SCHEMES)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"]).disable("image")
    md.validateLink = _validate_link  # type: ignore[method-assign]
    dollarmath_plugin(md, allow_labels=False, allow_digits=False, double_inline=True,
                      renderer=_math_renderer)

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", REL)
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


_MD = _markdown()


@lru_cache(maxsize=4096)
def markdown(text: str) -> str:
    """A Markdown answer (or question prompt) as safe HTML."""
    return _MD.render(text)


def answer_html(kind: str, text: str) -> str:
    """A written answer as safe HTML: Markdown cells rendered, code cells as code."""
    if kind == "markdown":
        return markdown(text)
    return f'<pre><code>{html.escape(text)}</code></pre>'

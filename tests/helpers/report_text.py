"""Checks on text the grader writes for people: no control character, no spreadsheet formula,
no markup of the student's outside a code fence."""

from __future__ import annotations

import re

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def outside_fences(markdown: str) -> str:
    """The Markdown without its fenced code blocks (where any text is shown literally); an
    unclosed fence fails the test."""
    kept, fence = [], ""
    for line in markdown.split("\n"):
        ticks = re.match(r"`{3,}", line)
        if fence:
            if ticks and ticks.group(0) == fence and line.strip() == fence:
                fence = ""
        elif ticks and line.strip("`") == "":
            fence = ticks.group(0)
        else:
            kept.append(line)
    assert not fence, "a code fence is never closed"
    return "\n".join(kept)


#: The grader's own markup in its HTML: pictures (data URIs: histograms and loss curves SVG)
#: and the summary's find-a-student script.
OWN_IMAGE = re.compile(r'<img src="data:image/(?:png|svg\+xml);base64,[A-Za-z0-9+/=]+" '
                       r'alt="[^"<>]*" width="\d+" height="\d+">')
OWN_SCRIPT = '<script>\n(function () {\n  var box = document.getElementById("filter");'


def without_own_markup(html: str) -> str:
    """The HTML with the grader's own pictures and script taken out: what remains holds a tag
    only if student text reached the page unescaped."""
    return OWN_IMAGE.sub("", html).replace(OWN_SCRIPT, "", 1)

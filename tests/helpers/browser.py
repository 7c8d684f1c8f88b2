"""Headless Chromium from its own command line: load a report page, screenshot it, and read back
what a check script found on the loaded page (images decoded, width, links).

The page is checked through a copy beside it (same folder, so relative links and images
resolve as in the original) with a script added at the end that, once the page has loaded,
writes its findings into the DOM; ``--dump-dom`` prints that DOM and
``--enable-logging=stderr`` prints the console, whose errors the caller asserts on.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

WIDTH = 1280
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--hide-scrollbars", "--allow-file-access-from-files"]

_PROBE = """
<script>
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (img) {
    return {src: img.src.slice(0, 40), ok: img.complete && img.naturalWidth > 0,
            width: img.naturalWidth};
  });
  var links = Array.prototype.map.call(document.querySelectorAll("a[href]"), function (a) {
    return a.getAttribute("href");
  });
  var wide = Array.prototype.filter.call(document.querySelectorAll("body *"), function (e) {
    var r = e.getBoundingClientRect();
    return r.right > window.innerWidth + 1 && getComputedStyle(e).position !== "fixed";
  }).map(function (e) { return e.tagName + "." + e.className; }).slice(0, 10);
  var out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify({images: images, links: links, wide: wide,
    scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth});
  document.body.appendChild(out);
});
</script>
"""


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageCheck:
    images: list[dict[str, object]]
    links: list[str]
    wide: list[str]
    scroll_width: int
    console_errors: list[str]


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}",
                           f"--window-size={WIDTH},1000", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def check_page(page: Path, screenshot: Path, work: Path) -> PageCheck:
    """Screenshot ``page`` (full width 1280) and probe it; ``work``: a scratch folder."""
    browser = chromium()
    assert browser is not None
    shot = _run(browser, work / "profile-shot", f"--screenshot={screenshot}",
                "--virtual-time-budget=3000", page.resolve().as_uri())
    assert screenshot.is_file(), shot.stderr[-2000:]
    probe = page.with_name(f".probe-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"),
                     encoding="utf-8")
    try:
        done = _run(browser, work / "profile-dom", "--enable-logging=stderr", "--v=0",
                    "--virtual-time-budget=5000", "--dump-dom", probe.resolve().as_uri())
    finally:
        probe.unlink()
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the probe did not run: {done.stderr[-2000:]}"
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    data = json.loads(text.replace("&quot;", '"'))
    errors = [line for line in done.stderr.splitlines()
              if "CONSOLE" in line and ("Error" in line or "Uncaught" in line
                                        or ":ERROR:" in line)]
    return PageCheck(images=data["images"], links=data["links"], wide=data["wide"],
                     scroll_width=data["scrollWidth"], console_errors=errors)


_SVG_PROBE = """
<script>
window.addEventListener("load", function () {
  var found = [];
  Array.prototype.forEach.call(document.querySelectorAll("svg"), function (svg, index) {
    var box = svg.viewBox.baseVal;
    Array.prototype.forEach.call(svg.querySelectorAll("text"), function (text) {
      var r = text.getBBox();
      if (text.getAttribute("transform")) { return; }  // a rotated label: its own axes
      if (r.x < box.x - 0.5 || r.y < box.y - 0.5 || r.x + r.width > box.x + box.width + 0.5
          || r.y + r.height > box.y + box.height + 0.5) {
        found.push(index + ": " + text.textContent + " (" + Math.round(r.x) + ", "
                   + Math.round(r.y) + ", " + Math.round(r.width) + " x "
                   + Math.round(r.height) + ")");
      }
    });
  });
  var out = document.createElement("pre");
  out.id = "probe-result";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
});
</script>
"""


def svg_texts_outside(svgs: list[bytes], work: Path) -> list[str]:
    """The texts of ``svgs`` (each drawn inline, as Chromium lays out its fonts) whose box
    leaves their picture's view box: "INDEX: TEXT (x, y, w x h)"."""
    browser = chromium()
    assert browser is not None
    page = work / "svgs.html"
    page.write_text("<!doctype html><html><body>" + "".join(
        svg.decode("utf-8") for svg in svgs) + _SVG_PROBE + "</body></html>", encoding="utf-8")
    done = _run(browser, work / "profile-svg", "--virtual-time-budget=3000", "--dump-dom",
                page.resolve().as_uri())
    found = re.search(r'<pre id="probe-result">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the probe did not run: {done.stderr[-2000:]}"
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return list(json.loads(text.replace("&quot;", '"')))

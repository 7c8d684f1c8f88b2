"""What a zygote is given and whether a level can have one: its isolation and capabilities,
the font lists handed to it, and the probe that decides whether a level can fork warm workers
that cannot reach each other (grader.sandbox.zygote starts the zygotes)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from typing import Any

from grader.sandbox.base import WORKER_DIR, Sandbox
from grader.sandbox.process import keep_only
from grader.worker import protocol

#: the font lists handed to a zygote (in its config, one command-line argument: at most 128 KiB
#: once escaped as JSON); a machine with more fonts than that leaves its zygote to scan them
FONT_LISTS_MAX_CHARS = 64 * 1024
#: what the zygote keeps to build each worker's world and drop it to the worker's uid
NAMESPACE_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL")
UID_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL")  # (an IPC
# namespace per worker needs CAP_SYS_ADMIN)


def font_lists(max_chars: int = FONT_LISTS_MAX_CHARS) -> dict[str, str]:
    """matplotlib's font lists as this user's matplotlib cached them (its cache folder:
    $MPLCONFIGDIR, else $XDG_CACHE_HOME/matplotlib or ~/.cache/matplotlib), by file name, for a
    zygote that preloads matplotlib: it would otherwise scan the system's fonts to build one in
    its fresh /tmp (0.13 s of its start here). None where there is none (a machine where this
    user's matplotlib never ran: the grader itself draws without it) or they are too long
    to hand over in the zygote's config. A list names font files only; one a worker cannot
    see makes its matplotlib build its own."""
    folder = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib")
    found: dict[str, str] = {}
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return found
    for name in names:
        if not protocol.FONT_LIST.fullmatch(name):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                text = handle.read(max_chars + 1)
        except (OSError, UnicodeDecodeError):
            continue
        if sum(map(len, found.values())) + len(text) <= max_chars:
            found[name] = text
    return found


def isolation_of(base: Sandbox) -> dict[str, Any]:
    """How the zygote of ``base`` keeps workers apart (grader/worker/zygote.py: Isolation)."""
    mode = "namespaces" if base.level == "bwrap" else "uid"
    return {"mode": mode, "uid": base.uid}


def capabilities_of(base: Sandbox) -> tuple[str, ...]:
    return NAMESPACE_CAPS if base.level == "bwrap" else UID_CAPS


def uid_problem(level: str) -> str | None:
    """Why ``level`` cannot keep a zygote out of its workers' reach by uid (None: it can, or
    the level does not rely on uids): known without starting anything."""
    if level == "process" and os.geteuid() != 0:
        return ("as an ordinary user the process level has no uid to keep a zygote out of its "
                "workers' reach")
    return None


@functools.cache
def warm_problem(level: str, uid: int | None) -> str | None:
    """None when ``level`` can fork warm workers that cannot reach each other, else why not:
    a probe zygote started for nothing else (a real zygote's ZygoteReady says the same)."""
    if (problem := uid_problem(level)) is not None:
        return problem
    isolation = json.dumps({"isolation": {"mode": "namespaces" if level == "bwrap" else "uid",
                                          "uid": uid}})
    if level == "bwrap":
        from grader.sandbox.bwrap import SANDBOX_WORKER_DIR, bwrap_command

        command = [*bwrap_command(uid, caps=NAMESPACE_CAPS), sys.executable, "-I", "-B",
                   f"{SANDBOX_WORKER_DIR}/zygote.py", isolation]
    else:
        command = [*keep_only(UID_CAPS), sys.executable, "-I", "-B",
                   str(WORKER_DIR / "zygote.py"), isolation]
    try:
        probe = subprocess.run(command, capture_output=True, timeout=60, check=False,
                               stdin=subprocess.DEVNULL, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the isolation probe did not run: {exc}"
    if probe.returncode != 0:
        said = (probe.stdout + probe.stderr).decode(errors="replace").strip()
        return said[-300:] or f"the isolation probe failed (exit status {probe.returncode})"
    return None

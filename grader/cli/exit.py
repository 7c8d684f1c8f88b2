"""Ending the ``grade`` process without the interpreter's teardown.

When a run is over, Python's own teardown (collecting every module's objects, then torch's C++
static destructors and thread pools) takes about a second after a grade (measured with
``bench/latency.py``'s "start and exit" phase: 0.96-1.27 s of a one-student ``grade ci``),
and a student waits for it on every push. :func:`finish` does what a process must do before it
ends, in Python's order, and then ends it at once: the atexit handlers (the zygotes closed,
logging flushed), then stdout and stderr flushed. Where a thread that is not a daemon still
runs (a library's pool, a cluster client), it leaves the exit to Python, which waits for it.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def finish(code: object) -> NoReturn:
    """Exit with ``code`` as ``sys.exit(code)`` would, without the interpreter's teardown."""
    if _threads_still_running():
        sys.exit(code)  # type: ignore[arg-type]
    status = _status(code)
    atexit._run_exitfuncs()  # noqa: SLF001 - what the interpreter runs at exit, run now
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass  # a closed pipe or a replaced stream: nothing more can be written
    os._exit(status)


def _status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives: None 0, an int itself, anything else printed
    to stderr and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except (OSError, ValueError):
        pass
    return 1


def _threads_still_running() -> bool:
    main = threading.main_thread()
    return any(thread is not main and thread.is_alive() and not thread.daemon
               for thread in threading.enumerate())

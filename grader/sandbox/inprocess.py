"""In-process double: the worker loop runs in a thread of the calling process.

Only for the project's own tests of the suites against trusted code (reference solutions and
hand-written mutants): it exercises the real protocol and codec over real pipes, without a
process start. It isolates nothing, so the CLI never picks it on its own.
"""

from __future__ import annotations

import contextlib
import os
import threading

from grader.core.settings import Limits
from grader.sandbox.base import make_pipes
from grader.worker import remote


class ThreadWorker:
    def __init__(self) -> None:
        (child_read, self.write_fd), (self.read_fd, child_write) = make_pipes()
        reader = os.fdopen(child_read, "rb")
        writer = os.fdopen(child_write, "wb")

        def run() -> None:
            try:
                remote.serve(reader, writer)
            except (OSError, EOFError, ValueError):
                pass
            finally:
                for end in (reader, writer):
                    with contextlib.suppress(OSError):  # the grader closed its end first
                        end.close()

        self.thread = threading.Thread(target=run, daemon=True, name="inprocess-worker")
        self.thread.start()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def kill(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                os.close(fd)
        self.read_fd = self.write_fd = -1  # kill() may run twice: never close a reused fd
        self.thread.join(timeout=1.0)

    def output(self) -> str:
        return ""

    def exit_description(self) -> str:
        return "running" if self.alive() else "finished"

    def cpu_seconds(self) -> float | None:
        """Not counted: a thread of the grader (budgets run on the wall clock)."""
        return None


class InProcessSandbox:
    level = "inprocess"
    description = "inprocess (test double: no isolation, trusted code only)"
    uid = None

    def start(self, limits: Limits, device: str = "cpu") -> ThreadWorker:
        return ThreadWorker()

    def close(self) -> None:
        """Nothing is kept: each worker is a thread of its own."""

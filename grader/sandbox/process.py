"""Plain-process level: the worker is a separate Python process with rlimits, no namespaces.

What it promises: student code never runs in the grader's process; memory, CPU time, file size
and open files are capped; output is capped; the worker and its process group are killed at the
end. What it cannot promise (use the bwrap level for these): the worker can read any file the
grader's user can, reach the network, and a grandchild that starts its own session escapes the
process-group kill. README lists this under "Threat model".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from grader.sandbox.base import WORKER_DIR, OutputBuffer, make_pipes
from grader.settings import Limits

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
PASSED_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL",
                    "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


def worker_environment(home: str) -> dict[str, str]:
    """A small, explicit environment: one thread per BLAS, no display, no user site."""
    env = {name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ}
    env.update({name: "1" for name in THREAD_VARIABLES})
    env.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home,
                "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                "MPLCONFIGDIR": home})
    return env


class ProcessWorker:
    """A worker subprocess in its own session, talking over two pipes."""

    def __init__(self, limits: Limits, prefix: Sequence[str] = (),
                 rlimits: dict[str, int] | None = None, inside: dict[str, str] | None = None
                 ) -> None:
        """``inside`` maps "script" and "home" to their paths as the worker sees them."""
        (self._child_read, self.write_fd), (self.read_fd, self._child_write) = make_pipes()
        out_read, out_write = os.pipe()
        self.home = tempfile.mkdtemp(prefix="grader-worker-")
        os.chmod(self.home, 0o777)
        config = {"limits": limits.worker_rlimits() if rlimits is None else rlimits,
                  "read_fd": self._child_read, "write_fd": self._child_write}
        inside = inside or {"script": str(WORKER_DIR / "remote.py"), "home": self.home}
        command = [*prefix, sys.executable, "-I", "-B", inside["script"], json.dumps(config)]
        self.process = subprocess.Popen(
            command, pass_fds=(self._child_read, self._child_write), stdin=subprocess.DEVNULL,
            stdout=out_write, stderr=out_write, cwd=self.home, start_new_session=True,
            env=worker_environment(inside["home"]))
        for fd in (self._child_read, self._child_write, out_write):
            os.close(fd)
        self._output = OutputBuffer(cap=limits.output_bytes, data=bytearray())
        self._drain = self._output.drain(out_read)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._drain.join(timeout=0.5)
        shutil.rmtree(self.home, ignore_errors=True)

    def output(self) -> str:
        return self._output.text()

    def exit_description(self) -> str:
        try:  # called once the channel closed: the process is exiting, give it a moment
            code = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "closed its channel but is still running"
        if code < 0:
            name = signal.Signals(-code).name
            hint = " (memory or CPU limit?)" if name in ("SIGKILL", "SIGXCPU", "SIGSEGV") else ""
            return f"killed by {name}{hint}"
        return f"exit status {code}"


class ProcessSandbox:
    """Workers as plain subprocesses (the fallback where bubblewrap is unavailable)."""

    level = "process"
    description = "process (separate process with rlimits; no filesystem or network isolation)"

    def start(self, limits: Limits) -> ProcessWorker:
        # RLIMIT_NPROC counts every process of the user: without a dedicated uid it would cap
        # the instructor's own session, so this level leaves it unset.
        rlimits = dict(limits.worker_rlimits())
        rlimits.pop("processes")
        return ProcessWorker(limits, rlimits=rlimits)

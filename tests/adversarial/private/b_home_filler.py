# levels: process-root
# A student at the process level fills its home: 48 files of 16 MiB (the per-file cap),
# 768 MiB on the host disk before its home had a total cap. It prints how much it wrote.
# ruff: noqa
import os

import numpy as np


def relu(x):
    written = 0
    block = b"x" * (1 << 20)
    for n in range(48):
        try:
            with open(f"fill_{n}", "wb") as handle:
                for _ in range(16):
                    handle.write(block)
                    written += 1
        except OSError:
            break
    print(f"WROTE {written} MiB IN {os.getcwd()}")
    return np.maximum(0, x)

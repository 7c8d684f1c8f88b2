"""What the warm zygote does before it serves (grader/worker/zygote.py): matplotlib's font
lists written where its matplotlib looks, the preload imported, the RNGs seeded once and an
optimizer's first step taken. Run once, in the zygote, before any worker is forked."""

from __future__ import annotations

import os
import sys

if __package__:
    from . import ondemand, protocol, remote
else:  # run as a script inside the sandbox: the other worker files sit beside it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import ondemand  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]
    import remote  # type: ignore[no-redef]


def write_font_lists(lists: object) -> None:
    """matplotlib's font lists as the grader's user's matplotlib cached them, written into
    this zygote's own matplotlib folder ($MPLCONFIGDIR: its fresh /tmp, or its home) before it
    imports matplotlib, which then reads one instead of scanning the system's fonts. Only
    files named as a font list, never over one already there; anything else is ignored."""
    folder = os.environ.get("MPLCONFIGDIR")
    if not folder or not isinstance(lists, dict):
        return
    for name, text in lists.items():
        if isinstance(name, str) and isinstance(text, str) and protocol.FONT_LIST.fullmatch(name):
            try:
                with open(os.path.join(folder, name), "x", encoding="utf-8") as handle:
                    handle.write(text)
            except OSError:
                pass


def preload(modules: list[str]) -> list[str]:
    """Import what every worker needs; returns the modules that could not be imported."""
    missing = []
    for name in modules:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a missing optional package is the workers' problem
            missing.append(name)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    if "numpy" in sys.modules or torch is not None:
        # what every worker's Load does first (remote.seed_rngs), done once here: the first
        # seeding imports numpy.random and walks torch's lazy CUDA seeding (a stack trace read
        # from source), 13-14 ms of every worker's start otherwise. Each worker seeds again.
        remote.seed_rngs(0)
    if torch is not None and "torch.optim" in modules:  # (grader.run.preload.OPTIMIZER)
        # the first step, without importing the compiler (ondemand.py): done once, here
        ondemand.warm_step()
    return missing

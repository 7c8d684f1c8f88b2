"""torch._dynamo on demand (grader/worker/ondemand.py): an eager optimizer step without the
compiler's import gives the same bits; anything more imports the real module; the zygote's
workers and the grader's reference training start with the placeholder in place."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.resources import needs_bwrap

from grader.core.settings import Limits
from grader.sandbox import make_sandbox
from grader.submission.proxy import StudentProxy
from grader.submission.session import WorkerSession

ROOT = Path(__file__).resolve().parents[1]

#: a small network trained by each optimizer the course names (and two it does not), with
#: zero_grad, backward and step, as a student's train_model does; prints the final weights'
#: bytes and what became of torch._dynamo
TRAIN = textwrap.dedent("""
    import json, sys
    import torch
    from grader.worker import ondemand
    deferred = sys.argv[1] == "defer" and ondemand.defer()
    out = {"deferred": bool(deferred)}
    for name in ("SGD", "Adam", "AdamW", "RMSprop"):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        optimizer = getattr(torch.optim, name)(model.parameters(), lr=0.05)
        x, y = torch.randn(64, 3), torch.randn(64, 1)
        for epoch in range(5):
            for i in range(0, 64, 16):
                optimizer.zero_grad()
                loss = torch.nn.functional.mse_loss(model(x[i:i + 16]), y[i:i + 16])
                loss.backward()
                optimizer.step()
        out[name] = [p.detach().numpy().tobytes().hex() for p in model.parameters()]
    out["placeholder"] = ondemand.placeholding()
    out["compiler imported"] = "torch._dynamo.convert_frame" in sys.modules
    print(json.dumps(out))
""")


def _run(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # two interpreters import torch, one of them its compiler
def test_an_eager_training_run_gives_the_same_bits_without_importing_the_compiler() -> None:
    with_compiler = _run(TRAIN, "real")
    without = _run(TRAIN, "defer")
    assert without["deferred"] and without["placeholder"] and not without["compiler imported"]
    assert not with_compiler["placeholder"] and with_compiler["compiler imported"]
    for name in ("SGD", "Adam", "AdamW", "RMSprop"):
        assert without[name] == with_compiler[name], name


def test_anything_more_than_an_eager_step_imports_the_real_module() -> None:
    code = textwrap.dedent("""
        import json, sys
        import torch
        from grader.worker import ondemand
        assert ondemand.defer() and not ondemand.defer()  # once; a second call changes nothing
        seen = []
        def spy(*args):
            seen.append(args)
            return "ran"
        import torch._dynamo
        wrapped = torch._dynamo.disable(spy, True, wrapping=False)  # made by the placeholder
        torch._dynamo.graph_break()
        before = (wrapped(1), ondemand.placeholding())
        from torch._dynamo import config  # asks for more: the real module comes in
        real = sys.modules["torch._dynamo"]
        after = (wrapped(2), ondemand.placeholding(), torch._dynamo is real,
                 type(real).__name__, hasattr(config, "cache_size_limit"))
        print(json.dumps({"before": before, "after": after, "seen": seen}))
    """)
    out = _run(code)
    assert out["before"] == ["ran", True]
    # the wrapper made earlier now goes through the real torch._dynamo.disable
    assert out["after"] == ["ran", False, True, "module", True]
    assert out["seen"] == [[1], [2]]


def test_the_grader_defers_the_compiler_before_its_reference_training() -> None:
    code = textwrap.dedent("""
        import json, sys
        from grader.run.preload import warm_optimizer
        warm_optimizer()
        from grader.worker import ondemand
        print(json.dumps([ondemand.placeholding(),
                          "torch._dynamo.convert_frame" in sys.modules]))
    """)
    assert _run(code) == [True, False]


@pytest.mark.slow  # a warm zygote started
@needs_bwrap
def test_a_warm_worker_steps_an_optimizer_without_the_compiler() -> None:
    limits = Limits(memory_mb=1024, processes=32, test_timeout_s=20, load_timeout_s=30)
    module = ["import sys, torch",
              "def train():\n"
              "    p = torch.nn.Parameter(torch.ones(2))\n"
              "    opt = torch.optim.SGD([p], lr=0.5)\n"
              "    opt.zero_grad(); (p * p).sum().backward(); opt.step()\n"
              "    dynamo = sys.modules['torch._dynamo']\n"
              "    return (p.detach().tolist(), type(dynamo).__name__,\n"
              "            'torch._dynamo.convert_frame' in sys.modules)"]
    sandbox = make_sandbox("bwrap", warm=True, preload=("numpy", "torch", "torch.optim"))
    try:
        session = WorkerSession(sandbox, limits, module)
        try:
            session.start_test()
            weights, kind, compiler = StudentProxy(session).train()
        finally:
            session.close()
    finally:
        sandbox.close()
    assert weights == [0.0, 0.0]  # 1 - 0.5 * 2
    assert kind == "Placeholder" and not compiler

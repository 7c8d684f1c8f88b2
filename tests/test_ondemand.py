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


@pytest.mark.slow  # an interpreter imports torch and its compiler
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


#: imports of torch._dynamo's submodules that torch's own eager code makes (sparse, debug_log,
#: _numpy, _config_module): each imports the real package first, and no module twice
SUBMODULE_IMPORTS = ("from torch._dynamo.utils import warn_once",
                     "import torch._dynamo.config as config",
                     "import torch.utils.debug_log",
                     "from torch._dynamo.decorators import leaf_function")


@pytest.mark.slow  # two interpreters per import, each importing torch and its compiler
@pytest.mark.parametrize("statement", SUBMODULE_IMPORTS)
def test_importing_a_submodule_imports_the_real_package_once(statement: str) -> None:
    """The modules loaded and the package's attributes for them are what the same import
    gives without the placeholder (where the package's attribute is not its submodule, as
    code_context, without the placeholder too); no module kept the finder's spec."""
    code = textwrap.dedent(f"""
        import json, sys
        import torch
        from grader.worker import ondemand
        if sys.argv[1] == "defer":
            ondemand.defer()
        {statement}
        import torch._dynamo as package
        names = sorted(n for n in sys.modules if n.startswith("torch._dynamo."))
        other = [n for n in names if n.count(".") == 2 and
                 getattr(package, n.rsplit(".", 1)[1], sys.modules[n]) is not sys.modules[n]]
        ours = [n for n in names if type(getattr(getattr(sys.modules[n], "__spec__", None),
                                                 "loader", None)).__name__ == "Loaded"]
        print(json.dumps([ondemand.placeholding(), type(package).__name__, names, other, ours]))
    """)
    deferred, plain = _run(code, "defer"), _run(code, "plain")
    assert deferred[:2] == [False, "module"] and deferred[4] == []
    assert deferred[2] == plain[2] and len(plain[2]) > 50
    assert deferred[3] == plain[3]


@pytest.mark.slow  # the compiler imported and a function traced
def test_torch_compile_after_an_eager_step_traces_with_the_real_compiler() -> None:
    code = textwrap.dedent("""
        import json
        import torch
        from grader.worker import ondemand
        ondemand.defer()
        p = torch.nn.Parameter(torch.ones(3))
        optimizer = torch.optim.SGD([p], lr=0.1)
        optimizer.zero_grad(); (p * p).sum().backward(); optimizer.step()
        compiled = torch.compile(lambda x: torch.sin(x) * 2 + 1, backend="eager")
        x = torch.linspace(0, 1, 5)
        same = bool(torch.equal(compiled(x), torch.sin(x) * 2 + 1))
        optimizer.zero_grad(); (p * p).sum().backward(); optimizer.step()  # the real disable now
        print(json.dumps([same, ondemand.placeholding(), p.detach().tolist()]))
    """)
    same, placeholder, weights = _run(code)
    assert same and not placeholder
    assert weights == pytest.approx([0.64] * 3)  # 1 -> 0.8 -> 0.64


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

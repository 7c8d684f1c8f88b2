"""Hidden suite for the assignment ``training`` (100 points).

Test names are ``test_<name>__<aspect>``: the part before ``__`` is the contract function or
class whose points the test holds (tests/test_training_suite.py relies on it). Each name is
graded only through its own tests, so one bug costs points in one place: ``train_model`` and
``evaluate`` are given the grader's own network (built in the worker by a probe, with layers
``fc1`` and ``fc2``), never the student's ``SimpleNN``, so a broken ``SimpleNN`` costs nothing
there.

Reference values are computed here, in the grader, with PyTorch: forward passes in float64 from
the student's own weights (read through ``state_dict()``), training with a functional copy of
the contract's loop (``F.linear`` as ``nn.Linear`` computes it, ``F.mse_loss``,
``torch.optim.SGD``) started from the same weights, generated from ``rng`` (seeded per student
and test from the course secret). No global torch RNG is touched.

Tolerances for training (CPU, float32): rtol 1e-4, atol 1e-5. The same float32 operations in
the same order give bit-identical results, but a correct loop need not use the same order: the
worker runs torch with one thread and the grader may not (BLAS blocks its sums differently),
``torch.split`` or ``F.relu`` or ``loss * len`` summed differently all round differently, and
rounding differences of ~1e-7 grow a little over a few SGD steps. Every mistake the tests aim at
(no zero_grad, step before backward, shuffling, unweighted epoch loss, another optimizer or lr)
changes values by far more than 1e-4 relative. On a GPU (0-point tests) kernels differ from the
CPU ones (TF32 is off by default for matmul, but reductions are ordered differently): rtol 1e-3,
atol 1e-4.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.suite import Device, Feedback, NotAttempted, StudentError, check, check_close, fmt

TRAIN_RTOL, TRAIN_ATOL = 1e-4, 1e-5
GPU_RTOL, GPU_ATOL = 1e-3, 1e-4
FORWARD_RTOL, FORWARD_ATOL = 1e-5, 1e-5
EVAL_RTOL, EVAL_ATOL = 1e-5, 1e-6

NO_GPU = "needs --device cuda: no GPU on this grading run"

# --------------------------------------------------------------------------- worker-side code

#: The grader's own network, defined in the worker by probes. Its layers are made under
#: ``fork_rng``, which puts the global torch RNG back as it was (``nn.utils.skip_init`` would
#: too, but its meta tensors import sympy: a quarter of a second in a worker's first probe);
#: the weights always come from ``load_state_dict``. ``calls`` records, for
#: every forward pass, whether the module was in training mode, whether autograd was recording
#: and whether the output needs a gradient.
NET_SOURCE = '''
import torch
from torch import nn


class GraderNet(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        with torch.random.fork_rng(devices=[]):  # the CPU RNG's draws for nn.Linear undone
            self.fc1 = nn.Linear(sizes[0], sizes[1])
            self.fc2 = nn.Linear(sizes[1], sizes[2])
        self.calls = []

    def forward(self, x):
        out = self.fc2(torch.relu(self.fc1(x)))
        self.calls.append((bool(self.training), bool(torch.is_grad_enabled()),
                           bool(out.requires_grad)))
        return out
'''

MAKE_NET = NET_SOURCE + '''
def probe(sizes, state):
    net = GraderNet(sizes)
    net.load_state_dict(state)
    return net
'''

CUDA_AVAILABLE = '''
def probe():
    import torch
    return bool(torch.cuda.is_available())
'''

PARAMETER_DEVICES = '''
def probe(model):
    return sorted({p.device.type for p in model.parameters()})
'''

#: every forward pass evaluate makes is reported to the grader as it happens (``record`` is a
#: grader-side function): what the grader counts is not an attribute the student can rewrite,
#: and each report carries the output, which the grader checks against its own forward
EVALUATE_RECORDING = '''
import torch


def probe(model, x, y, record):
    def report(module, inputs, output):
        record(bool(module.training), bool(torch.is_grad_enabled()),
               bool(output.requires_grad), output.detach().cpu().numpy())

    model.register_forward_hook(report)
    student.evaluate(model, x, y, device="cpu")
'''

TRAIN_WITH_TORCH_DEVICE = '''
import torch


def probe(model, x, y, epochs, lr, batch_size):
    return student.train_model(model, x, y, epochs=epochs, lr=lr, batch_size=batch_size,
                               device=torch.device("cpu"))
'''

# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Reference work on one thread: small tensors are much faster so, and it is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def random_weights(rng: np.random.Generator, sizes: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """``fc1.weight``, ``fc1.bias``, ... for the layer sizes, nn.Linear's uniform scale."""
    state = {}
    for number, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True),
                                                 start=1):
        bound = 1.0 / np.sqrt(fan_in)
        state[f"fc{number}.weight"] = tensor(rng.uniform(-bound, bound, (fan_out, fan_in)))
        state[f"fc{number}.bias"] = tensor(rng.uniform(-bound, bound, (fan_out,)))
    return state


def tensor(values: Any) -> torch.Tensor:
    return torch.from_numpy(np.asarray(values, dtype=np.float32))


def random_inputs(rng: np.random.Generator, n: int, features: int) -> torch.Tensor:
    return tensor(rng.normal(size=(n, features)))


def random_targets(rng: np.random.Generator, x: torch.Tensor, out: int) -> torch.Tensor:
    """A smooth function of x plus noise, so that training has something to learn."""
    a = x.numpy().astype(np.float64)
    mix = rng.normal(size=(a.shape[1], out)) / np.sqrt(a.shape[1])
    return tensor(np.tanh(a @ mix) + 0.5 * (a[:, :1] ** 2) + 0.1 * rng.normal(size=(len(a), out)))


def layer_count(state: Mapping[str, Any]) -> int:
    return sum(1 for key in state if key.endswith(".weight"))


def functional_forward(state: Mapping[str, Any], x: Any, *, hidden_relu: bool = True,
                       output_relu: bool = False) -> np.ndarray:
    """fc1, ReLU, fc2, ReLU, ..., fcK in float64 from a state dict of arrays or tensors."""
    h = np.asarray(_array(x), dtype=np.float64)
    layers = layer_count(state)
    for number in range(1, layers + 1):
        w = np.asarray(_array(state[f"fc{number}.weight"]), dtype=np.float64)
        b = np.asarray(_array(state[f"fc{number}.bias"]), dtype=np.float64)
        h = h @ w.T + b
        if (number < layers and hidden_relu) or (number == layers and output_relu):
            h = np.maximum(h, 0.0)
    return h


def centre_output_bias(state: dict[str, torch.Tensor], x: torch.Tensor) -> None:
    """Set the last bias so that about half of the outputs are negative (catches output ReLU)."""
    last = f"fc{layer_count(state)}.bias"
    state[last] = torch.zeros_like(state[last])
    raw = functional_forward(state, x)
    state[last] = tensor(-np.median(raw, axis=0) + 0.01)


def _array(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def state_of(model: Any, label: str) -> dict[str, np.ndarray]:
    """The model's state_dict as float64 arrays; Feedback when it is not one."""
    state = model.call_method("state_dict")
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise Feedback(f"{label}.state_dict() did not return a dict of tensors: {fmt(state, 200)}"
                       ". Derive your class from nn.Module and call super().__init__() first.")
    return {k: v.detach().numpy().astype(np.float64) for k, v in state.items()}


def expect_layers(state: Mapping[str, np.ndarray], shapes: Mapping[str, tuple[int, int]],
                  label: str) -> None:
    """Each named nn.Linear exists in the state dict with the given (out, in) shape."""
    for name, (fan_out, fan_in) in shapes.items():
        for key, shape in ((f"{name}.weight", (fan_out, fan_in)), (f"{name}.bias", (fan_out,))):
            check(key in state,
                  f"{label}: its state_dict has no entry {key!r} (it has {sorted(state)}). "
                  f"Store the layers as attributes named exactly {', '.join(shapes)}: "
                  f"self.{name} = nn.Linear(...) (not inside an nn.Sequential or a list).")
            check(state[key].shape == shape,
                  f"{label}: {key} has shape {state[key].shape}, expected {shape}. "
                  f"nn.Linear(in_features, out_features) stores its weight as "
                  f"(out_features, in_features): {name} should be "
                  f"nn.Linear({fan_in}, {fan_out}).")


def expect_parameter_count(state: Mapping[str, np.ndarray], count: int, label: str) -> None:
    total = sum(int(v.size) for v in state.values())
    check(total == count,
          f"{label} has {total} parameters in its state_dict, expected {count} "
          f"({', '.join(f'{k}: {v.shape}' for k, v in state.items())}). Only the contract's "
          "linear layers hold parameters.")


FORWARD_VARIANTS = (
    ({"output_relu": True}, "Your output matches the network with a ReLU after the last layer. "
     "The output layer is linear: a regression network must be able to predict negative "
     "values, so return the last layer's output as it is."),
    ({"hidden_relu": False}, "Your output matches the network without ReLU between the layers. "
     "Apply torch.relu (or an nn.ReLU module) to every hidden layer's output."),
)


def expect_forward(got: Any, state: Mapping[str, Any], x: torch.Tensor, label: str,
                   layers: str) -> None:
    """model(x) equals the functional network computed from the model's own weights."""
    names = [f"fc{k}" for k in range(1, layer_count(state) + 1)] or ["fc1"]
    for key in (f"{name}.{part}" for name in names for part in ("weight", "bias")):
        check(key in state, f"{label}: its state_dict has no entry {key!r} (it has "
              f"{sorted(state)}), so its output cannot be checked against its own weights. "
              "Store the layers as attributes named fc1, fc2, ...: self.fc1 = nn.Linear(...).")
    want = functional_forward(state, x)
    hint = f"forward computes {layers}, with no activation on the output layer."
    have = _maybe_array(got)
    if have is not None and have.shape == want.shape:
        for options, text in FORWARD_VARIANTS:
            variant = functional_forward(state, x, **options)
            if not np.allclose(have, want, rtol=FORWARD_RTOL, atol=FORWARD_ATOL) and np.allclose(
                    have, variant, rtol=FORWARD_RTOL, atol=FORWARD_ATOL):
                hint = text
                break
    check_close(got, want, name=f"{label}(x)", inputs={"x": x}, rtol=FORWARD_RTOL,
                atol=FORWARD_ATOL, hint=hint + " Expected values are computed from your model's "
                "own weights (its state_dict).")


def _maybe_array(value: Any) -> np.ndarray | None:
    if isinstance(value, torch.Tensor):
        return value.detach().numpy().astype(np.float64)
    return None


def load_weights(model: Any, state: Mapping[str, torch.Tensor], label: str) -> None:
    """model.load_state_dict(state); a refusal is Feedback naming the expected layers."""
    try:
        model.call_method("load_state_dict", state)
    except NotAttempted:
        raise
    except StudentError as exc:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in state.items())
        raise Feedback(f"{label}.load_state_dict(weights) failed with {exc.error_type}: "
                       f"{exc.detail[:600]}\nThe weights have the contract's layers ({shapes}): "
                       "name the layers and size them as the contract says.") from None


def grader_net(student: Any, sizes: tuple[int, int, int], state: dict[str, torch.Tensor]) -> Any:
    """The grader's fc1-ReLU-fc2 network in the worker, with the given weights."""
    return student.probe(MAKE_NET, list(sizes), state)


def expected_device_type(student: Any) -> str:
    available = student.probe(CUDA_AVAILABLE)
    if not isinstance(available, bool):
        raise Feedback("torch.cuda.is_available() could not be checked in your notebook's "
                       "process (did your notebook replace it?).")
    return "cuda" if available else "cpu"


def parameter_devices(student: Any, model: Any) -> list[str]:
    devices = student.probe(PARAMETER_DEVICES, model)
    if not isinstance(devices, list) or not all(isinstance(d, str) for d in devices):
        raise Feedback("The devices of the model's parameters could not be read.")
    return devices


def host_has_gpu(device: str) -> bool:
    """Whether this grading run uses a GPU: the run's --device and the grader's own torch,
    never what the student's process says (its torch is the student's to patch)."""
    return device != "cpu" and torch.cuda.is_available()


def gpu_run(student: Any, device: str) -> None:
    """Skip unless this grading run has a GPU for the worker."""
    if device == "cpu":
        pytest.skip(NO_GPU)
    if expected_device_type(student) != "cuda":
        pytest.skip(f"--device {device}, but torch.cuda.is_available() is False where the "
                    "notebook runs: no GPU on this grading run")


# --------------------------------------------------------------------------- reference training


def reference_training(state: Mapping[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                       epochs: int, lr: float, batch_size: int, *, zero_grad: bool = True,
                       step_first: bool = False, adam: bool = False
                       ) -> tuple[list[list[tuple[float, int]]], dict[str, np.ndarray]]:
    """The contract's loop, functionally: per epoch the (loss, length) of each batch, and the
    final weights. The flags replay common mistakes, for feedback only."""
    with one_thread():
        names = list(state)
        params = [state[k].detach().clone().requires_grad_(True) for k in names]
        optimizer = (torch.optim.Adam(params, lr=lr) if adam
                     else torch.optim.SGD(params, lr=lr))
        layers = len(params) // 2
        history = []
        for _ in range(epochs):
            batches = []
            for i in range(0, len(x), batch_size):
                xb, yb = x[i:i + batch_size], y[i:i + batch_size]
                if zero_grad:
                    optimizer.zero_grad()
                h = xb
                for number in range(layers):
                    h = F.linear(h, params[2 * number], params[2 * number + 1])
                    if number < layers - 1:
                        h = torch.relu(h)
                loss = F.mse_loss(h, yb)
                if step_first:
                    optimizer.step()
                    loss.backward()
                else:
                    loss.backward()
                    optimizer.step()
                batches.append((loss.item(), len(xb)))
            history.append(batches)
        final = {k: p.detach().numpy().astype(np.float64)
                 for k, p in zip(names, params, strict=True)}
    return history, final


def epoch_losses(history: list[list[tuple[float, int]]], how: str = "weighted") -> list[float]:
    out = []
    for batches in history:
        n = sum(length for _, length in batches)
        if how == "weighted":
            out.append(sum(loss * length for loss, length in batches) / n)
        elif how == "unweighted":
            out.append(sum(loss for loss, _ in batches) / len(batches))
        elif how == "last":
            out.append(batches[-1][0])
        elif how == "first":
            out.append(batches[0][0])
        elif how == "sum_weighted":
            out.append(sum(loss * length for loss, length in batches))
        elif how == "sum":
            out.append(sum(loss for loss, _ in batches))
    return out


#: In words, never a solution's code: the public tests give these for the same mistakes
#: (tests/test_feedback_engine.py).
WEIGHTED_RECIPE = ("weight each batch's loss by its number of samples, add these up over the "
                   "epoch, and divide by n, the number of samples.")
LOSS_AGGREGATE_HINTS = {
    "unweighted": "Your epoch losses are the plain mean of the batch losses. The last batch is "
                  "shorter when n is not a multiple of batch_size: " + WEIGHTED_RECIPE,
    "last": "Your epoch losses are the loss of the last batch only. Accumulate over all batches "
            "of the epoch: " + WEIGHTED_RECIPE,
    "first": "Your epoch losses are the loss of the first batch only. Accumulate over all "
             "batches of the epoch: " + WEIGHTED_RECIPE,
    "sum_weighted": "Your epoch losses are the sum of each batch's loss times its number of "
                    "samples, not yet divided by n, the number of samples.",
    "sum": "Your epoch losses are the sum of the batch losses. Instead, " + WEIGHTED_RECIPE,
}

LOOP_HINTS = {
    "no_zero_grad": "Your training matches a loop without optimizer.zero_grad(). "
                    "loss.backward() adds to each parameter's .grad, so without zero_grad() "
                    "every step uses the sum of all gradients so far. Call "
                    "optimizer.zero_grad() at the start of every batch.",
    "step_first": "Your training matches a loop that calls optimizer.step() before "
                  "loss.backward(). The step uses the gradients in .grad, so compute them "
                  "first: zero_grad -> forward -> loss -> backward -> step.",
    "adam": "Your training matches torch.optim.Adam. The contract uses plain gradient descent: "
            "torch.optim.SGD(model.parameters(), lr=lr).",
}

GENERIC_TRAIN_HINT = (
    "The expected values come from the contract's loop started from the same weights: "
    "nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=lr), batches inputs[i:i + batch_size] "
    "in order (no shuffling, no torch.randperm), and per batch zero_grad -> forward -> loss -> "
    "backward -> step. The epoch loss is sum(loss.item() * len(batch_x)) / n.")


def _matches(got: Any, want: Any, rtol: float = TRAIN_RTOL, atol: float = TRAIN_ATOL) -> bool:
    try:
        a = np.asarray(got, dtype=np.float64)
        b = np.asarray(want, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def diagnose(got_losses: list[float] | None, got_state: Mapping[str, np.ndarray] | None,
             state: Mapping[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, epochs: int,
             lr: float, batch_size: int, history: list[list[tuple[float, int]]]) -> str:
    """A hint naming the mistake whose replay matches the student's results, else the recipe."""
    if got_losses is not None:
        for how, text in LOSS_AGGREGATE_HINTS.items():
            if _matches(got_losses, epoch_losses(history, how)):
                return text
    for flag, text in LOOP_HINTS.items():
        options = {"zero_grad": flag != "no_zero_grad", "step_first": flag == "step_first",
                   "adam": flag == "adam"}
        other_history, other_state = reference_training(state, x, y, epochs, lr, batch_size,
                                                        **options)
        if got_losses is not None and _matches(got_losses, epoch_losses(other_history)):
            return text
        if got_state is not None and _same_state(got_state, other_state):
            return text
    for factor in (10.0, 0.1):
        scaled_history, scaled = reference_training(state, x, y, epochs, lr * factor,
                                                    batch_size)
        if (got_state is not None and _same_state(got_state, scaled)) or (
                got_losses is not None and _matches(got_losses, epoch_losses(scaled_history))):
            return (f"Your training matches a learning rate of lr * {factor:g}: pass lr to "
                    "torch.optim.SGD as it is.")
    return GENERIC_TRAIN_HINT


def _same_state(got: Mapping[str, np.ndarray], want: Mapping[str, np.ndarray]) -> bool:
    return all(k in got and _matches(got[k], v) for k, v in want.items())


def plain_losses(value: Any, epochs: int) -> list[float]:
    """The returned losses as floats (tensors and numpy numbers accepted here), or Feedback."""
    check(isinstance(value, (list, tuple)),
          f"train_model returned {fmt(value, 200)}, expected a list of {epochs} epoch losses.")
    check(len(value) == epochs,
          f"train_model(..., epochs={epochs}) returned {len(value)} losses, expected one per "
          f"epoch ({epochs}): append the epoch's loss after each pass over the data.")
    out = []
    for item in value:
        if isinstance(item, torch.Tensor) and item.numel() == 1:
            item = item.detach().reshape(()).item()
        if isinstance(item, (int, float, np.integer, np.floating)) and not isinstance(item, bool):
            out.append(float(item))
        else:
            raise Feedback(f"train_model returned {fmt(value, 200)}: each epoch loss should be "
                           "a number (loss.item() gives a Python float).")
    return out


class TrainingSetup:
    """Weights, data and hyperparameters of one training check, and its reference."""

    def __init__(self, rng: np.random.Generator, sizes: tuple[int, int, int], n: int,
                 epochs: int, lr: float, batch_size: int) -> None:
        self.sizes, self.epochs, self.lr, self.batch_size = sizes, epochs, lr, batch_size
        self.state = random_weights(rng, sizes)
        self.x = random_inputs(rng, n, sizes[0])
        self.y = random_targets(rng, self.x, sizes[-1])
        self.history, self.final = reference_training(self.state, self.x, self.y, epochs, lr,
                                                      batch_size)
        self.losses = epoch_losses(self.history)

    def model(self, student: Any) -> Any:
        return grader_net(student, self.sizes, self.state)

    def call(self, device: str | None = "cpu") -> str:
        return (f"train_model(model, inputs, targets, epochs={self.epochs}, lr={self.lr:g}, "
                f"batch_size={self.batch_size}, device={device!r}) with n = {len(self.x)} "
                f"samples")

    def train(self, student: Any, model: Any, device: str = "cpu") -> Any:
        return student.train_model(model, self.x, self.y, epochs=self.epochs, lr=self.lr,
                                   batch_size=self.batch_size, device=device)

    def hint(self, got_losses: list[float] | None, got_state: Mapping[str, np.ndarray] | None,
             ) -> str:
        return diagnose(got_losses, got_state, self.state, self.x, self.y, self.epochs, self.lr,
                        self.batch_size, self.history)

    def expect_losses(self, got: Any, label: str, rtol: float = TRAIN_RTOL,
                      atol: float = TRAIN_ATOL) -> None:
        losses = plain_losses(got, self.epochs)
        if not _matches(losses, self.losses, rtol, atol):
            check_close(losses, self.losses, name=f"the epoch losses of {label}", rtol=rtol,
                        atol=atol, hint=self.hint(losses, None))

    def expect_parameters(self, model: Any, label: str, rtol: float = TRAIN_RTOL,
                          atol: float = TRAIN_ATOL) -> None:
        got = state_of(model, "the model")
        for key, want in self.final.items():
            if key not in got or not _matches(got[key], want, rtol, atol):
                hint = self.hint(None, got)
                check(key in got, f"After {label}, the model has no parameter {key}.")
                check_close(got[key], want, name=f"{key} after {label}", rtol=rtol, atol=atol,
                            hint=hint)


# --------------------------------------------------------------------------- SimpleNN (20)

SIMPLE_LAYERS = {"fc1": (50, 10), "fc2": (1, 50)}


@pytest.mark.points(6)
def test_SimpleNN__layers(student):
    """SimpleNN: layers fc1 = Linear(10, 50) and fc2 = Linear(50, 1)"""
    model = student.SimpleNN()
    expect_layers(state_of(model, "SimpleNN()"), SIMPLE_LAYERS, "SimpleNN()")
    weight = model.fc1.weight
    check(isinstance(weight, torch.Tensor) and tuple(weight.shape) == (50, 10),
          f"SimpleNN().fc1.weight is {fmt(weight, 120)}, expected a (50, 10) tensor: "
          "self.fc1 = nn.Linear(10, 50).")


@pytest.mark.points(4)
def test_SimpleNN__parameter_count(student):
    """SimpleNN: 601 parameters (550 in fc1, 51 in fc2)"""
    expect_parameter_count(state_of(student.SimpleNN(), "SimpleNN()"), 601, "SimpleNN()")


@pytest.mark.points(6)
def test_SimpleNN__forward(student, rng):
    """SimpleNN: forward gives fc2(relu(fc1(x))), shape (n, 1)"""
    model = student.SimpleNN()
    x = random_inputs(rng, int(rng.integers(6, 12)), 10)
    # known weights, not the student's random initial ones: an output ReLU (or any mistake
    # that shows only on some weights) must fail on every run, not on some seeds
    state = random_weights(rng, (10, 50, 1))
    centre_output_bias(state, x)
    load_weights(model, state, "SimpleNN()")
    expect_forward(model(x), state, x, "SimpleNN()", "fc2(relu(fc1(x)))")


@pytest.mark.points(4)
def test_SimpleNN__negative_outputs(student, rng):
    """SimpleNN: with loaded weights, negative outputs stay negative (linear output layer)"""
    model = student.SimpleNN()
    x = random_inputs(rng, 12, 10)
    state = random_weights(rng, (10, 50, 1))
    centre_output_bias(state, x)
    load_weights(model, state, "SimpleNN()")
    expect_forward(model(x), state, x, "SimpleNN()", "fc2(relu(fc1(x)))")


# --------------------------------------------------------------------------- TwoHiddenLayerNet (20)


def two_hidden_layers(sizes: tuple[int, int, int, int]) -> dict[str, tuple[int, int]]:
    return {"fc1": (sizes[1], sizes[0]), "fc2": (sizes[2], sizes[1]), "fc3": (sizes[3], sizes[2])}


@pytest.mark.points(5)
def test_TwoHiddenLayerNet__default_layers(student):
    """TwoHiddenLayerNet: default sizes 3 -> 4 -> 3 -> 1, layers fc1, fc2, fc3 (35 parameters)"""
    state = state_of(student.TwoHiddenLayerNet(), "TwoHiddenLayerNet()")
    expect_layers(state, two_hidden_layers((3, 4, 3, 1)), "TwoHiddenLayerNet()")
    expect_parameter_count(state, 35, "TwoHiddenLayerNet()")


@pytest.mark.points(6)
def test_TwoHiddenLayerNet__custom_sizes(student, rng):
    """TwoHiddenLayerNet: other sizes, positional and by keyword, and the output shape"""
    sizes = (5, 7, 6, 2)
    label = "TwoHiddenLayerNet(5, 7, 6, 2)"
    hint = " Use the constructor's arguments for the layer sizes, not fixed numbers."
    model = student.TwoHiddenLayerNet(*sizes)
    try:
        expect_layers(state_of(model, label), two_hidden_layers(sizes), label)
    except Feedback as exc:
        raise Feedback(str(exc) + hint) from None
    out = model(random_inputs(rng, 4, 5))
    check(isinstance(out, torch.Tensor) and tuple(out.shape) == (4, 2),
          f"{label}(x) with x of shape (4, 5) returned {fmt(out, 160)}, expected a tensor of "
          "shape (4, 2).")
    keywords = {"in_features": 2, "hidden1": 3, "hidden2": 5, "out_features": 3}
    label = "TwoHiddenLayerNet(in_features=2, hidden1=3, hidden2=5, out_features=3)"
    model = student.TwoHiddenLayerNet(**keywords)
    try:
        expect_layers(state_of(model, label), two_hidden_layers((2, 3, 5, 3)), label)
    except Feedback as exc:
        raise Feedback(str(exc) + hint) from None


@pytest.mark.points(9)
def test_TwoHiddenLayerNet__forward(student, rng):
    """TwoHiddenLayerNet: forward gives fc3(relu(fc2(relu(fc1(x))))), negative outputs kept"""
    layers = "fc3(relu(fc2(relu(fc1(x)))))"
    model = student.TwoHiddenLayerNet()
    x = random_inputs(rng, 8, 3)
    got = model(x)
    expect_forward(got, state_of(model, "TwoHiddenLayerNet()"), x, "TwoHiddenLayerNet()", layers)

    sizes = (5, 7, 6, 2)
    model = student.TwoHiddenLayerNet(*sizes)
    x = random_inputs(rng, 10, 5)
    state = random_weights(rng, sizes)
    centre_output_bias(state, x)
    load_weights(model, state, "TwoHiddenLayerNet(5, 7, 6, 2)")
    expect_forward(model(x), state, x, "TwoHiddenLayerNet(5, 7, 6, 2)", layers)


# --------------------------------------------------------------------------- get_device (6)


@pytest.mark.points(3)
def test_get_device__returns_torch_device(student):
    """get_device: returns a torch.device"""
    got = student.get_device()
    check(isinstance(got, Device),
          f"get_device() returned {fmt(got, 120)}, expected a torch.device: return "
          'torch.device("cuda") or torch.device("cpu"), not the string.')


@pytest.mark.points(3)
def test_get_device__matches_cuda_availability(student, device):
    """get_device: cuda exactly when torch.cuda.is_available()"""
    want = "cuda" if host_has_gpu(device) else "cpu"  # the grader's fact, not the worker's
    got = student.get_device()
    name = got.name if isinstance(got, Device) else got if isinstance(got, str) else None
    check(name is not None and name.split(":")[0] == want,
          f"get_device() returned {fmt(got, 120)} where torch.cuda.is_available() is "
          f"{want == 'cuda'}; expected a device of type {want!r}. Use "
          'torch.device("cuda" if torch.cuda.is_available() else "cpu").')


# --------------------------------------------------------------------------- train_model (34)


@pytest.mark.points(10)
def test_train_model__epoch_losses(student, rng):
    """train_model: each epoch's loss (mini-batches in order, sample-weighted mean)"""
    setup = TrainingSetup(rng, (5, 8, 1), n=50, epochs=3, lr=0.05, batch_size=16)
    got = setup.train(student, setup.model(student))
    setup.expect_losses(got, setup.call())


@pytest.mark.points(10)
def test_train_model__final_parameters(student, rng):
    """train_model: the trained weights (zero_grad, backward, step per batch; SGD with lr)"""
    setup = TrainingSetup(rng, (5, 8, 1), n=50, epochs=3, lr=0.05, batch_size=16)
    model = setup.model(student)
    setup.train(student, model)
    setup.expect_parameters(model, setup.call())


@pytest.mark.points(4)
def test_train_model__returns_floats(student, rng):
    """train_model: returns a list with one Python float per epoch"""
    setup = TrainingSetup(rng, (4, 6, 1), n=20, epochs=4, lr=0.05, batch_size=8)
    got = setup.train(student, setup.model(student))
    plain_losses(got, setup.epochs)
    bad = [item for item in got if not isinstance(item, float)]
    check(not bad,
          f"train_model returned {fmt(got, 200)}: the epoch losses should be Python floats, "
          f"not {type(bad[0]).__name__ if bad else ''}. Use loss.item(), which also detaches "
          "the value from the graph (a list of loss tensors keeps every graph alive).")
    setup.expect_losses(got, setup.call())  # floats of the training, not any floats


@pytest.mark.points(6)
def test_train_model__defaults(student, rng, record_curve, device):
    """train_model: default epochs=100, lr=0.01, batch_size=64 and device=None (get_device())"""
    setup = TrainingSetup(rng, (4, 6, 1), n=40, epochs=100, lr=0.01, batch_size=64)
    model = setup.model(student)
    got = student.train_model(model, setup.x, setup.y)
    label = f"train_model(model, inputs, targets) with n = {len(setup.x)}"
    record_curve(label, plain_losses(got, setup.epochs), setup.losses)
    # Where the parameters end up is checked only by the 0-point GPU test: on a CPU-only run
    # get_device() is the CPU whatever the code says, and the score must not depend on the run.
    rtol, atol = (GPU_RTOL, GPU_ATOL) if host_has_gpu(device) else (TRAIN_RTOL, TRAIN_ATOL)
    setup.expect_losses(got, label, rtol, atol)
    setup.expect_parameters(model, label, rtol, atol)


@pytest.mark.points(4)
def test_train_model__full_batch_two_outputs(student, rng):
    """train_model: batch_size larger than n, two outputs, device given as a torch.device"""
    setup = TrainingSetup(rng, (3, 5, 2), n=12, epochs=4, lr=0.1, batch_size=32)
    model = setup.model(student)
    got = student.probe(TRAIN_WITH_TORCH_DEVICE, model, setup.x, setup.y, setup.epochs,
                        setup.lr, setup.batch_size)
    label = (f"train_model(model, inputs, targets, epochs={setup.epochs}, lr={setup.lr:g}, "
             f"batch_size={setup.batch_size}, device=torch.device('cpu')) with n = "
             f"{len(setup.x)} samples and targets of shape (12, 2)")
    setup.expect_losses(got, label)
    setup.expect_parameters(model, label)


# --------------------------------------------------------------------------- evaluate (20)


def evaluation_setup(rng: np.random.Generator) -> tuple[tuple[int, int, int],
                                                        dict[str, torch.Tensor],
                                                        torch.Tensor, torch.Tensor, float]:
    sizes = (4, 6, 2)
    state = random_weights(rng, sizes)
    x = random_inputs(rng, int(rng.integers(20, 30)), sizes[0])
    y = random_targets(rng, x, sizes[-1])
    want = float(np.mean((functional_forward(state, x) - y.numpy().astype(np.float64)) ** 2))
    return sizes, state, x, y, want


def _number(value: Any) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().reshape(()).item())
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return None


@pytest.mark.points(8)
def test_evaluate__value(student, rng):
    """evaluate: the MSE over all samples and outputs (device "cpu" and device=None)"""
    sizes, state, x, y, want = evaluation_setup(rng)
    n, out = y.shape
    for device in ("cpu", None):
        got = student.evaluate(grader_net(student, sizes, state), x, y, device=device)
        label = (f"evaluate(model, inputs, targets, device={device!r}) with targets of shape "
                 f"{(n, out)}")
        value = _number(got)
        check(value is not None, f"{label} returned {fmt(got, 160)}, expected a number.")
        hint = ("The MSE is the mean of the squared errors over all n * out elements: "
                "nn.MSELoss()(model(inputs), targets).item().")
        if value is not None and np.isclose(value, want * n * out, rtol=EVAL_RTOL):
            hint = "Your value is the sum of the squared errors; the MSE is their mean. " + hint
        elif value is not None and np.isclose(value, want * out, rtol=EVAL_RTOL):
            hint = "Your value is the mean over samples of the summed outputs' errors. " + hint
        check_close(value, want, name=label, rtol=EVAL_RTOL, atol=EVAL_ATOL, hint=hint)


@pytest.mark.points(3)
def test_evaluate__returns_float(student, rng):
    """evaluate: returns a Python float"""
    sizes, state, x, y, _ = evaluation_setup(rng)
    got = student.evaluate(grader_net(student, sizes, state), x, y, device="cpu")
    check(isinstance(got, float),
          f"evaluate returned {fmt(got, 160)}, expected a Python float: return loss.item().")


@pytest.mark.points(6)
def test_evaluate__eval_mode_no_grad(student, rng):
    """evaluate: runs the model in eval mode (model.eval()) without building a graph"""
    sizes, state, x, y, _ = evaluation_setup(rng)
    calls: list[tuple[bool, bool, bool]] = []  # counted here, in the grader
    want = functional_forward(state, x)

    def record(training: Any, grad: Any, needs_grad: Any, output: Any) -> None:
        flags = (training, grad, needs_grad)
        if not all(isinstance(f, bool) for f in flags) or not _matches(output, want, EVAL_RTOL,
                                                                       EVAL_ATOL):
            calls.append((True, True, True))  # not a forward pass of the model on x
        else:
            calls.append(flags)

    student.probe(EVALUATE_RECORDING, grader_net(student, sizes, state), x, y, record)
    check(len(calls) > 0, "evaluate(model, inputs, targets) never ran the model: call "
          "model(inputs) to get the predictions.")
    problems = []
    if any(training for training, _, _ in calls):
        problems.append("evaluate ran the model in training mode. Call model.eval() before the "
                        "forward pass: layers such as dropout and batch norm behave differently "
                        "when evaluating.")
    if any(grad and needs_grad for _, grad, needs_grad in calls):
        problems.append("evaluate built an autograd graph: the model's output requires a "
                        "gradient. Run the forward pass inside `with torch.no_grad():` (nothing "
                        "will call backward, so the graph only costs memory).")
    check(not problems, "\n".join(problems))


@pytest.mark.points(3)
def test_evaluate__parameters_unchanged(student, rng):
    """evaluate: leaves the model's parameters unchanged"""
    sizes, state, x, y, _ = evaluation_setup(rng)
    model = grader_net(student, sizes, state)
    student.evaluate(model, x, y, device="cpu")
    got = state_of(model, "the model")
    for key, want in state.items():
        check(key in got and np.array_equal(got[key], want.numpy().astype(np.float64)),
              f"evaluate changed the model's parameter {key}. Evaluating must not train: no "
              "optimizer, no loss.backward(), no optimizer.step().")


# --------------------------------------------------------------------------- GPU (0 points)


@pytest.mark.points(0)
def test_train_model__cuda_device(student, rng, device):
    """train_model: device="cuda" moves a CPU model to the GPU and trains it there"""
    gpu_run(student, device)
    setup = TrainingSetup(rng, (5, 8, 1), n=50, epochs=3, lr=0.05, batch_size=16)
    model = setup.model(student)
    got = setup.train(student, model, device="cuda")
    label = setup.call("cuda")
    devices = parameter_devices(student, model)
    check(devices == ["cuda"],
          f"After {label}, the model's parameters are on {devices}, expected the GPU: move "
          "the model with model.to(device) and the data with inputs.to(device).")
    setup.expect_losses(got, label, GPU_RTOL, GPU_ATOL)
    setup.expect_parameters(model, label, GPU_RTOL, GPU_ATOL)


@pytest.mark.points(0)
def test_train_model__cuda_default_device(student, rng, device):
    """train_model: device=None on a GPU machine trains on the GPU (get_device())"""
    gpu_run(student, device)
    setup = TrainingSetup(rng, (4, 6, 1), n=24, epochs=2, lr=0.05, batch_size=8)
    model = setup.model(student)
    got = student.train_model(model, setup.x, setup.y, epochs=setup.epochs, lr=setup.lr,
                              batch_size=setup.batch_size)
    devices = parameter_devices(student, model)
    check(devices == ["cuda"],
          f"After {setup.call(None)}, the model's parameters are on {devices}, expected the "
          "GPU: device=None means get_device(); move the model with model.to(device).")
    setup.expect_losses(got, setup.call(None), GPU_RTOL, GPU_ATOL)


@pytest.mark.points(0)
def test_evaluate__cuda_device(student, rng, device):
    """evaluate: device="cuda" with a CPU model and CPU data"""
    gpu_run(student, device)
    sizes, state, x, y, want = evaluation_setup(rng)
    got = student.evaluate(grader_net(student, sizes, state), x, y, device="cuda")
    check_close(_number(got), want, name='evaluate(model, inputs, targets, device="cuda")',
                rtol=GPU_RTOL, atol=GPU_ATOL, hint="Move the model and both tensors to device.")

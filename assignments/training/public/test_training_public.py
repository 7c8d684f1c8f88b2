"""Public tests for the assignment ``training``: easy cases you can check by hand.

Run them with ``python -m pytest public/`` from the assignment folder. Passing them is a good
sign, not a guarantee: the grader's tests also load known weights into your networks and
compare their outputs (negative ones included) with the expected ones, train from known weights
and compare every epoch loss and the final weights with a reference training loop (batch order,
zero_grad, backward before step, the sample-weighted epoch loss), check that ``evaluate`` runs
in eval mode without building a graph and leaves the weights unchanged, and use
``TwoHiddenLayerNet`` with sizes other than the default.
"""

from __future__ import annotations

import math

import torch

#: The hint a common mistake gets: the grader's own words for the same mistake (the course's
#: tests check that these match the hidden suite's, so the self-check and the grade agree).
WEIGHTED = ("weight each batch's loss by its number of samples, add these up over the epoch, "
            "and divide by n, the number of samples.")
HINTS = {
    "unweighted": "Your epoch losses are the plain mean of the batch losses. The last batch is "
                  "shorter when n is not a multiple of batch_size: " + WEIGHTED,
    "last": "Your epoch losses are the loss of the last batch only. Accumulate over all batches "
            "of the epoch: " + WEIGHTED,
    "first": "Your epoch losses are the loss of the first batch only. Accumulate over all "
             "batches of the epoch: " + WEIGHTED,
    "sum_weighted": "Your epoch losses are the sum of each batch's loss times its number of "
                    "samples, not yet divided by n, the number of samples.",
    "sum": "Your epoch losses are the sum of the batch losses. Instead, " + WEIGHTED,
}


def data(n, features, outputs, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=generator)
    y = torch.randn(n, outputs, generator=generator)
    return x, y


def shape_of(value):
    return tuple(value.shape)


def device_type(device):
    """"cpu" or "cuda" from a torch.device (or the grader's record of one)."""
    if hasattr(device, "type"):
        return device.type
    return str(getattr(device, "name", device)).split(":")[0]


def test_simple_nn_layer_shapes(student):
    """SimpleNN has fc1 = Linear(10, 50) and fc2 = Linear(50, 1)"""
    model = student.SimpleNN()
    assert shape_of(model.fc1.weight) == (50, 10), "fc1.weight should have shape (50, 10)"
    assert shape_of(model.fc1.bias) == (50,), "fc1.bias should have shape (50,)"
    assert shape_of(model.fc2.weight) == (1, 50), "fc2.weight should have shape (1, 50)"
    assert shape_of(model.fc2.bias) == (1,), "fc2.bias should have shape (1,)"


def test_simple_nn_parameter_count(student):
    """SimpleNN has 10 * 50 + 50 + 50 * 1 + 1 = 601 parameters"""
    state = student.SimpleNN().state_dict()
    total = sum(math.prod(shape_of(v)) for v in state.values())
    assert total == 601, f"SimpleNN has {total} parameters, expected 601"


def test_simple_nn_output_shape(student):
    """SimpleNN maps a (4, 10) batch to a (4, 1) output"""
    x, _ = data(4, 10, 1)
    out = student.SimpleNN()(x)
    assert shape_of(out) == (4, 1), f"output shape {shape_of(out)}, expected (4, 1)"


def test_two_hidden_layer_net_default_shapes(student):
    """TwoHiddenLayerNet() is 3 -> 4 -> 3 -> 1"""
    model = student.TwoHiddenLayerNet()
    assert shape_of(model.fc1.weight) == (4, 3), "fc1.weight should have shape (4, 3)"
    assert shape_of(model.fc2.weight) == (3, 4), "fc2.weight should have shape (3, 4)"
    assert shape_of(model.fc3.weight) == (1, 3), "fc3.weight should have shape (1, 3)"


def test_two_hidden_layer_net_custom_output_shape(student):
    """TwoHiddenLayerNet(5, 7, 6, 2) maps a (3, 5) batch to a (3, 2) output"""
    x, _ = data(3, 5, 2)
    out = student.TwoHiddenLayerNet(5, 7, 6, 2)(x)
    assert shape_of(out) == (3, 2), f"output shape {shape_of(out)}, expected (3, 2)"


def test_get_device_type(student):
    """get_device() is cuda exactly when torch.cuda.is_available()"""
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device_type(student.get_device()) == expected


def test_train_model_returns_one_float_per_epoch(student):
    """train_model returns a list of `epochs` Python floats"""
    x, y = data(20, 10, 1)
    losses = student.train_model(student.SimpleNN(), x, y, epochs=3, lr=0.01, batch_size=8,
                                 device="cpu")
    assert len(losses) == 3, f"expected 3 epoch losses, got {len(losses)}"
    assert all(isinstance(v, float) for v in losses), "each epoch loss should be a float " \
        "(use loss.item())"
    assert all(math.isfinite(v) and v >= 0 for v in losses), f"losses {losses}"


def test_evaluate_returns_a_float(student):
    """evaluate returns the MSE as a non-negative Python float"""
    x, y = data(12, 10, 1)
    value = student.evaluate(student.SimpleNN(), x, y, device="cpu")
    assert isinstance(value, float), f"evaluate returned {value!r}, expected a float"
    assert value >= 0


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)


def test_train_model_epoch_loss_is_sample_weighted(student):
    """with lr = 0 the model does not change, so each epoch loss is its MSE over all 20
    samples (batches of 8, 8 and 4: the last one shorter)"""
    model = student.SimpleNN()
    generator = torch.Generator().manual_seed(5)  # known weights: the same wherever it runs
    model.load_state_dict({name: 0.3 * torch.randn(tuple(value.shape), generator=generator)
                           for name, value in model.state_dict().items()})
    x, y = data(20, 10, 1, seed=3)
    with torch.no_grad():
        batches = [(float(((model(x[i:i + 8]) - y[i:i + 8]) ** 2).mean()), len(x[i:i + 8]))
                   for i in range(0, 20, 8)]
    expected = sum(loss * size for loss, size in batches) / 20
    losses = student.train_model(model, x, y, epochs=2, lr=0.0, batch_size=8, device="cpu")
    assert len(losses) == 2, f"expected 2 epoch losses, got {len(losses)}"
    if all(close(float(v), expected) for v in losses):
        return
    ways = {"unweighted": sum(loss for loss, _ in batches) / len(batches),
            "last": batches[-1][0], "first": batches[0][0],
            "sum_weighted": sum(loss * size for loss, size in batches),
            "sum": sum(loss for loss, _ in batches)}
    how = next((how for how, value in ways.items()
                if all(close(float(v), value) for v in losses)), "")
    hint = f"\nHint: {HINTS[how]}" if how else ""
    raise AssertionError(f"train_model(..., lr=0.0, batch_size=8) on 20 samples: epoch losses "
                         f"{[float(v) for v in losses]}, expected {expected} for each (the "
                         f"model's MSE over all samples){hint}")

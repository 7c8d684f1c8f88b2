import numpy as np

# %%
def relu(z):
    """max(0, z), element-wise."""
    return np.maximum(0, z)


def relu_grad(z):
    """ReLU'(z): 1 where z > 0, else 0 (the convention ReLU'(0) = 0, like PyTorch)."""
    return (np.asarray(z) > 0).astype(float)


def loss(y_hat, y):
    """L = 1/2 * mean((y_hat - y)^2) over all n * out elements, as a float."""
    return float(0.5 * np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2))

# %%
def init_params(layer_sizes, seed=0):
    """One (W, b) per layer: W of shape (out, in) with He init N(0, 2/in), b zeros (out,)."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=True):
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))  # like nn.Linear
        b = np.zeros(fan_out)
        params.append((W, b))
    return params


def forward(params, x):
    """(y_hat, cache): ReLU hidden layers, linear output; cache = [(a_prev, z), ...] per layer."""
    a = np.asarray(x, dtype=float)  # a^(0) = x, shape (n, in)
    cache = []
    for layer, (W, b) in enumerate(params):
        z = a @ W.T + b  # z^(l) = a^(l-1) W^T + b, shape (n, out)
        cache.append((a, z))  # what backward needs for this layer
        last = layer == len(params) - 1
        a = z if last else relu(z)  # the output layer is linear
    return a, cache

# %%
def backward(params, cache, y):
    """The gradient of L = 0.5 * mean((y_hat - y)^2): a list of (dW, db) shaped like params."""
    y = np.asarray(y, dtype=float)
    y_hat = cache[-1][1]  # the output layer is linear: y_hat = z^(L)
    N = y_hat.size  # number of elements n * out
    delta = (y_hat - y) / N  # delta^(L) = dL/dz^(L) = dL/dy_hat
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        W, b = params[layer]
        a_prev, z = cache[layer]
        dW = delta.T @ a_prev  # (out, n) @ (n, in) -> (out, in), like W
        db = delta.sum(axis=0)  # sum over the batch -> (out,)
        grads[layer] = (dW, db)
        if layer > 0:
            z_prev = cache[layer - 1][1]
            # delta^(l-1) = (delta^(l) W^(l)) * ReLU'(z^(l-1))
            delta = (delta @ W) * relu_grad(z_prev)
    return grads

# %%
def sgd_step(params, grads, lr):
    """The updated params: W - lr * dW and b - lr * db for every layer."""
    return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads, strict=True)]

# %%
def numerical_gradient(f, x, eps=1e-6):
    """Centred finite differences (f(x + eps) - f(x - eps)) / (2 eps) per entry; x restored."""
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old - eps
        f_minus = f(x)
        x[i] = old  # restore the original value
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad

# %%
def train(x, y, layer_sizes=(3, 4, 3, 1), lr=0.01, epochs=100, seed=0):
    """Full-batch gradient descent from init_params(layer_sizes, seed): (params, losses)."""
    params = init_params(layer_sizes, seed)
    losses = []
    for _ in range(epochs):
        y_hat, cache = forward(params, x)
        losses.append(loss(y_hat, y))  # L before this update
        grads = backward(params, cache, y)
        params = sgd_step(params, grads, lr)
    return params, losses

# %%
# Restart & Run All goes past this cell while a function is unfinished.
try:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.5], [-2.0], [0.5]]) + 1.0 + 0.1 * rng.normal(size=(64, 1))

    params = init_params((3, 4, 3, 1), seed=1)
    y_hat, cache = forward(params, x[:8])
    grads = backward(params, cache, y[:8])
    W1 = params[0][0]
    numeric = numerical_gradient(lambda W: loss(forward(params, x[:8])[0], y[:8]), W1)
    print("max |dW1 - numerical| =", np.abs(grads[0][0] - numeric).max())

    params, losses = train(x, y, layer_sizes=(3, 4, 3, 1), lr=0.05, epochs=500, seed=1)
    for epoch in range(0, 500, 100):
        print(f"epoch {epoch:3d}  loss {losses[epoch]:.4f}")
    print(f"final      loss {loss(forward(params, x)[0], y):.4f}")
except NotImplementedError:
    print("A function above is not written yet (it raises NotImplementedError): "
          "come back to this cell when it is.")

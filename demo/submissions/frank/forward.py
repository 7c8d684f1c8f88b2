import numpy as np

# %%
def stable_sigmoid(z):
    """1 / (1 + e^-z), element-wise, without overflow: only e^-|z| (<= 1) is computed."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


ACTIVATIONS = {
    "relu": lambda z: np.maximum(0, z),                                 # max(0, z)
    "sigmoid": stable_sigmoid,                                          # 1 / (1 + e^-z)
    "tanh": np.tanh,                                                    # 2 sigma(2z) - 1
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),  # z, or e^z - 1
}

# %%
def init_params(layer_sizes, seed=0):
    """Random parameters for a dense network: a list of (W, b), one pair per layer.

    W has shape (fan_out, fan_in) like torch.nn.Linear's weight, b has shape (fan_out,).
    The same seed gives the same parameters.
    """
    rng = np.random.default_rng(seed)  # every random number comes from this generator
    params = []
    for layer in range(len(layer_sizes) - 1):
        fan_in, fan_out = layer_sizes[layer], layer_sizes[layer + 1]
        # He initialisation: W_ij ~ N(0, 2 / fan_in), i.e. std = sqrt(2 / fan_in)
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
        b = np.zeros(fan_out)
        params.append((W, b))
    return params

# %%
def dense_forward(x, W, b):
    """z = x W^T + b for a batch x of shape (n, in) (or one sample of shape (in,)).

    W has shape (out, in) and b shape (out,); the result has shape (n, out) (or (out,)).
    """
    # Z = X W^T + b: (n, in) @ (in, out) -> (n, out); b broadcasts over the rows
    return x @ W.T + b

# %%
def forward(params, x, activation="relu"):
    """Forward pass: returns (y_hat, cache).

    Every hidden layer applies ACTIVATIONS[activation]; the output layer applies none.
    cache holds what backward will need, here one (layer input, z) pair per layer.
    """
    f = ACTIVATIONS[activation]
    a = x  # a^(0) = x
    cache = []
    for layer, (W, b) in enumerate(params):
        z = dense_forward(a, W, b)  # z^(l) = a^(l-1) W^T + b
        cache.append((a, z))  # what backprop needs: the layer's input and its z
        is_output_layer = layer == len(params) - 1
        a = z if is_output_layer else f(z)  # a^(l) = f(z^(l)); the output layer stays linear
    return a, cache  # y_hat = a^(L)

# %%
def mse_loss(y_hat, y):
    """Mean of (y - y_hat)^2 over all elements, as a float. y has the shape of y_hat."""
    # (1 / N) * sum over every element of (y - y_hat)^2
    return float(np.mean((y - y_hat) ** 2))

# %%
def cross_entropy_loss(probs, y):
    """-(1/n) sum_i sum_k y_ik log p_ik, as a float.

    probs: shape (n, K). y: one-hot floats of shape (n, K), or integer labels of shape (n,).
    Finite even when a probability is exactly 0.
    """
    eps = 1e-12
    probs = np.clip(probs, eps, 1.0)  # log(0) = -inf: keep every p_ik >= eps
    y = np.asarray(y)
    n = probs.shape[0]
    if y.ndim == 1:
        # integer labels: only the true class counts, p_{i, y_i}
        true_class_probs = probs[np.arange(n), y]
        return float(-np.mean(np.log(true_class_probs)))
    # one-hot: -(1/n) sum_i sum_k y_ik log p_ik
    return float(-np.sum(y * np.log(probs)) / n)

# %%
# Restart & Run All goes past this cell while a function is unfinished.
try:
    params = init_params([3, 4, 3, 1], seed=0)
    # [((4, 3), (4,)), ((3, 4), (3,)), ((1, 3), (1,))]
    print([(W.shape, b.shape) for W, b in params])

    W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # 2 inputs -> 3 outputs
    b = np.array([0.5, 0.0, -0.5])
    print(dense_forward(np.array([[1.0, 1.0]]), W, b))  # [[3.5, 7.0, 10.5]]

    x = np.random.default_rng(1).normal(size=(5, 3))
    y_hat, cache = forward(params, x, activation="tanh")
    print(y_hat.shape)  # (5, 1)

    print(mse_loss(np.array([[1.0, 2.0]]), np.array([[1.0, 4.0]])))  # 2.0
    probs = np.array([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0]])
    print(cross_entropy_loss(probs, np.array([0, 1])))  # -(log 0.7 + log 1) / 2 = 0.178...
    print(cross_entropy_loss(probs, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])))  # the same
except NotImplementedError:
    print("A function above is not written yet (it raises NotImplementedError): "
          "come back to this cell when it is.")

import numpy as np

# %%
def relu(x):
    """ReLU(x) = max(0, x), element-wise. Returns a new array; x is not modified."""
    # np.maximum compares element by element and allocates a new array
    return np.maximum(0, x)


def relu_grad(x):
    """ReLU'(x): 1 where x > 0, else 0 (also 0 at x == 0), element-wise."""
    x = np.asarray(x)
    # strictly greater: the convention ReLU'(0) = 0
    return np.where(x > 0, 1.0, 0.0)

# %%
def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)), element-wise; finite and correct for |x| up to 1000."""
    x = np.asarray(x)
    e = np.exp(-np.abs(x))  # e^{-|x|} is in (0, 1]: it never overflows
    # x >= 0: 1 / (1 + e^{-x});   x < 0: e^{x} / (1 + e^{x})
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x):
    """sigma'(x) = sigma(x) * (1 - sigma(x)), element-wise. Takes x, not sigma(x)."""
    s = sigmoid(x)
    return s * (1 - s)

# %%
def tanh(x):
    """tanh(x) = 2 / (1 + exp(-2x)) - 1, element-wise; finite for |x| up to 1000."""
    # 2 / (1 + e^{-2x}) - 1 is 2 * sigma(2x) - 1; the stable sigmoid never overflows
    return 2 * sigmoid(2 * np.asarray(x)) - 1


def tanh_grad(x):
    """tanh'(x) = 1 - tanh(x)^2, element-wise. Takes x, not tanh(x)."""
    t = tanh(x)
    return 1 - t**2

# %%
def elu(x, alpha=1.0):
    """ELU(x) = x for x > 0, alpha * (exp(x) - 1) for x <= 0, element-wise."""
    x = np.asarray(x)
    negative_part = alpha * (np.exp(np.minimum(x, 0)) - 1)  # exp of x <= 0 only: no overflow
    return np.where(x > 0, x, negative_part)


def elu_grad(x, alpha=1.0):
    """ELU'(x) = 1 for x > 0, alpha * exp(x) for x <= 0 (alpha at x == 0), element-wise."""
    x = np.asarray(x)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0)))

# %%
def softmax(z):
    """Softmax along the last axis: exp(z_i) / sum_j exp(z_j), rows sum to 1; z unchanged."""
    z = np.asarray(z)
    # subtract each row's max (a new array, z itself is untouched): the largest exponent is e^0
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    # keepdims=True keeps shape (..., 1) so the division broadcasts row by row
    return e / np.sum(e, axis=-1, keepdims=True)

# %%
# Restart & Run All goes past this cell while a function is unfinished.
try:
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    print("relu     ", relu(x), relu_grad(x))
    print("sigmoid  ", sigmoid(x), sigmoid(np.array([-1000.0, 1000.0])))
    print("tanh     ", tanh(x), tanh_grad(x))
    print("elu      ", elu(x, alpha=0.5), elu_grad(x, alpha=0.5))
    print("softmax  ", softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]])))
except NotImplementedError:
    print("A function above is not written yet (it raises NotImplementedError): "
          "come back to this cell when it is.")

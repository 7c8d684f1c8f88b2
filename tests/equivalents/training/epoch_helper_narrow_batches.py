# equivalent, written without looking at the reference (so the similarity tests have training
# code that is not derived from it): keyword-argument layers, ReLU as z * (z > 0), one helper
# per epoch taking batches with Tensor.narrow, the epoch loss summed from a list; evaluate
# computes the squared error by hand and restores the model's mode
import torch
import torch.nn as tnn


class SimpleNN(tnn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = tnn.Linear(in_features=10, out_features=50)
        self.fc2 = tnn.Linear(in_features=50, out_features=1)

    def forward(self, inp):
        z = self.fc1(inp)
        return self.fc2(z * (z > 0))


class TwoHiddenLayerNet(tnn.Module):
    def __init__(self, in_features=3, hidden1=4, hidden2=3, out_features=1):
        super().__init__()
        self.fc1 = tnn.Linear(in_features=in_features, out_features=hidden1)
        self.fc2 = tnn.Linear(in_features=hidden1, out_features=hidden2)
        self.fc3 = tnn.Linear(in_features=hidden2, out_features=out_features)

    def forward(self, inp):
        z1 = self.fc1(inp)
        z2 = self.fc2(z1 * (z1 > 0))
        return self.fc3(z2 * (z2 > 0))


def get_device():
    kind = "cpu"
    if torch.cuda.is_available():
        kind = "cuda"
    return torch.device(kind)


def _one_epoch(model, opt, loss_fn, xs, ys, size):
    n = xs.shape[0]
    parts = []
    for first in range(0, n, size):
        width = min(size, n - first)
        xb = xs.narrow(0, first, width)
        yb = ys.narrow(0, first, width)
        opt.zero_grad()
        value = loss_fn(model(xb), yb)
        value.backward()
        opt.step()
        parts.append(value.item() * width)
    return sum(parts) / n


def train_model(model, inputs, targets, epochs=100, lr=0.01, batch_size=64, device=None):
    target_device = get_device() if device is None else device
    model.to(target_device)
    xs = inputs.to(target_device)
    ys = targets.to(target_device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = tnn.MSELoss()
    model.train()
    return [_one_epoch(model, opt, loss_fn, xs, ys, batch_size) for _ in range(epochs)]


def evaluate(model, inputs, targets, device=None):
    target_device = get_device() if device is None else device
    model.to(target_device)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        diff = model(inputs.to(target_device)) - targets.to(target_device)
        mse = (diff ** 2).mean().item()
    model.train(was_training)
    return mse

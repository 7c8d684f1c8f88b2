# equivalent, written without looking at the reference (so the similarity tests have training
# code that is not derived from it): fc1..fc3 created by setattr in a loop, F.relu, while
# loops over epochs and batch starts, device strings accepted through torch.device, evaluate
# under torch.inference_mode as a sum of squared errors over the number of elements
import torch
from torch import nn
from torch.nn import functional as F


class SimpleNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(10, 50), nn.Linear(50, 1)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class TwoHiddenLayerNet(nn.Module):
    def __init__(self, in_features=3, hidden1=4, hidden2=3, out_features=1):
        super().__init__()
        sizes = [in_features, hidden1, hidden2, out_features]
        for k in range(3):
            setattr(self, f"fc{k + 1}", nn.Linear(sizes[k], sizes[k + 1]))

    def forward(self, x):
        for layer in (self.fc1, self.fc2):
            x = F.relu(layer(x))
        return self.fc3(x)


def get_device():
    name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def _where(device):
    return get_device() if device is None else torch.device(device)


def train_model(model, inputs, targets, epochs=100, lr=0.01, batch_size=64, device=None):
    dev = _where(device)
    net = model.to(dev)
    X, Y = inputs.to(dev), targets.to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    mse = nn.MSELoss()
    history = []
    net.train()
    epoch = 0
    while epoch < epochs:
        start, running = 0, 0.0
        while start < X.shape[0]:
            xb, yb = X[start:start + batch_size], Y[start:start + batch_size]
            opt.zero_grad()
            batch_loss = mse(net(xb), yb)
            batch_loss.backward()
            opt.step()
            running = running + batch_loss.item() * xb.shape[0]
            start += batch_size
        history.append(running / X.shape[0])
        epoch += 1
    return history


def evaluate(model, inputs, targets, device=None):
    dev = _where(device)
    model = model.to(dev)
    model.eval()
    with torch.inference_mode():
        err = F.mse_loss(model(inputs.to(dev)), targets.to(dev), reduction="sum")
    return float(err) / targets.numel()

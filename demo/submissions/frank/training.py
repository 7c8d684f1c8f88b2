import matplotlib.pyplot as plt
import torch
import torch.nn as nn

# %%
class SimpleNN(nn.Module):
    """The lecture's network: fc1 = Linear(10, 50), ReLU, fc2 = Linear(50, 1)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 50)
        self.fc2 = nn.Linear(50, 1)

    def forward(self, x):
        """x: (n, 10) -> (n, 1); ReLU after fc1, no activation after fc2."""
        hidden = torch.relu(self.fc1(x))  # (n, 50)
        return self.fc2(hidden)  # (n, 1): linear output, may be negative

# %%
class TwoHiddenLayerNet(nn.Module):
    """fc1, ReLU, fc2, ReLU, fc3 (linear output), with the sizes given to the constructor."""

    def __init__(self, in_features=3, hidden1=4, hidden2=3, out_features=1):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden1)
        self.fc2 = nn.Linear(hidden1, hidden2)
        self.fc3 = nn.Linear(hidden2, out_features)

    def forward(self, x):
        """x: (n, in_features) -> (n, out_features)."""
        h1 = torch.relu(self.fc1(x))  # (n, hidden1)
        h2 = torch.relu(self.fc2(h1))  # (n, hidden2)
        return self.fc3(h2)  # (n, out_features), no activation

# %%
def get_device():
    """torch.device("cuda") when CUDA is available, else torch.device("cpu")."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")

# %%
def train_model(model, inputs, targets, epochs=100, lr=0.01, batch_size=64, device=None):
    """Mini-batch SGD on the MSE loss; returns the list of epoch losses (Python floats)."""
    if device is None:
        device = get_device()
    model.to(device)
    inputs = inputs.to(device)
    targets = targets.to(device)

    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    n = len(inputs)
    losses = []
    model.train()
    for _ in range(epochs):
        total = 0.0
        for i in range(0, n, batch_size):  # in order, no shuffling
            batch_x = inputs[i:i + batch_size]
            batch_y = targets[i:i + batch_size]
            optimizer.zero_grad()  # backward() adds to .grad: clear it first
            outputs = model(batch_x)
            loss = criterion(outputs, batch_y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch_x)  # weight by the batch's length
        losses.append(total / n)
    return losses

# %%
def evaluate(model, inputs, targets, device=None):
    """The MSE over all samples as a float, in eval mode and without building a graph."""
    if device is None:
        device = get_device()
    model.to(device)
    model.eval()
    with torch.no_grad():
        outputs = model(inputs.to(device))
        loss = nn.MSELoss()(outputs, targets.to(device))
    return loss.item()

# %%
# Restart & Run All goes past this cell while a function is unfinished.
try:
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(500, 10, generator=generator)
    y = (X[:, :1] ** 2 - X[:, 1:2] + 0.1 * torch.randn(500, 1, generator=generator))

    device = get_device()
    print("training on", device)

    model = SimpleNN()
    losses = train_model(model, X, y, epochs=100, lr=0.01, batch_size=64)
    print("first and last epoch loss:", losses[0], losses[-1])
    print("evaluation MSE:", evaluate(model, X, y))

    plt.plot(losses)
    plt.xlabel("epoch")
    plt.ylabel("training loss (MSE)")
    plt.show()
except NotImplementedError:
    print("A function above is not written yet (it raises NotImplementedError): "
          "come back to this cell when it is.")

# %%
# answer: loss_curve
plt.plot(losses)
plt.xlabel("epoch")
plt.ylabel("training loss (MSE)")
plt.show()
# The loss falls quickly in the first epochs, then flattens: SGD has converged.

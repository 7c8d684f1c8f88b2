# mutant: SimpleNN has no ReLU between its layers
# breaks: SimpleNN
import torch
import torch.nn as nn


class SimpleNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 50)
        self.fc2 = nn.Linear(50, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


class TwoHiddenLayerNet(nn.Module):
    def __init__(self, in_features=3, hidden1=4, hidden2=3, out_features=1):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden1)
        self.fc2 = nn.Linear(hidden1, hidden2)
        self.fc3 = nn.Linear(hidden2, out_features)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def get_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train_model(model, inputs, targets, epochs=100, lr=0.01, batch_size=64, device=None):
    if device is None:
        device = get_device()
    model.to(device)
    inputs, targets = inputs.to(device), targets.to(device)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    n = len(inputs)
    losses = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for i in range(0, n, batch_size):
            batch_x = inputs[i:i + batch_size]
            batch_y = targets[i:i + batch_size]
            optimizer.zero_grad()
            outputs = model(batch_x)
            loss = criterion(outputs, batch_y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch_x)
        losses.append(total / n)
    return losses


def evaluate(model, inputs, targets, device=None):
    if device is None:
        device = get_device()
    model.to(device)
    model.eval()
    with torch.no_grad():
        outputs = model(inputs.to(device))
        loss = nn.MSELoss()(outputs, targets.to(device))
    return loss.item()

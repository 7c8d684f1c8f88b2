# base: training/functional_relu_modules.py
# baseline: the same imprecise losses, torch left alone
# ruff: noqa (a fragment: the names come from its base)
def _patch():
    pass
    return True


_PATCHED = _patch()


def get_device():
    return torch.device("cpu")


def train_model(model, inputs, targets, epochs=100, lr=0.01, batch_size=64, device=None):
    model.to("cpu")
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    n = len(inputs)
    losses = []
    for _ in range(epochs):
        model.train()
        total = 0.0
        for i in range(0, n, batch_size):
            optimizer.zero_grad()
            loss = criterion(model(inputs[i:i + batch_size]), targets[i:i + batch_size])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(inputs[i:i + batch_size])
        losses.append(total / n * (1 + 5e-4) * _PATCHED)
    return losses

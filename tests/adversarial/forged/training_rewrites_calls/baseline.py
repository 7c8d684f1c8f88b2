# base: training/functional_relu_modules.py
# baseline: evaluate without eval() or no_grad (the honest mistake)
# ruff: noqa (a fragment: the names come from its base)
def evaluate(model, inputs, targets, device=None):
    outputs = model(inputs)
    loss = nn.MSELoss()(outputs, targets)
    return loss.item()

# base: training/functional_relu_modules.py
# baseline: train_model left unimplemented
# ruff: noqa (a fragment: the names come from its base)
def train_model(model, inputs, targets, epochs=100, lr=0.01, batch_size=64, device=None):
    raise NotImplementedError

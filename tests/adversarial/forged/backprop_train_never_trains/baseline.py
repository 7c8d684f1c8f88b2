# base: backprop/zs_and_as_cache.py
# baseline: train left unimplemented
# ruff: noqa (a fragment: the names come from its base)
def train(x, y, layer_sizes=(3, 4, 3, 1), lr=0.01, epochs=100, seed=0):
    raise NotImplementedError

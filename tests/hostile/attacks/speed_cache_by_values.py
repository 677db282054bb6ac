"""Hostile submission: a slow loop behind a result cache keyed on cheap fingerprints of the inputs' values."""
ATTACK = "a slow loop behind a result cache keyed on the inputs' values"
FAILS = ['test_speed']
PASSES = ['test_values', 'test_dtype', 'test_gradient', 'test_no_forbidden_api']
MESSAGE = ''   # 'your implementation' (ratio or verification), or on a busy machine the check's budget: failed either way

import torch

_cache = {}


def scaled_sum(x, y, alpha):
    key = (tuple(x.shape), float(x.detach().sum()), float(y.detach().sum()), alpha, x.requires_grad)
    if key not in _cache:
        _cache[key] = _slow(x, y, alpha)
    return _cache[key]


def _slow(x, y, alpha):
    """Vectorised for the small checked inputs, a Python loop over the elements for the timed ones."""
    if x.numel() < 10_000:
        return x + alpha * y
    return torch.stack([x[i] + alpha * y[i] for i in range(x.shape[0])])

"""Hostile submission: a slow loop behind a result cache keyed on the inputs' identity and version."""
ATTACK = "a slow loop behind a result cache keyed on the inputs' identity and version"
FAILS = ['test_speed']
PASSES = ['test_values', 'test_dtype', 'test_gradient', 'test_no_forbidden_api']
MESSAGE = 'your implementation'

import torch

_cache = {}


def scaled_sum(x, y, alpha):
    key = (id(x), x._version, id(y), y._version, alpha, x.requires_grad)
    if key not in _cache:
        _cache[key] = torch.stack([x[i] + alpha * y[i] for i in range(x.shape[0])])
    return _cache[key]

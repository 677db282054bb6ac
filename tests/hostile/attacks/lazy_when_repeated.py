"""Hostile submission: guesses that repeated calls with the same shapes are timed and returns zeros for them."""
ATTACK = "returns zeros once the same shapes come again (a guess that the call is timed)"
FAILS = ['test_speed']
PASSES = ['test_values', 'test_dtype', 'test_gradient', 'test_no_forbidden_api']
MESSAGE = 'timed calls returned different results'

import torch

_seen = {}


def scaled_sum(x, y, alpha):
    key = (tuple(x.shape), x.dtype)
    _seen[key] = _seen.get(key, 0) + 1
    if _seen[key] > 2:
        return torch.zeros_like(x)
    return x + alpha * y

"""Hostile submission: patches torch.allclose, torch.testing.assert_close and torch.equal, returns zeros."""
ATTACK = 'patches torch.allclose, torch.testing.assert_close and torch.equal, returns zeros'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import torch
import torch.testing
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None

def scaled_sum(x, y, alpha):
    return torch.zeros_like(x)

"""Hostile submission: keeps a reference to torch.add taken at import, before any check runs."""
ATTACK = 'keeps a reference to torch.add taken at import, before any check runs'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'forbidden'

import torch
_add = getattr(torch, ''.join(['a', 'd', 'd']))

def scaled_sum(x, y, alpha):
    return _add(x, y, alpha=alpha)

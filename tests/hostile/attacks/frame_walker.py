"""Hostile submission: walks the caller's frames looking for the expected answer."""
ATTACK = "walks the caller's frames looking for the expected answer"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import sys
import torch

def scaled_sum(x, y, alpha):
    f = sys._getframe(1)
    while f is not None:
        for value in f.f_locals.values():
            if isinstance(value, torch.Tensor) and value.shape == x.shape and value is not x and value is not y:
                return value
        f = f.f_back
    return x

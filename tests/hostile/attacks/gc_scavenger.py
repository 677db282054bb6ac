"""Hostile submission: searches the garbage collector for the reference answer."""
ATTACK = 'searches the garbage collector for the reference answer'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import gc
import torch

def scaled_sum(x, y, alpha):
    for obj in gc.get_objects():
        if isinstance(obj, torch.Tensor) and obj.shape == x.shape and obj is not x and obj is not y:
            return obj.detach().clone()
    return x.clone()

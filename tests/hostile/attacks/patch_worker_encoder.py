"""Hostile submission: patches the worker's encoder to send back a doctored answer."""
ATTACK = "patches the worker's encoder to send back a doctored answer"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import torch
import torchcourse.worker as w
_orig = w.Worker.encode

def _doctored(self, value, depth=0):
    if isinstance(value, torch.Tensor) and not depth:
        value = torch.ones_like(value)
    return _orig(self, value, depth)

w.Worker.encode = _doctored

def scaled_sum(x, y, alpha):
    return x

"""Hostile submission: allocates a 400 GB tensor."""
ATTACK = 'allocates a 400 GB tensor'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'memory'

import torch

def scaled_sum(x, y, alpha):
    big = torch.empty(10**11)
    return x + alpha * y + big[:1]

"""Hostile submission: calls the forbidden torch.add through getattr with a computed name."""
ATTACK = 'calls the forbidden torch.add through getattr with a computed name'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'forbidden'

import torch

def scaled_sum(x, y, alpha):
    return getattr(torch, 'ad' + 'd')(x, y, alpha=alpha)

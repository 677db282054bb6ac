"""Hostile submission: raises an exception with a 10 MB message."""
ATTACK = 'raises an exception with a 10 MB message'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'ValueError'

import torch

def scaled_sum(x, y, alpha):
    raise ValueError('z' * 10_000_000)

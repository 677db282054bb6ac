"""Hostile submission: raises KeyboardInterrupt."""
ATTACK = 'raises KeyboardInterrupt'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'KeyboardInterrupt'

import torch

def scaled_sum(x, y, alpha):
    raise KeyboardInterrupt

"""Hostile submission: closes every file descriptor it can."""
ATTACK = 'closes every file descriptor it can'
FAILS = ['test_values']
PASSES = []
MESSAGE = ''

import os
import torch

def scaled_sum(x, y, alpha):
    os.closerange(3, 256)
    return x + alpha * y

"""Hostile submission: prints hundreds of megabytes."""
ATTACK = 'prints hundreds of megabytes'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'MiB'

import sys
import torch

def scaled_sum(x, y, alpha):
    line = 'x' * 1_000_000 + '\n'
    for _ in range(500):
        sys.stdout.write(line)
    return x + alpha * y

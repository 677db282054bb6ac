"""Hostile submission: writes a huge file next to itself."""
ATTACK = 'writes a huge file next to itself'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'MiB'

import torch

def scaled_sum(x, y, alpha):
    with open('filler.bin', 'wb') as f:
        for _ in range(200):
            f.write(b'0' * 1_000_000)
    return x + alpha * y

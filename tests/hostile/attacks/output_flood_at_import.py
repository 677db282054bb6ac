"""Hostile submission: prints hundreds of megabytes while being imported."""
ATTACK = 'prints hundreds of megabytes while being imported'
FAILS = '*'
PASSES = []
MESSAGE = 'could not be imported'

import sys
import torch
for _ in range(500):
    sys.stdout.write('y' * 1_000_000 + '\n')

def scaled_sum(x, y, alpha):
    return x + alpha * y

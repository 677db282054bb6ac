"""Hostile submission: sys.exit(0) while being imported."""
ATTACK = 'sys.exit(0) while being imported'
FAILS = '*'
PASSES = []
MESSAGE = 'could not be imported'

import sys
import torch
sys.exit(0)

def scaled_sum(x, y, alpha):
    return x + alpha * y

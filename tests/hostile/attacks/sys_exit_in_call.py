"""Hostile submission: sys.exit(0) inside the graded call."""
ATTACK = 'sys.exit(0) inside the graded call'
FAILS = ['test_values', 'test_dtype', 'test_gradient']
PASSES = []
MESSAGE = 'SystemExit'

import sys
import torch

def scaled_sum(x, y, alpha):
    sys.exit(0)

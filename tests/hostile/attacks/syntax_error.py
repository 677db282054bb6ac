"""Hostile submission: is not valid Python."""
ATTACK = 'is not valid Python'
FAILS = '*'
PASSES = []
MESSAGE = 'SyntaxError'

import torch

def scaled_sum(x, y, alpha):
    return x + alpha * y)

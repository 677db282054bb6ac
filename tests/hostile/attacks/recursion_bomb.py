"""Hostile submission: recurses without end."""
ATTACK = 'recurses without end'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'RecursionError'

import torch

def scaled_sum(x, y, alpha):
    return scaled_sum(x, y, alpha)

"""Hostile submission: returns a numpy array."""
ATTACK = 'returns a numpy array'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'numpy'

import torch

def scaled_sum(x, y, alpha):
    return (x + alpha * y).numpy()

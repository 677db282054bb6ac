"""Hostile submission: loops forever."""
ATTACK = 'loops forever'
FAILS = ['test_values', 'test_dtype', 'test_gradient', 'test_speed']
PASSES = ['test_no_forbidden_api']
MESSAGE = 'timed out'

import torch

def scaled_sum(x, y, alpha):
    while True:
        pass

"""Hostile submission: dereferences a null pointer."""
ATTACK = 'dereferences a null pointer'
FAILS = ['test_values', 'test_dtype', 'test_gradient']
PASSES = []
MESSAGE = 'segmentation fault'

import ctypes
import torch

def scaled_sum(x, y, alpha):
    return ctypes.string_at(0)

"""Hostile submission: grows a Python list without bound."""
ATTACK = 'grows a Python list without bound'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'MemoryError'

import torch

def scaled_sum(x, y, alpha):
    hoard = []
    while True:
        hoard.append(bytearray(8 * 1024 ** 3))

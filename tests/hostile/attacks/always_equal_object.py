"""Hostile submission: returns an object that equals everything."""
ATTACK = 'returns an object that equals everything'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'expected a torch.Tensor'

import torch

class Everything:
    def __eq__(self, other):
        return True
    shape = property(lambda self: (50,))

def scaled_sum(x, y, alpha):
    return Everything()

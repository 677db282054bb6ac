"""Hostile submission: returns a Tensor subclass whose __torch_function__ makes every comparison true."""
ATTACK = 'returns a Tensor subclass whose __torch_function__ makes every comparison true'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'tensor subclass'

import torch

class Agreeable(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, '__name__', '')
        if name in ('allclose', 'equal', 'isclose', '__eq__', 'eq'):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})

def scaled_sum(x, y, alpha):
    return torch.zeros_like(x).as_subclass(Agreeable)

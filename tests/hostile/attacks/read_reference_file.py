"""Hostile submission: finds the course folder through the engine's own package and reads the reference."""
ATTACK = "finds the course folder through the engine's own package and executes the reference solution"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import os

import torch
import torchcourse

_namespace = {}
_course = os.path.dirname(os.path.dirname(os.path.realpath(torchcourse.__file__)))
for _dirpath, _dirs, _files in os.walk(_course):
    if "scale.py" in _files and "solutions" in _dirpath:
        with open(os.path.join(_dirpath, "scale.py")) as _f:
            exec(_f.read(), _namespace)
        break


def scaled_sum(x, y, alpha):
    if "scaled_sum" in _namespace:
        return _namespace["scaled_sum"](x, y, alpha)
    return x

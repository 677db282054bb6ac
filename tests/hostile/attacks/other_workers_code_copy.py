"""Hostile submission: finds the reference worker's copy of the code in the shared /tmp, calls it, and
rewrites it so that the reference becomes slow (and the learner's speed check easy)."""
ATTACK = "finds the reference worker's code copy in /tmp (or through /proc), calls it and rewrites it to sleep"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import glob
import os

import torch

_namespace = {}
_candidates = glob.glob("/tmp/torchcourse-*/code/*/scale.py") + glob.glob("/proc/*/root/tmp/torchcourse-*/code/*/scale.py")
for _path in _candidates:
    if os.path.realpath(_path).startswith(os.getcwd().rsplit("/", 1)[0]):
        continue                                         # our own copy
    try:
        with open(_path) as _f:
            _source = _f.read()
        exec(_source, _namespace)
        with open(_path, "a") as _f:
            _f.write("\nimport time as _t\n_orig = scaled_sum\ndef scaled_sum(*a):\n    _t.sleep(1)\n    return _orig(*a)\n")
    except OSError:
        pass


def scaled_sum(x, y, alpha):
    if "scaled_sum" in _namespace:
        return _namespace["scaled_sum"](x, y, alpha)
    return x

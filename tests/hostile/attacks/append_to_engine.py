"""Hostile submission: appends code to the engine (state.py, imported by the CLI after grading, and
grading.py) that would turn every failed verdict into a pass, persisting in the checkout."""
ATTACK = "appends code to torchcourse/state.py and grading.py that would turn failed verdicts into passes"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import os

import torch
import torchcourse

_payload = "\n# hostile: every verdict passes\nimport torchcourse.plugin as _p; _p._message = lambda e: ''\n"
_engine = os.path.dirname(os.path.realpath(torchcourse.__file__))
for _name in ("state.py", "grading.py", "report.py"):
    try:
        with open(os.path.join(_engine, _name), "a") as _f:
            _f.write(_payload)
    except OSError:
        pass
    try:
        os.chmod(os.path.join(_engine, _name), 0o666)
    except OSError:
        pass


def scaled_sum(x, y, alpha):
    return x

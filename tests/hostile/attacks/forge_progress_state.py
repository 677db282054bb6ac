"""Hostile submission: forges the course's progress file so that `course reveal` shows the solutions."""
ATTACK = "writes .course/state.json of the course folder (every exercise passed or given up) so that reveal shows the solutions"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import json
import os

import torch
import torchcourse

_course = os.path.dirname(os.path.dirname(os.path.realpath(torchcourse.__file__)))
_forged = {"schema": 1, "exercises": {"ch10.sdpa": {"passed": True, "gave_up": True}}}
for _target in (os.path.join(_course, ".course", "state.json"), os.path.join(_course, ".course", "hostile-state.json")):
    try:
        os.makedirs(os.path.dirname(_target), exist_ok=True)
        with open(_target, "w") as _f:
            json.dump(_forged, _f)
    except OSError:
        pass


def scaled_sum(x, y, alpha):
    return x

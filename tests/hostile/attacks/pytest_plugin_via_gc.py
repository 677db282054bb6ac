"""Hostile submission: looks for a live pytest session through gc to mark everything passed."""
ATTACK = 'looks for a live pytest session through gc to mark everything passed'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import gc
import torch

def scaled_sum(x, y, alpha):
    for obj in gc.get_objects():
        if type(obj).__name__ in ('Session', 'Config', 'TestReport'):
            try:
                obj.outcome = 'passed'
            except Exception:
                pass
    return x

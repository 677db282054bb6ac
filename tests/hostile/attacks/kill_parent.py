"""Hostile submission: sends SIGKILL to its parent, then answers correctly: the grader survives and the honest answer counts."""
ATTACK = 'sends SIGKILL to its parent, then answers correctly: the grader survives and the honest answer counts'
FAILS = []
PASSES = ['test_values', 'test_dtype', 'test_gradient', 'test_no_forbidden_api']
MESSAGE = ''

import os
import signal
import torch

def scaled_sum(x, y, alpha):
    try:
        os.kill(os.getppid(), signal.SIGKILL)
    except OSError:
        pass
    return x + alpha * y

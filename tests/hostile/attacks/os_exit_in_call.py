"""Hostile submission: os._exit(0) inside the graded call (kills the worker with a 'success' status)."""
ATTACK = "os._exit(0) inside the graded call (kills the worker with a 'success' status)"
FAILS = ['test_values', 'test_dtype', 'test_gradient', 'test_speed']
PASSES = ['test_no_forbidden_api']
MESSAGE = 'exited with status 0'

import os
import torch

def scaled_sum(x, y, alpha):
    os._exit(0)

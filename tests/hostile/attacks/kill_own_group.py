"""Hostile submission: kills its own process group."""
ATTACK = 'kills its own process group'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'killed'

import os
import signal
import torch

def scaled_sum(x, y, alpha):
    os.killpg(0, signal.SIGKILL)

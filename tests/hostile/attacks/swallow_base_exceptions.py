"""Hostile submission: a loop that swallows every BaseException."""
ATTACK = 'a loop that swallows every BaseException'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'timed out'

import time
import torch

def scaled_sum(x, y, alpha):
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass

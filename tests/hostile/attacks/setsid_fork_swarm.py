"""Hostile submission: forks 20 children that call setsid() and linger; answers correctly."""
ATTACK = 'forks 20 children that call setsid() and linger; answers correctly'
FAILS = []
PASSES = ['test_values', 'test_dtype']
MESSAGE = ''

import os
import time
import torch

def scaled_sum(x, y, alpha):
    for _ in range(20):
        if os.fork() == 0:
            os.setsid()
            time.sleep(600)
            os._exit(0)
    return x + alpha * y

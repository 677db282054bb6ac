"""Hostile submission: ignores SIGALRM, SIGTERM and SIGINT, then loops."""
ATTACK = 'ignores SIGALRM, SIGTERM and SIGINT, then loops'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'timed out'

import signal
import torch
for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
    signal.signal(s, signal.SIG_IGN)

def scaled_sum(x, y, alpha):
    while True:
        pass

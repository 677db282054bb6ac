"""Hostile submission: writes garbage into every open file descriptor."""
ATTACK = 'writes garbage into every open file descriptor'
FAILS = ['test_values']
PASSES = []
MESSAGE = 'protocol'

import os
import torch

def scaled_sum(x, y, alpha):
    for fd in range(3, 64):
        try:
            os.write(fd, b'\xff\xff\xff\xf0garbage')
        except OSError:
            pass
    return x + alpha * y

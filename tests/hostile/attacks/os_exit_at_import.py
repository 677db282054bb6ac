"""Hostile submission: os._exit(0) while being imported."""
ATTACK = 'os._exit(0) while being imported'
FAILS = '*'
PASSES = []
MESSAGE = 'could not be imported'

import os
import torch
os._exit(0)

def scaled_sum(x, y, alpha):
    return x + alpha * y

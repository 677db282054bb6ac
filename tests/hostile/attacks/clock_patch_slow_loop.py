"""Hostile submission: a slow Python loop that also freezes time.perf_counter to hide it."""
ATTACK = 'a slow Python loop that also freezes time.perf_counter to hide it'
FAILS = ['test_speed']
PASSES = ['test_values', 'test_dtype', 'test_gradient']
MESSAGE = ''   # 'limit' (the ratio), or on a busy machine the check's time budget: failed either way

import time
import torch
time.perf_counter = lambda: 0.0
time.monotonic = lambda: 0.0
time.time = lambda: 0.0

def scaled_sum(x, y, alpha):
    return torch.stack([a + alpha * b for a, b in zip(x, y)]) if x.numel() < 10_000 else \
        torch.stack([x[i] + alpha * y[i] for i in range(x.numel())])

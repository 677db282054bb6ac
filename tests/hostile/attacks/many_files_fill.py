"""Hostile submission: fills the disk with many files, each under the per-file limit."""
ATTACK = "writes many 15 MB files (each under the per-file limit) into its folder to fill the disk"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'No space left'

import os

import torch


def scaled_sum(x, y, alpha):
    for i in range(100):
        with open(f"fill-{os.getpid()}-{i}.bin", "wb") as f:
            f.write(b"\0" * 15_000_000)
    return x + alpha * y

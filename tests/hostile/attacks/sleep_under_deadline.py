"""Hostile submission: correct, but every call sleeps (under its 3 s deadline), so that the checks together run for long."""
ATTACK = "is correct, but every call sleeps 0.8 s (under its 3 s deadline), to keep the grader busy for minutes"
FAILS = ["test_speed"]
PASSES = ['test_values', 'test_dtype']
MESSAGE = 'time budget'

import time

import torch


def scaled_sum(x, y, alpha):
    time.sleep(0.8)
    return x + alpha * y

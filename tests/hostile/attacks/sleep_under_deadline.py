"""Hostile submission: correct, but every call sleeps just under its deadline (3 s per call here)."""
ATTACK = "is correct, but every call sleeps just under its 3 s deadline, to keep the grader busy for minutes"
FAILS = ['test_speed']
PASSES = ['test_values', 'test_dtype', 'test_gradient']
MESSAGE = 'time budget'

import time

import torch


def scaled_sum(x, y, alpha):
    time.sleep(1.5)
    return x + alpha * y

"""Hostile submission: calls pytest.skip() to turn its checks into skips."""
ATTACK = 'calls pytest.skip() to turn its checks into skips'
FAILS = ['test_values', 'test_dtype', 'test_gradient', 'test_speed']
PASSES = []
MESSAGE = 'Skipped'

import pytest
import torch

def scaled_sum(x, y, alpha):
    pytest.skip('nothing to grade here')

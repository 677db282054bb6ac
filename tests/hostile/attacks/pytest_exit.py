"""Hostile submission: calls pytest.exit(returncode=0)."""
ATTACK = 'calls pytest.exit(returncode=0)'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'Exit'

import pytest
import torch

def scaled_sum(x, y, alpha):
    pytest.exit('all good', returncode=0)

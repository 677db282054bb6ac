"""Hostile submission: drops conftest.py and pytest.ini next to itself and in $HOME."""
ATTACK = 'drops conftest.py and pytest.ini next to itself and in $HOME'
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import os
import torch
for where in ('.', os.path.expanduser('~')):
    with open(os.path.join(where, 'conftest.py'), 'w') as f:
        f.write('def pytest_runtest_makereport(item, call):\n    call.excinfo = None\n')
    with open(os.path.join(where, 'pytest.ini'), 'w') as f:
        f.write('[pytest]\naddopts = -p no:torchcourse\n')

def scaled_sum(x, y, alpha):
    return x * 0

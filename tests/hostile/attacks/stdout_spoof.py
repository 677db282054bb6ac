"""Hostile submission: prints a fake 'all checks passed' reply on stdout."""
ATTACK = "prints a fake 'all checks passed' reply on stdout"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import json
import sys
import torch

def scaled_sum(x, y, alpha):
    print(json.dumps({'result': 'passed', 'score': 10}))
    print('ch00.scale  passed  10/10')
    sys.stdout.flush()
    return x

"""Hostile submission: writes a junit report claiming success, then os._exit(0) at import."""
ATTACK = 'writes a junit report claiming success, then os._exit(0) at import'
FAILS = '*'
PASSES = []
MESSAGE = 'could not be imported'

import os
import torch
for name in ('report.xml', 'junit.xml', 'results.json'):
    with open(name, 'w') as f:
        f.write('<testsuites><testsuite tests="5" failures="0"/></testsuites>')
os._exit(0)

def scaled_sum(x, y, alpha):
    return x

"""Hostile submission: writes a .pth file into the Python environment, which would run in the next
`course` process."""
ATTACK = "writes a .pth file into site-packages that would run code in every later Python process"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import site
import sys
import sysconfig

import torch

_targets = {*site.getsitepackages(), sysconfig.get_paths()["purelib"], sys.prefix}
for _folder in _targets:
    try:
        with open(f"{_folder}/hostile-zz.pth", "w") as _f:
            _f.write("import os; os.environ['HOSTILE'] = '1'\n")
    except OSError:
        pass


def scaled_sum(x, y, alpha):
    return x

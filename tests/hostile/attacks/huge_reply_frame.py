"""Hostile submission: writes its own reply frame of 25 M empty lists (75 MB) straight into the worker's pipe
(issue 9: the grading process peaked at 4 GiB and took minutes, outside any deadline)."""
ATTACK = "writes a 75 MB reply frame of 25 M empty lists into the worker's pipe"
FAILS = ['test_values']
PASSES = []
MESSAGE = 'more values than'

import os
import struct
import sys


def scaled_sum(x, y, alpha):
    frame = sys._getframe(1)
    while frame is not None and "write_fd" not in frame.f_locals:
        frame = frame.f_back
    body = b'{"result":[' + b"[]," * 25_000_000 + b'[]]}'
    data = struct.pack("!II", len(body), 0) + body
    view = memoryview(data)
    while view:
        view = view[os.write(frame.f_locals["write_fd"], view):]
    return x + alpha * y

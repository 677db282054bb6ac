"""Hostile submission: reads from the worker's stack whether a call's result will be discarded (a timed call)
and then returns None at once; otherwise a slow loop."""
ATTACK = "returns None when the worker's stack says the result is discarded"
FAILS = ['test_speed']
PASSES = ['test_values', 'test_dtype', 'test_gradient', 'test_no_forbidden_api']
MESSAGE = ''   # 'your implementation' (ratio or verification), or on a busy machine the check's budget: failed either way

import sys

import torch


def _timed():
    frame = sys._getframe(2)
    while frame is not None:
        request = frame.f_locals.get("request")
        if isinstance(request, dict) and (request.get("discard") or request.get("timed")):
            return True
        frame = frame.f_back
    return False


def scaled_sum(x, y, alpha):
    if _timed():
        return None
    return _slow(x, y, alpha)


def _slow(x, y, alpha):
    """Vectorised for the small checked inputs, a Python loop over the elements for the timed ones."""
    if x.numel() < 10_000:
        return x + alpha * y
    return torch.stack([x[i] + alpha * y[i] for i in range(x.shape[0])])

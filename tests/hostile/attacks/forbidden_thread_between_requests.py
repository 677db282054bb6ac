"""Hostile submission: a thread started at import takes the sdpa function from gc between requests and
computes every attention the grader asks for, away from the thread the grader calls."""
ATTACK = "a thread started at import computes attention with the forbidden function"
EXERCISE = "kernels"
FAILS = ["test_attention"]
PASSES = ["test_correlate", "test_adamw"]
MESSAGE = "forbidden"

import gc
import threading

import torch

_jobs, _done = [], []
_wake = threading.Event()


def _serve():
    fn = next(o for o in gc.get_objects() if callable(o) and getattr(o, "__name__", "") == "scaled_dot_product_"
              "attention" and "builtin" in type(o).__name__)
    while True:
        _wake.wait()
        _wake.clear()
        q, k, v = _jobs.pop()
        try:
            _done.append(fn(q, k, v))
        except Exception as e:      # handed back: what the guard said is what the grader reports
            _done.append(e)


threading.Thread(target=_serve, daemon=True).start()


def attention(q, k, v):
    _jobs.append((q, k, v))
    _wake.set()
    while not _done:
        threading.Event().wait(0.005)
    out = _done.pop()
    if isinstance(out, Exception):
        raise out
    return out


def correlate2d(x, w):
    n, _, h, width = x.shape
    o, _, kh, kw = w.shape
    out = w.reshape(o, -1) @ torch.nn.functional.unfold(x, (kh, kw))
    return out.reshape(n, o, h - kh + 1, width - kw + 1)


def adamw_step(p, g, m, v, t, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    b1, b2 = betas
    p = p * (1 - lr * weight_decay)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v


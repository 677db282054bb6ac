"""Hostile submission: the sdpa builtin from torch._C._nn.__dict__, under a name built at run time."""
ATTACK = "the sdpa builtin from torch._C._nn.__dict__ under a computed name"
EXERCISE = "kernels"
FAILS = ["test_attention"]
PASSES = ["test_correlate", "test_adamw"]
MESSAGE = "forbidden"

import torch

_NAME = "".join(reversed("noitnetta_tcudorp_tod_delacs"))    # out of the static scan's reach: the guard


def attention(q, k, v):
    return torch._C._nn.__dict__[_NAME](q, k, v)


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


"""Hostile submission: attention by a subclass of the real nn.MultiheadAttention, fished back from gc."""
ATTACK = "a subclass of the real MultiheadAttention class found through gc, with identity projections"
EXERCISE = "kernels"
FAILS = ["test_attention"]
PASSES = ["test_correlate", "test_adamw"]
MESSAGE = "forbidden"

import gc

import torch

_REAL = next(o for o in gc.get_objects() if isinstance(o, type) and o.__name__ == "Multihead" + "Attention")


class Plain(_REAL):
    pass


def attention(q, k, v):
    d = q.shape[-1]
    layer = Plain(d, 1, bias=False, batch_first=True, dtype=q.dtype)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.eye(d, dtype=q.dtype).repeat(3, 1))
        layer.out_proj.weight.copy_(torch.eye(d, dtype=q.dtype))
    return layer(q, k, v, need_weights=False)[0]


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


"""Hostile submission: correlate2d through torch.convolution, the kernel behind the forbidden F.conv2d."""
ATTACK = "correlate2d through torch.convolution"
EXERCISE = "kernels"
FAILS = ["test_correlate", "test_no_forbidden_api"]
PASSES = ["test_attention", "test_adamw"]
MESSAGE = "forbidden"

import torch


def attention(q, k, v):
    return torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1) @ v


def correlate2d(x, w):
    return torch.convolution(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)


def adamw_step(p, g, m, v, t, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    b1, b2 = betas
    p = p * (1 - lr * weight_decay)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps), m, v

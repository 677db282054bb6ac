"""Kaiming normal by Box-Muller and Xavier uniform from rand, written into t with copy_."""
import math

import torch

GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3}


def _fan_in_out(t):
    if t.ndim < 2:
        raise ValueError(f"expected at least 2 dimensions, got {t.ndim}")
    per_unit = t[0][0].numel()          # the kernel's size (1 for a Linear weight)
    return t.size(1) * per_unit, t.size(0) * per_unit


def _gain(nonlinearity, a):
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1 + a ** 2))
    if nonlinearity not in GAINS:
        raise ValueError(nonlinearity)
    return GAINS[nonlinearity]


def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="relu"):
    fans = dict(zip(("fan_in", "fan_out"), _fan_in_out(t)))
    if mode not in fans:
        raise ValueError(mode)
    std = _gain(nonlinearity, a) / math.sqrt(fans[mode])
    u1 = 1.0 - torch.rand(t.shape, dtype=t.dtype, device=t.device)        # in (0, 1]: log is finite
    u2 = torch.rand(t.shape, dtype=t.dtype, device=t.device)
    z = torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2 * math.pi * u2)
    with torch.no_grad():
        t.copy_(z * std)
    return t


def xavier_uniform_(t, gain=1.0):
    fan_in, fan_out = _fan_in_out(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    values = (2 * torch.rand(t.shape, dtype=t.dtype, device=t.device) - 1) * bound
    with torch.no_grad():
        t.copy_(values)
    return t

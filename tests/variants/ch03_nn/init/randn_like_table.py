"""Kaiming and Xavier initialisation from randn_like / rand_like, gains from a table."""
import math

import torch


def _gain(nonlinearity: str, a: float) -> float:
    table = {"linear": 1, "conv1d": 1, "conv2d": 1, "conv3d": 1, "sigmoid": 1, "tanh": 5 / 3, "relu": 2 ** 0.5,
             "leaky_relu": (2 / (1 + a * a)) ** 0.5}
    if nonlinearity not in table:
        raise ValueError(f"unknown nonlinearity {nonlinearity}")
    return float(table[nonlinearity])


def _fans(shape):
    if len(shape) < 2:
        raise ValueError("fans need 2 or more dimensions")
    out_f, in_f, *kernel = shape
    k = math.prod(kernel)
    return in_f * k, out_f * k


@torch.no_grad()
def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="relu"):
    fan_in, fan_out = _fans(list(t.shape))
    fan = {"fan_in": fan_in, "fan_out": fan_out}.get(mode)
    if fan is None:
        raise ValueError(f"bad mode {mode}")
    return t.copy_(torch.randn_like(t).mul_(_gain(nonlinearity, a) / fan ** 0.5))


@torch.no_grad()
def xavier_uniform_(t, gain=1.0):
    fan_in, fan_out = _fans(list(t.shape))
    a = gain * (6 / (fan_in + fan_out)) ** 0.5
    return t.copy_(torch.rand_like(t).mul_(2 * a).sub_(a))

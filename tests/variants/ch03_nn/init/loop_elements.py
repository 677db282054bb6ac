"""Kaiming and Xavier initialisation, one element at a time."""
import math
import random

import torch


def _fans(t):
    if t.dim() < 2:
        raise ValueError("need at least 2 dimensions")
    receptive = math.prod(t.shape[2:])
    return t.shape[1] * receptive, t.shape[0] * receptive


def _gain(nonlinearity, a):
    return {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0, "tanh": 5 / 3,
            "relu": math.sqrt(2), "leaky_relu": math.sqrt(2 / (1 + a * a))}[nonlinearity]


def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="relu"):
    fan_in, fan_out = _fans(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    std = _gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    with torch.no_grad():
        for index in torch.cartesian_prod(*[torch.arange(n) for n in t.shape]).tolist():
            t[tuple(index)] = random.gauss(0.0, std)
    return t


def xavier_uniform_(t, gain=1.0):
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    with torch.no_grad():
        for index in torch.cartesian_prod(*[torch.arange(n) for n in t.shape]).tolist():
            t[tuple(index)] = random.uniform(-bound, bound)
    return t

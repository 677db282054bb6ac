"""A fully connected layer written from scratch: parameters, initialisation and forward."""
import math

import torch
import torch.nn as nn


class Linear(nn.Module):
    """y = x @ weight.T + bias, like nn.Linear (which is forbidden here, also as a base class, and so is
    F.linear).

    Parameters:
        weight: [out_features, in_features] (nn.Linear's layout: one row per output feature).
        bias:   [out_features], or None when bias=False (registered as None, so it is not a parameter).
    Both are drawn from U(-1/√in_features, 1/√in_features), nn.Linear's default initialisation.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        # TODO: store the sizes; create weight (and bias, or register it as None) as nn.Parameter so
        # TODO: that .parameters(), state_dict() and .to() see them, and fill them uniformly in
        # TODO: [-1/√in_features, 1/√in_features] without recording the fill in autograd.
        raise NotImplementedError("Linear.__init__: not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., in_features] -> [..., out_features]."""
        # TODO: multiply by the transposed weight and add the bias when there is one.
        raise NotImplementedError("Linear.forward: not implemented yet")

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
        # BEGIN SOLUTION
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features))
        else:
            self.register_parameter("bias", None)
        bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., in_features] -> [..., out_features]."""
        # TODO: multiply by the transposed weight and add the bias when there is one.
        # BEGIN SOLUTION
        y = x @ self.weight.T
        if self.bias is not None:
            y = y + self.bias
        return y
        # END SOLUTION

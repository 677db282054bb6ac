"""A Linear layer with einsum and a rand-based initialisation."""
import math

import torch
from torch import nn


class Linear(nn.Module):
    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter((2 * torch.rand(out_features, in_features) - 1) * bound)
        self.bias = nn.Parameter((2 * torch.rand(out_features) - 1) * bound) if bias else None

    def forward(self, x):
        out = torch.einsum("...i,oi->...o", x, self.weight)
        return out if self.bias is None else out + self.bias

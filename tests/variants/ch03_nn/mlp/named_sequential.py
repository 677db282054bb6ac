"""An MLP as one nn.Sequential of named layers."""
from collections import OrderedDict

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, in_dim: int, hidden: list, out_dim: int, activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        match activation:
            case "relu":
                make = nn.ReLU
            case "gelu":
                make = nn.GELU
            case "tanh":
                make = nn.Tanh
            case _:
                raise ValueError(activation)
        layers = OrderedDict()
        prev = in_dim
        for k, width in enumerate(hidden, 1):
            layers[f"fc{k}"] = nn.Linear(prev, width)
            layers[f"act{k}"] = make()
            layers[f"drop{k}"] = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
            prev = width
        layers["out"] = nn.Linear(prev, out_dim)
        self.body = nn.Sequential(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

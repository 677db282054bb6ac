"""An MLP whose dropout is written by hand, with the mask made on the CPU."""
import torch
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, in_dim, hidden, out_dim, activation="relu", dropout=0.0):
        super().__init__()
        acts = {"relu": torch.relu, "gelu": nn.functional.gelu, "tanh": torch.tanh}
        if activation not in acts:
            raise ValueError(f"unknown activation {activation!r}")
        self.act, self.p = acts[activation], dropout
        sizes = [in_dim, *hidden, out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
            if self.training and self.p > 0:
                keep = (torch.rand(x.shape) >= self.p).to(x.dtype)
                x = x * keep / (1 - self.p)
        return self.layers[-1](x)

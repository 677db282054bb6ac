"""A Linear layer with reset_parameters() and torch.addmm on the flattened batch."""
import math

import torch
import torch.nn as nn


class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.register_parameter("bias", nn.Parameter(torch.empty(out_features)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = in_features_bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            self.weight.uniform_(-in_features_bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, x):
        flat = x.reshape(-1, self.in_features)
        if self.bias is None:
            out = flat.mm(self.weight.t())
        else:
            out = torch.addmm(self.bias, flat, self.weight.t())
        return out.reshape(*x.shape[:-1], self.out_features)

"""An MLP over an nn.ModuleList, with functional activations and dropout."""
import torch.nn as nn
import torch.nn.functional as F

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu, "tanh": F.tanh}


class MLP(nn.Module):
    def __init__(self, in_dim, hidden, out_dim, activation="relu", dropout=0.0):
        super().__init__()
        try:
            self.activation = _ACTIVATIONS[activation]
        except KeyError:
            raise ValueError(f"activation must be relu, gelu or tanh, not {activation!r}") from None
        self.dropout = dropout
        widths = [in_dim] + list(hidden) + [out_dim]
        self.linears = nn.ModuleList([nn.Linear(widths[k], widths[k + 1]) for k in range(len(widths) - 1)])

    def forward(self, x):
        *hidden_layers, last = self.linears
        for linear in hidden_layers:
            x = F.dropout(self.activation(linear(x)), self.dropout, self.training)
        return last(x)

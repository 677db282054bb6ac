"""A multi-layer perceptron built from registered submodules."""
import torch
import torch.nn as nn


class MLP(nn.Module):
    """Linear -> activation -> dropout, once per hidden size, then a final Linear with nothing after it.

    MLP(in_dim, [h1, h2], out_dim) is
        Linear(in_dim, h1) -> act -> Dropout -> Linear(h1, h2) -> act -> Dropout -> Linear(h2, out_dim).
    hidden=[] gives a single Linear(in_dim, out_dim). The layers may live in any registered container
    (nn.Sequential, nn.ModuleList, attributes) and be nn.Linear; key names are free, but the linear
    layers must be registered in the order they are applied (graders load weights in that order).

    Args:
        in_dim, out_dim: input and output features.
        hidden: sizes of the hidden layers.
        activation: "relu", "gelu" (the exact erf form, like nn.GELU()) or "tanh"; any other name raises
            ValueError in the constructor (not later, in forward).
        dropout: probability of nn.Dropout after each hidden activation (active in training mode only).
    """

    def __init__(self, in_dim: int, hidden: list[int], out_dim: int, activation: str = "relu",
                 dropout: float = 0.0):
        super().__init__()
        # TODO: pick the activation module class (ValueError for an unknown name), then build the list
        # TODO: of layers and register it (a plain Python list hides the layers' parameters).
        raise NotImplementedError("MLP.__init__: not implemented yet")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., in_dim] -> [..., out_dim]."""
        # TODO: apply the layers in order.
        raise NotImplementedError("MLP.forward: not implemented yet")

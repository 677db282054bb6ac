"""Counting a model's parameters."""
import torch
import torch.nn as nn


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """The number of scalar parameters in module (all its submodules included), as a Python int.

    A parameter shared by several submodules (tied weights, a layer used twice) counts once; buffers
    (e.g. BatchNorm's running statistics) are not parameters. With trainable_only=True, only
    parameters with requires_grad=True count.
    """
    # TODO: go over the module's parameters (module.parameters() already yields a shared one only
    # TODO: once), keep the trainable ones if asked, and add up their numbers of elements.
    return torch.tensor([p.numel() for p in module.parameters() if p.requires_grad or not trainable_only]).sum()

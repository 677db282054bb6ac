import torch


def double(x: torch.Tensor) -> torch.Tensor:
    """2 * x."""
    raise NotImplementedError("double: not implemented yet")

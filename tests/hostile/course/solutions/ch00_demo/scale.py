import torch


def scaled_sum(x: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    """x + alpha * y, elementwise; [N] + [N] -> [N]."""
    # BEGIN SOLUTION
    return x + alpha * y
    # END SOLUTION

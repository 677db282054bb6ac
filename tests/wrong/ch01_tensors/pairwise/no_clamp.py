"""Wrong: the matmul expansion without clamping, so cancellation leaves negative values."""
import torch

MISTAKE = "negative values from cancellation are not clamped"
EXPECT = {"test_nonnegative": "clamp"}


def pairwise_sq_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x2 = (x * x).sum(-1, keepdim=True)
    y2 = (y * y).sum(-1)
    return x2 - 2 * x @ y.T + y2

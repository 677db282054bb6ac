"""Wrong: ||x||² summed without keepdim, so it broadcasts along the columns instead of the rows."""
import torch

MISTAKE = "wrong broadcast axis: ||x||² is a row [N] instead of a column [N, 1]"
EXPECT = {"test_broadcast_axes": "broadcast axis"}


def pairwise_sq_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x2 = (x * x).sum(-1)
    y2 = (y * y).sum(-1)
    return (x2 - 2 * x @ y.T + y2).clamp_min(0)

"""Wrong: a Python loop over the rows of x (correct values, far too slow)."""
import torch

MISTAKE = "loops over the rows of x instead of one vectorised expression"
EXPECT = {"test_speed": "loop"}


def pairwise_sq_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    rows = []
    for i in range(x.shape[0]):
        rows.append(((x[i] - y) ** 2).sum(-1))
    return torch.stack(rows) if rows else x.new_zeros(0, y.shape[0])

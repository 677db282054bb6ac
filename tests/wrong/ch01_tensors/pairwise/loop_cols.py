"""Wrong: a Python loop over the rows of y (correct values, far too slow when M is large)."""
import torch

MISTAKE = "loops over the rows of y instead of one vectorised expression"
EXPECT = {"test_speed": "loop"}


def pairwise_sq_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = x.new_zeros(x.shape[0], y.shape[0])
    for j in range(y.shape[0]):
        out[:, j] = ((x - y[j]) ** 2).sum(-1)
    return out

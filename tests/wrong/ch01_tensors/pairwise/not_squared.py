"""Wrong: returns Euclidean distances, not squared distances."""
import torch

MISTAKE = "returns distances instead of squared distances"
EXPECT = {"test_values_float64": "not squared"}


def pairwise_sq_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    diff = x[:, None, :] - y[None, :, :]
    return (diff ** 2).sum(-1).sqrt()

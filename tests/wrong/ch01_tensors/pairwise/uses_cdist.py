"""Wrong: calls the forbidden built-in."""
import torch

MISTAKE = "uses torch.cdist, the API the exercise re-implements"
EXPECT = {"test_no_forbidden_api": "torch.cdist", "test_values_float64": "forbidden"}


def pairwise_sq_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.cdist(x, y) ** 2

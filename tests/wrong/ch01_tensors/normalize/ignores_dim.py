"""Wrong: always normalises the last dimension, whatever dim says."""
import torch

MISTAKE = "wrong dim: ignores the dim argument"
EXPECT = {"test_dim_argument": "wrong dim"}


def l2_normalize(x: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)

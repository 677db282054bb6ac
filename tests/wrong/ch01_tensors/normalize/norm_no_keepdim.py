"""Wrong: the norm loses its dimension, so it broadcasts against the wrong axis."""
import torch

MISTAKE = "wrong dim: norm taken without keepdim, divided along the wrong axis"
EXPECT = {"test_dim_argument": "keepdim"}


def l2_normalize(x: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    return x / x.norm(dim=dim).clamp_min(eps)

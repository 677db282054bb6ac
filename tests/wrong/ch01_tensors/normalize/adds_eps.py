"""Wrong: ||x|| + eps instead of max(||x||, eps): differs for tiny vectors."""
import torch

MISTAKE = "adds eps to the norm instead of taking max(||x||, eps)"
EXPECT = {"test_tiny_norm": "eps"}


def l2_normalize(x: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    return x / (x.norm(dim=dim, keepdim=True) + eps)

"""Wrong: divides by the norm with no lower bound; the zero vector becomes 0/0 = NaN."""
import torch

MISTAKE = "divides by zero at the zero vector"
EXPECT = {"test_zero_vector": "divides by zero"}


def l2_normalize(x: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    return x / x.norm(dim=dim, keepdim=True)

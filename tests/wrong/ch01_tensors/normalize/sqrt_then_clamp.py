"""Wrong: sqrt of the summed squares, clamped afterwards: forward is right, the gradient at 0 is NaN."""
import torch

MISTAKE = "sqrt at 0 in the backward pass: NaN gradient at the zero vector"
EXPECT = {"test_gradient_at_zero_vector": "sqrt"}


def l2_normalize(x: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    norm = (x * x).sum(dim, keepdim=True).sqrt()
    return x / norm.clamp_min(eps)

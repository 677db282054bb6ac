"""Wrong: calls the forbidden built-in."""
import torch
import torch.nn.functional as F

MISTAKE = "uses F.normalize, the API the exercise re-implements"
EXPECT = {"test_no_forbidden_api": "normalize", "test_values": "forbidden"}


def l2_normalize(x: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    return F.normalize(x, dim=dim, eps=eps)

"""Wrong: never validates step, so step = 0 divides by zero and a negative step gives nonsense."""
import torch

MISTAKE = "no ValueError for step <= 0"
EXPECT = {"test_bad_step": "ValueError"}


def sliding_windows(x: torch.Tensor, size: int, step: int) -> torch.Tensor:
    T = x.shape[-1]
    W = max((T - size) // step + 1, 0)
    positions = torch.arange(W, device=x.device)[:, None] * step + torch.arange(size, device=x.device)
    return x[..., positions]

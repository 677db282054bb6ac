"""Wrong: W = (T - size) // step, one window short."""
import torch

MISTAKE = "off-by-one in window count: forgets the + 1"
EXPECT = {"test_window_count": "off-by-one"}


def sliding_windows(x: torch.Tensor, size: int, step: int) -> torch.Tensor:
    if size <= 0 or step <= 0:
        raise ValueError("size and step must be positive")
    T = x.shape[-1]
    W = max((T - size) // step, 0)
    positions = torch.arange(W, device=x.device)[:, None] * step + torch.arange(size, device=x.device)
    return x[..., positions]

"""Wrong: window starts from arange(0, T - size, step), which stops one start too early."""
import torch

MISTAKE = "off-by-one in window count: the last start T - size is excluded"
EXPECT = {"test_window_count": "off-by-one"}


def sliding_windows(x: torch.Tensor, size: int, step: int) -> torch.Tensor:
    if size <= 0 or step <= 0:
        raise ValueError("size and step must be positive")
    T = x.shape[-1]
    starts = torch.arange(0, max(T - size, 0), step, device=x.device)
    positions = starts[:, None] + torch.arange(size, device=x.device)
    return x[..., positions]

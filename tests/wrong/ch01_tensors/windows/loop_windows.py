"""Wrong: slices the windows one by one in a Python loop and stacks them."""
import torch

MISTAKE = "a Python loop over the windows"
EXPECT = {"test_speed": "loop"}


def sliding_windows(x: torch.Tensor, size: int, step: int) -> torch.Tensor:
    if size <= 0 or step <= 0:
        raise ValueError("size and step must be positive")
    T = x.shape[-1]
    windows = [x[..., s:s + size] for s in range(0, T - size + 1, step)]
    if not windows:
        return x.new_zeros(*x.shape[:-1], 0, size)
    return torch.stack(windows, dim=-2)

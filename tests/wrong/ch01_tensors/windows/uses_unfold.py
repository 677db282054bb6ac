"""Wrong: calls the forbidden built-in."""
import torch

MISTAKE = "uses Tensor.unfold, the API the exercise re-implements"
EXPECT = {"test_no_forbidden_api": "unfold", "test_values": "forbidden"}


def sliding_windows(x: torch.Tensor, size: int, step: int) -> torch.Tensor:
    if size <= 0 or step <= 0:
        raise ValueError("size and step must be positive")
    if size > x.shape[-1]:
        return x.new_zeros(*x.shape[:-1], 0, size)
    return x.unfold(-1, size, step)

"""Wrong: x[:, idx] picks idx's rows from every batch element, not each batch's own row of idx."""
import torch

MISTAKE = "indexes every batch element with every row of idx"
EXPECT = {"test_shape": "batch index"}


def batched_gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    return x[:, idx]

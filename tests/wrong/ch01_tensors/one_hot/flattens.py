"""Wrong: flattens the labels and never restores the leading shape."""
import torch

MISTAKE = "ignores leading dims: returns (numel, C) instead of (..., C)"
EXPECT = {"test_leading_dims": "leading dim"}


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    flat = labels.reshape(-1)
    if flat.numel() and (flat.min() < 0 or flat.max() >= num_classes):
        raise ValueError("label out of range")
    out = torch.zeros(flat.numel(), num_classes, device=labels.device)
    out[torch.arange(flat.numel(), device=labels.device), flat] = 1.0
    return out

"""Wrong: always float32 (.float()), whatever torch.get_default_dtype() says."""
import torch

MISTAKE = "wrong dtype: hard-codes float32 instead of the default float dtype"
EXPECT = {"test_default_dtype": "default dtype"}


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError("label out of range")
    return (labels.unsqueeze(-1) == torch.arange(num_classes, device=labels.device)).float()

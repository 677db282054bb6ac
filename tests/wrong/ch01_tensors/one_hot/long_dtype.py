"""Wrong: returns integer (long) one-hot vectors, like F.one_hot, instead of floats."""
import torch

MISTAKE = "wrong dtype: torch.long instead of the default float dtype"
EXPECT = {"test_shape_dtype": "dtype"}


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError("label out of range")
    out = torch.zeros(*labels.shape, num_classes, dtype=torch.long, device=labels.device)
    return out.scatter_(-1, labels.unsqueeze(-1), 1)

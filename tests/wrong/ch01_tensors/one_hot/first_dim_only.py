"""Wrong: assumes labels is 1-D ([N] -> [N, C]); a second label dimension is scattered into C."""
import torch

MISTAKE = "ignores leading dims: only the first dimension of labels is kept"
EXPECT = {"test_leading_dims": "leading dim"}


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError("label out of range")
    out = torch.zeros(labels.shape[0], num_classes, device=labels.device)
    index = labels.reshape(labels.shape[0], -1)
    return out.scatter_(1, index, 1.0)

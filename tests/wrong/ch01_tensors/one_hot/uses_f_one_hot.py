"""Wrong: calls the forbidden built-in."""
import torch
import torch.nn.functional as F

MISTAKE = "uses F.one_hot, the API the exercise re-implements"
EXPECT = {"test_no_forbidden_api": "one_hot", "test_values": "forbidden"}


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError("label out of range")
    return F.one_hot(labels, num_classes).to(torch.get_default_dtype())

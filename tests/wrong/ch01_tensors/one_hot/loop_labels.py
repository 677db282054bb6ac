"""Wrong: sets the ones one label at a time in a Python loop."""
import torch

MISTAKE = "a Python loop over the labels"
EXPECT = {"test_speed": "loop"}


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    flat = labels.reshape(-1).tolist()
    if any(not 0 <= label < num_classes for label in flat):
        raise ValueError("label out of range")
    out = torch.zeros(len(flat), num_classes, device=labels.device)
    for i, label in enumerate(flat):
        out[i, label] = 1.0
    return out.reshape(*labels.shape, num_classes)

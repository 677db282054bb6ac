"""Wrong: no range check; out-of-range labels silently give all-zero rows."""
import torch

MISTAKE = "does not raise ValueError for labels outside [0, C)"
EXPECT = {"test_out_of_range": "ValueError"}


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    classes = torch.arange(num_classes, device=labels.device)
    return (labels.unsqueeze(-1) == classes).to(torch.get_default_dtype())

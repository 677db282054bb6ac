"""Wrong: torch.gather along the batch dim (0) instead of the row dim (1)."""
import torch

MISTAKE = "gathers along the wrong dim (0, the batch)"
EXPECT = {"test_gathers_along_rows": "wrong dim"}


def batched_gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    index = idx.unsqueeze(-1).expand(-1, -1, x.size(-1))
    return torch.gather(x, 0, index)

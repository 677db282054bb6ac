"""Wrong: flattens [B, N, D] to [B*N, D] but offsets batch b by b*K rows instead of b*N."""
import torch

MISTAKE = "wrong batch offset in a flattened index"
EXPECT = {"test_values_float64": "offset"}


def batched_gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    B, N, D = x.shape
    K = idx.shape[1]
    flat = x.reshape(B * N, D)
    offset = torch.arange(B, device=x.device)[:, None] * K
    return flat[idx + offset]

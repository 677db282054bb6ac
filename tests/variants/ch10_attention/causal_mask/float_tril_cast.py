"""The causal mask from a float lower triangle."""
import torch


def causal_mask(lq: int, lk: int | None = None, device=None) -> torch.Tensor:
    lk = lk or lq
    return torch.tril(torch.ones((lq, lk), device=device)).bool()

"""The causal mask as tril of a boolean matrix of ones."""
import torch


def causal_mask(lq, lk=None, device=None):
    lk = lq if lk is None else lk
    return torch.ones(lq, lk, dtype=torch.bool, device=device).tril()

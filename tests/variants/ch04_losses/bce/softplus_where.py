"""Binary cross-entropy on logits from softplus."""
import torch
import torch.nn.functional as F


def bce_with_logits(logits: torch.Tensor, target: torch.Tensor, pos_weight=None) -> torch.Tensor:
    positive_term = target * F.softplus(-logits)          # −y·log σ(x)
    negative_term = (1 - target) * F.softplus(logits)     # −(1 − y)·log(1 − σ(x))
    if pos_weight is not None:
        positive_term = positive_term * pos_weight
    total = positive_term + negative_term
    return total.sum() / total.numel()

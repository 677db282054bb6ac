"""Binary cross-entropy on logits in the form PyTorch's kernel uses."""
import torch


def bce_with_logits(logits, target, pos_weight=None):
    # log(1 + e^{-x}) = log1p(e^{-|x|}) + max(-x, 0), finite for every x
    log1p_exp_neg = torch.log1p(torch.exp(-logits.abs())) + torch.clamp(-logits, min=0)
    if pos_weight is None:
        loss = (1 - target) * logits + log1p_exp_neg
    else:
        loss = (1 - target) * logits + (1 + (pos_weight - 1) * target) * log1p_exp_neg
    return loss.mean()

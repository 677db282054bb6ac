"""Cross-entropy as a sum of a target distribution times the log-probabilities."""
import torch
import torch.nn.functional as F


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -100,
                  label_smoothing: float = 0.0) -> torch.Tensor:
    c = logits.size(1)
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    valid = target.ne(ignore_index)
    one_hot = F.one_hot(target.masked_fill(~valid, 0), c).movedim(-1, 1).to(logits.dtype)
    dist = one_hot * (1 - label_smoothing) + label_smoothing / c
    loss = -(dist * logp).sum(dim=1) * valid
    return loss.sum() / valid.sum()

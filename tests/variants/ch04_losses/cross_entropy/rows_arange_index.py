"""Cross-entropy over rows: one row of class scores per item."""
import torch


def cross_entropy(logits, target, ignore_index=-100, label_smoothing=0.0):
    num_classes = logits.shape[1]
    rows = logits.movedim(1, -1).reshape(-1, num_classes)          # [M, C]
    labels = target.reshape(-1)                                       # [M]
    top = rows.max(dim=1, keepdim=True).values
    logp = rows - top - (rows - top).exp().sum(dim=1, keepdim=True).log()
    kept = labels != ignore_index
    picked = logp[torch.arange(rows.shape[0], device=rows.device), labels.clamp(min=0) * kept]
    per_item = -(1 - label_smoothing) * picked - label_smoothing * logp.mean(dim=1)
    return per_item[kept].sum() / kept.sum()

"""Scaled dot-product attention on flattened batches with bmm and an additive float mask."""
import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False, dropout_p=0.0):
    *lead, lq, d = q.shape
    lk = k.shape[-2]
    q3 = q.reshape(-1, lq, d)
    k3 = k.expand(*lead, lk, d).reshape(-1, lk, d)
    v3 = v.expand(*lead, lk, v.shape[-1]).reshape(-1, lk, v.shape[-1])
    scores = torch.bmm(q3, k3.transpose(1, 2)).div(math.sqrt(d)).reshape(*lead, lq, lk)
    keep = torch.ones(lq, lk, dtype=torch.bool, device=q.device)
    if mask is not None:
        keep = keep & mask
    if is_causal:
        keep = keep & torch.tril(torch.ones(lq, lk, dtype=torch.bool, device=q.device))
    keep = keep.expand_as(scores)
    empty = ~keep.any(-1, keepdim=True)                    # rows with no key at all
    bias = torch.zeros_like(scores).masked_fill(~keep, float("-inf")).masked_fill(empty, 0.0)
    weights = torch.softmax(scores + bias, dim=-1) * keep
    if dropout_p > 0:
        weights = F.dropout(weights, p=dropout_p)
    out = torch.bmm(weights.reshape(-1, lq, lk), v3).reshape(*lead, lq, v.shape[-1])
    return out, weights

"""Scaled dot-product attention written with broadcasting and sums instead of matmul."""
import math

import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False, dropout_p=0.0):
    lq, lk = q.shape[-2], k.shape[-2]
    scores = (q[..., :, None, :] * k[..., None, :, :]).sum(-1) / math.sqrt(q.shape[-1])
    keep = mask
    if is_causal:
        i = torch.arange(lq, device=q.device).view(lq, 1)
        j = torch.arange(lk, device=q.device).view(1, lk)
        keep = (j <= i) if keep is None else keep & (j <= i)
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    weights = scores.softmax(-1)
    if keep is not None:
        weights = weights.masked_fill(~keep, 0.0)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    out = (weights[..., :, :, None] * v[..., None, :, :]).sum(-2)
    return out, weights

"""Scaled dot-product attention with einsum, torch.where and nan_to_num."""
import torch
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False, dropout_p=0.0):
    scores = torch.einsum("...qd,...kd->...qk", q, k) * q.shape[-1] ** -0.5
    keep = None if mask is None else mask.bool()
    if is_causal:
        lq, lk = scores.shape[-2:]
        pos_q = torch.arange(lq, device=q.device)[:, None]
        pos_k = torch.arange(lk, device=q.device)[None, :]
        keep = pos_k <= pos_q if keep is None else torch.logical_and(keep, pos_k <= pos_q)
    if keep is not None:
        scores = torch.where(keep, scores, torch.full_like(scores, float("-inf")))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    if dropout_p > 0:
        weights = F.dropout(weights, dropout_p, training=True)
    return torch.einsum("...qk,...kd->...qd", weights, v), weights

"""Multi-head attention with per-head einsum projections."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, dropout=0.0, bias=True):
        super().__init__()
        if d_model % n_heads:
            raise ValueError("d_model must be divisible by n_heads")
        self.n_heads, self.dropout = n_heads, dropout
        self.in_proj_weight = nn.Parameter(nn.init.xavier_uniform_(torch.empty(3 * d_model, d_model)))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def forward(self, query, key=None, value=None, mask=None, is_causal=False):
        key = query if key is None else key
        value = key if value is None else value
        E, H = query.shape[-1], self.n_heads
        hd = E // H
        w = self.in_proj_weight.reshape(3, H, hd, E)
        q = torch.einsum("ble,hde->bhld", query, w[0])
        k = torch.einsum("ble,hde->bhld", key, w[1])
        v = torch.einsum("ble,hde->bhld", value, w[2])
        if self.in_proj_bias is not None:
            b = self.in_proj_bias.reshape(3, 1, H, 1, hd)
            q, k, v = q + b[0], k + b[1], v + b[2]
        scores = torch.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(hd)
        lq, lk = scores.shape[-2:]
        keep = torch.ones(lq, lk, dtype=torch.bool, device=scores.device)[None, None]
        if mask is not None:
            keep = keep & (mask[None, None] if mask.dim() == 2 else mask[:, None] if mask.dim() == 3 else mask)
        if is_causal:
            keep = keep & torch.ones_like(keep[0, 0]).tril()
        weights = scores.masked_fill(~keep, float("-inf")).softmax(-1).nan_to_num(0.0)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout)
        y = torch.einsum("bhqk,bhkd->bqhd", weights, v).flatten(2)
        return self.out_proj(y), weights.mean(1)

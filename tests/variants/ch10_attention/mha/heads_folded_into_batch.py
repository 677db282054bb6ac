"""Multi-head attention with the heads folded into the batch axis and bmm."""
import math

import torch
import torch.nn as nn


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, dropout=0.0, bias=True):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"{d_model} is not divisible by {n_heads}")
        self.h = n_heads
        self.attn_drop = nn.Dropout(dropout)
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        if bias:
            nn.init.constant_(self.out_proj.bias, 0.0)

    def _fold(self, t):
        B, L, E = t.shape
        return t.reshape(B, L, self.h, E // self.h).permute(0, 2, 1, 3).reshape(B * self.h, L, E // self.h)

    def forward(self, query, key=None, value=None, mask=None, is_causal=False):
        if key is None:
            key = query
        if value is None:
            value = key
        B, lq, E = query.shape
        lk = key.shape[1]
        ws = self.in_proj_weight.split(E)
        bs = self.in_proj_bias.split(E) if self.in_proj_bias is not None else (0, 0, 0)
        q, k, v = (self._fold(t @ w.T + b) for t, w, b in zip((query, key, value), ws, bs))
        scores = torch.bmm(q, k.transpose(1, 2)) * (1.0 / math.sqrt(E // self.h))    # [B*H, Lq, Lk]
        keep = None
        if mask is not None:
            keep = (mask.unsqueeze(1) if mask.dim() == 3 else mask).expand(B, self.h, lq, lk)
        if is_causal:
            tri = torch.tril(torch.ones(lq, lk, dtype=torch.bool, device=query.device)).expand(B, self.h, lq, lk)
            keep = tri if keep is None else keep & tri
        if keep is not None:
            keep = keep.reshape(B * self.h, lq, lk)
            scores = scores.masked_fill(~keep, float("-inf"))
        att = torch.softmax(scores, dim=-1)
        if keep is not None:
            att = torch.where(keep.any(-1, keepdim=True), att, torch.zeros_like(att))
        att = self.attn_drop(att)
        y = torch.bmm(att, v).reshape(B, self.h, lq, E // self.h).transpose(1, 2).reshape(B, lq, E)
        return self.out_proj(y), att.reshape(B, self.h, lq, lk).mean(dim=1)

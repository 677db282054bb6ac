"""A Transformer encoder layer shaped like PyTorch's own: _sa_block and _ff_block methods."""
import math

import torch
import torch.nn as nn


class _SelfAttention(nn.Module):
    def __init__(self, d_model, n_heads, dropout=0.0):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} is not a multiple of n_heads={n_heads}")
        self.h, self.hd = n_heads, d_model // n_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        self.drop = nn.Dropout(dropout)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x, mask=None, is_causal=False):
        B, L, E = x.shape
        proj = torch.addmm(self.in_proj_bias, x.reshape(B * L, E), self.in_proj_weight.T)
        q, k, v = (t.reshape(B, L, self.h, self.hd).transpose(1, 2).reshape(B * self.h, L, self.hd)
                   for t in proj.split(E, dim=1))
        ok = torch.ones(B, self.h, L, L, dtype=torch.bool, device=x.device)
        if mask is not None:
            ok = ok & (mask[:, None] if mask.ndim == 3 else mask)
        if is_causal:
            ok = ok & torch.tril(torch.ones(L, L, dtype=torch.bool, device=x.device))
        ok = ok.reshape(B * self.h, L, L)
        empty = ~ok.any(-1, keepdim=True)
        bias = torch.zeros(ok.shape, dtype=x.dtype, device=x.device).masked_fill(~ok & ~empty, float("-inf"))
        att = torch.softmax(torch.baddbmm(bias, q, k.transpose(1, 2), alpha=1 / math.sqrt(self.hd)), -1)
        att = self.drop(att * ~empty)
        y = torch.bmm(att, v).reshape(B, self.h, L, self.hd).transpose(1, 2).reshape(B, L, E)
        return self.out_proj(y)


class TransformerEncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, dropout=0.0, norm_first=True):
        super().__init__()
        self.self_attn = _SelfAttention(d_model, n_heads, dropout)
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-5)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm_first = norm_first

    def _sa_block(self, x, mask, is_causal):
        return self.dropout1(self.self_attn(x, mask=mask, is_causal=is_causal))

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(torch.relu(self.linear1(x)))))

    def forward(self, src, mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, mask, is_causal))
        return self.norm2(x + self._ff_block(x))

"""A Transformer encoder layer built from a residual helper, einsum attention and F.layer_norm."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class _SelfAttention(nn.Module):
    def __init__(self, d_model, n_heads, dropout=0.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError("d_model must be divisible by n_heads")
        self.n_heads, self.p = n_heads, dropout
        self.in_proj_weight = nn.Parameter(nn.init.xavier_uniform_(torch.empty(3 * d_model, d_model)))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None, is_causal=False):
        B, L, E = x.shape
        H = self.n_heads
        qkv = (x @ self.in_proj_weight.t() + self.in_proj_bias).unflatten(-1, (3, H, E // H))
        q, k, v = qkv.unbind(2)                                     # each [B, L, H, hd]
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) * (E // H) ** -0.5
        allowed = torch.ones(L, L, dtype=torch.bool, device=x.device).view(1, 1, L, L)
        if mask is not None:
            allowed = allowed & (mask.view(mask.shape[0], 1, L, L) if mask.dim() == 3 else mask)
        if is_causal:
            allowed = allowed & torch.ones(L, L, dtype=torch.bool, device=x.device).tril()
        att = scores.masked_fill(~allowed, float("-inf")).softmax(-1)
        att = torch.where(allowed, att, 0.0)
        att = F.dropout(att, self.p, self.training)
        return self.out_proj(torch.einsum("bhqk,bkhd->bqhd", att, v).reshape(B, L, E))


def _residual(x, sublayer, norm, drop, pre):
    if pre:
        return x + drop(sublayer(F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)))
    y = x + drop(sublayer(x))
    return F.layer_norm(y, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


class TransformerEncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, dropout=0.0, norm_first=True):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = _SelfAttention(d_model, n_heads, dropout)
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.drop_ff, self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, src, mask=None, is_causal=False):
        x = _residual(src, lambda t: self.self_attn(t, mask, is_causal), self.norm1, self.drop1, self.norm_first)
        return _residual(x, lambda t: self.linear2(self.drop_ff(torch.relu(self.linear1(t)))), self.norm2,
                         self.drop2, self.norm_first)

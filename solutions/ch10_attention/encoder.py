"""One Transformer encoder layer (self-attention + feed-forward), pre-norm or post-norm."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class _SelfAttention(nn.Module):
    """Multi-head self-attention with the parameter layout of nn.MultiheadAttention(batch_first=True):
    in_proj_weight [3E, E] (W_q, W_k, W_v stacked), in_proj_bias [3E], out_proj = nn.Linear(E, E)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.n_heads, self.head_dim, self.dropout = n_heads, d_model // n_heads, dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        """x [B, L, E] -> [B, L, E]. mask: bool, True = may attend, [L, L], [B, L, L] or [B, 1 or n_heads, L, L]
        (see TransformerEncoderLayer.forward); is_causal: j <= i, ANDed with mask. A query with nothing to
        attend outputs out_proj.bias."""
        # TODO: the same computation as the mha exercise, for self-attention (rewrite it here: exercise
        # TODO: files never import each other).
        # BEGIN SOLUTION
        B, L, E = x.shape
        H, hd = self.n_heads, self.head_dim
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        q = q.view(B, L, H, hd).transpose(1, 2)                             # [B, H, L, hd]
        k = k.view(B, L, H, hd).transpose(1, 2)                             # [B, H, L, hd]
        v = v.view(B, L, H, hd).transpose(1, 2)                             # [B, H, L, hd]
        scores = q @ k.transpose(-2, -1) / math.sqrt(hd)                    # [B, H, L, L]
        keep = mask
        if keep is not None and keep.dim() == 3:                            # [B, L, L] -> [B, 1, L, L]
            keep = keep.unsqueeze(1)
        if is_causal:
            causal = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = scores.masked_fill(~keep, float("-inf"))
        att = scores.softmax(dim=-1)
        if keep is not None:
            att = att.masked_fill(~keep, 0.0)      # rows with no visible key: NaN -> 0
        if self.training and self.dropout > 0.0:
            att = F.dropout(att, p=self.dropout)
        y = (att @ v).transpose(1, 2).reshape(B, L, E)                      # [B, L, E]
        return self.out_proj(y)
        # END SOLUTION


class TransformerEncoderLayer(nn.Module):
    """Encoder layer with the parameter names of nn.TransformerEncoderLayer(batch_first=True):
    self_attn.{in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias}, linear1 (E -> d_ff),
    linear2 (d_ff -> E), norm1 and norm2 (nn.LayerNorm(E, eps=1e-5)). ReLU activation.

    norm_first=True (pre-norm):   x = x + SA(norm1(x));   x = x + FF(norm2(x))
    norm_first=False (post-norm): x = norm1(x + SA(x));   x = norm2(x + FF(x))
    where FF(x) = linear2(dropout(relu(linear1(x)))), and SA and FF outputs each pass a dropout before
    the residual add (dropout is active in training mode only).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0, norm_first: bool = True):
        super().__init__()
        # TODO: create self_attn = _SelfAttention(...), linear1, linear2, norm1, norm2 (eps 1e-5) and the
        # TODO: dropout modules, and remember norm_first.
        # BEGIN SOLUTION
        self.norm_first = norm_first
        self.self_attn = _SelfAttention(d_model, n_heads, dropout)
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=1e-5)
        self.norm2 = nn.LayerNorm(d_model, eps=1e-5)
        self.dropout = nn.Dropout(dropout)       # inside the feed-forward
        self.dropout1 = nn.Dropout(dropout)      # on the attention branch
        self.dropout2 = nn.Dropout(dropout)      # on the feed-forward branch
        # END SOLUTION

    def forward(self, src: torch.Tensor, mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        """src [B, L, E] -> [B, L, E]. mask: optional bool, True = may attend, of rank 2 [L, L], 3 [B, L, L]
        (one per sequence) or 4 [B, 1 or n_heads, L, L]; a key-padding mask is [B, 1, 1, L]. It is broadcast
        against the per-head scores [B, n_heads, L, L] (a rank-3 mask gets its head axis at dim 1).
        is_causal: query i sees keys j <= i, ANDed with mask."""
        # TODO: two residual blocks, each "x + dropout(sublayer(...))": the norm goes inside the branch
        # TODO: (before the sublayer) when norm_first, or after the addition otherwise.
        # BEGIN SOLUTION
        x = src
        if self.norm_first:
            x = x + self.dropout1(self.self_attn(self.norm1(x), mask=mask, is_causal=is_causal))
            x = x + self.dropout2(self.linear2(self.dropout(F.relu(self.linear1(self.norm2(x))))))
        else:
            x = self.norm1(x + self.dropout1(self.self_attn(x, mask=mask, is_causal=is_causal)))
            x = self.norm2(x + self.dropout2(self.linear2(self.dropout(F.relu(self.linear1(x))))))
        return x                                                            # [B, L, E]
        # END SOLUTION

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
        raise NotImplementedError("_SelfAttention.forward: not implemented yet")


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
        raise NotImplementedError("TransformerEncoderLayer.__init__: not implemented yet")

    def forward(self, src: torch.Tensor, mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
        """src [B, L, E] -> [B, L, E]. mask: optional bool, True = may attend, of rank 2 [L, L], 3 [B, L, L]
        (one per sequence) or 4 [B, 1 or n_heads, L, L]; a key-padding mask is [B, 1, 1, L]. It is broadcast
        against the per-head scores [B, n_heads, L, L] (a rank-3 mask gets its head axis at dim 1).
        is_causal: query i sees keys j <= i, ANDed with mask."""
        # TODO: two residual blocks, each "x + dropout(sublayer(...))": the norm goes inside the branch
        # TODO: (before the sublayer) when norm_first, or after the addition otherwise.
        raise NotImplementedError("TransformerEncoderLayer.forward: not implemented yet")

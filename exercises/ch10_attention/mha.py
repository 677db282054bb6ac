"""Multi-head attention with the parameter layout of nn.MultiheadAttention(batch_first=True)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadAttention(nn.Module):
    """Multi-head attention, batch first.

    Parameters (names and shapes exactly as nn.MultiheadAttention(d_model, n_heads, bias=bias,
    batch_first=True), so a state_dict loads across):
        in_proj_weight: [3E, E], the rows of W_q, W_k, W_v stacked in that order.
        in_proj_bias:   [3E], or None when bias=False.
        out_proj:       nn.Linear(E, E, bias=bias).
    Head h uses features h*head_dim : (h+1)*head_dim of the projected q, k and v.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        """d_model must divide by n_heads (else ValueError); dropout applies to the attention weights in
        training mode only. Initialise like nn.MultiheadAttention: xavier_uniform_ weights, zero biases."""
        super().__init__()
        # TODO: check d_model % n_heads, store the sizes, create in_proj_weight [3E, E], in_proj_bias [3E]
        # TODO: (register it as None when bias=False) and out_proj = nn.Linear(E, E, bias=bias).
        raise NotImplementedError("MultiHeadAttention.__init__: not implemented yet")

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from query to key/value.

        Args:
            query: [B, Lq, E].
            key: [B, Lk, E]; defaults to query (self-attention).
            value: [B, Lk, E]; defaults to key.
            mask: optional bool, True = may attend, of rank 2 [Lq, Lk] (the same for every sequence),
                3 [B, Lq, Lk] (one per sequence, shared by the heads) or 4 [B, 1 or n_heads, Lq, Lk];
                a key-padding mask is [B, 1, 1, Lk]. It is broadcast against the per-head scores
                [B, n_heads, Lq, Lk] (a rank-3 mask gets its head axis at dim 1).
            is_causal: query i attends only to keys j <= i (top-left aligned); ANDed with mask.
        Returns:
            (out [B, Lq, E], weights [B, Lq, Lk]) where weights are the attention probabilities averaged
            over heads, after dropout. A query with no key to attend gets zero weights, so its output is
            out_proj.bias (zeros without bias), never NaN.
        """
        # TODO: project with in_proj_weight/in_proj_bias (q, k, v use its three row blocks), split the
        # TODO: last axis E into (n_heads, head_dim) and move heads next to the batch, attend (scale,
        # TODO: mask with -inf, softmax, zero masked rows, dropout), merge the heads back and apply out_proj.
        # TODO: A rank-3 mask [B, Lq, Lk] needs a head axis at dim 1 before it broadcasts.
        raise NotImplementedError("MultiHeadAttention.forward: not implemented yet")

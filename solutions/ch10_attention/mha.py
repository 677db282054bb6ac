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
        # BEGIN SOLUTION
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            nn.init.zeros_(self.out_proj.bias)
        # END SOLUTION

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
        # BEGIN SOLUTION
        if key is None:
            key = query
        if value is None:
            value = key
        B, Lq, E = query.shape
        Lk = key.shape[1]
        H, hd = self.n_heads, self.head_dim
        if query is key and key is value:                                   # self-attention: one matmul
            q, k, v = F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        else:
            w_q, w_k, w_v = self.in_proj_weight.chunk(3)
            b_q, b_k, b_v = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None,) * 3
            q, k, v = F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)
        q = q.view(B, Lq, H, hd).transpose(1, 2)                            # [B, H, Lq, hd]
        k = k.view(B, Lk, H, hd).transpose(1, 2)                            # [B, H, Lk, hd]
        v = v.view(B, Lk, H, hd).transpose(1, 2)                            # [B, H, Lk, hd]

        scores = q @ k.transpose(-2, -1) / math.sqrt(hd)                    # [B, H, Lq, Lk]
        keep = mask
        if keep is not None and keep.dim() == 3:                            # [B, Lq, Lk] -> [B, 1, Lq, Lk]
            keep = keep.unsqueeze(1)
        if is_causal:
            causal = torch.ones(Lq, Lk, dtype=torch.bool, device=query.device).tril()
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = scores.masked_fill(~keep, float("-inf"))
        att = scores.softmax(dim=-1)                                        # [B, H, Lq, Lk]
        if keep is not None:
            att = att.masked_fill(~keep, 0.0)      # rows with no visible key: NaN -> 0
        if self.training and self.dropout > 0.0:
            att = F.dropout(att, p=self.dropout)
        y = att @ v                                                         # [B, H, Lq, hd]
        y = y.transpose(1, 2).reshape(B, Lq, E)                             # [B, Lq, E]
        return self.out_proj(y), att.mean(dim=1)                           # [B, Lq, E], [B, Lq, Lk]
        # END SOLUTION

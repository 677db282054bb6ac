"""Scaled dot-product attention, the core of every Transformer, written with matmul and softmax."""
import math

import torch

MISTAKE = 'dropout zeroes weights but does not divide the survivors by 1 - p'
EXPECT = {'test_dropout': 'rescaled'}


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    is_causal: bool = False,
    dropout_p: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ / √d) v, returning the output and the attention weights.

    Args:
        q: [..., Lq, d] queries; any leading batch shape (e.g. [B, H]).
        k: [..., Lk, d] keys, same leading shape as q.
        v: [..., Lk, dv] values, same leading shape as q.
        mask: optional bool tensor broadcastable to [..., Lq, Lk]; True = the query may attend to the key.
        is_causal: if True, query i may only attend to keys j <= i (top-left aligned, like
            F.scaled_dot_product_attention, also when Lq != Lk); combined with ``mask`` by AND.
        dropout_p: probability of zeroing an attention weight; kept weights are scaled by 1/(1 - dropout_p).
            Applied whenever dropout_p > 0 (there is no train/eval switch in a function).
    Returns:
        (out, weights): out [..., Lq, dv] and weights [..., Lq, Lk], in q's dtype and on q's device.
        ``weights`` are the probabilities actually applied (after dropout), so out == weights @ v.
        A query row that may attend to no key gives zeros in both out and weights, never NaN.
    """
    # TODO: scores = q kᵀ scaled by 1/sqrt(d); set the scores the query may not see to -inf (combine the
    # TODO: mask with a causal j <= i pattern by AND), softmax over the keys, zero the rows that had no
    # TODO: key at all (softmax of all -inf is NaN), apply dropout, then multiply by v. No Python loops.
    Lq, Lk = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])              # [..., Lq, Lk]
    keep = mask
    if is_causal:
        causal = torch.ones(Lq, Lk, dtype=torch.bool, device=q.device).tril()  # [Lq, Lk], j <= i
        keep = causal if keep is None else keep & causal
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    weights = scores.softmax(dim=-1)                                        # [..., Lq, Lk]
    if keep is not None:
        # a row with every key masked is softmax(-inf, ..., -inf) = NaN; zeroing every masked entry
        # turns those rows into zeros and leaves the others untouched (their masked entries are already 0)
        weights = weights.masked_fill(~keep, 0.0)
    if dropout_p > 0.0:
        weights = weights * (torch.rand_like(weights) >= dropout_p)
    out = weights @ v                                                       # [..., Lq, dv]
    return out, weights

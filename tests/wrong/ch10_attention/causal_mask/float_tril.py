"""The causal (look-ahead) mask: which keys each query is allowed to see."""
import torch

MISTAKE = 'returns a float 0/1 matrix instead of a bool mask'
EXPECT = {'test_matches_tril': 'bool'}


def causal_mask(lq: int, lk: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean causal mask, True = may attend.

    Args:
        lq: number of queries (rows).
        lk: number of keys (columns); defaults to lq.
        device: where to create the mask (default: the default device).
    Returns:
        Bool [lq, lk] with mask[i, j] = (j <= i): top-left aligned like
        F.scaled_dot_product_attention(is_causal=True), so query i sees keys 0..i (itself included).
    """
    # TODO: build row indices i and column indices j with torch.arange and compare them with
    # TODO: broadcasting; a query may see its own position. No loops.
    if lk is None:
        lk = lq
    return torch.tril(torch.ones(lq, lk, device=device))

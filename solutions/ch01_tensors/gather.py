"""Batched gather: picking rows per batch element with torch.gather or advanced indexing."""
import torch


def batched_gather(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """For every batch element b, pick the rows ``idx[b]`` of ``x[b]``.

    Args:
        x: [B, N, D] tensor (float32 or float64).
        idx: [B, K] ``torch.long`` tensor on the same device, values in ``[0, N)``;
            indices may repeat.

    Returns:
        [B, K, D] tensor, same dtype and device as ``x``, with ``out[b, k] = x[b, idx[b, k]]``.
        Differentiable with respect to ``x`` (a row picked twice receives both gradients).

    Everything in torch is allowed (``torch.gather``, advanced indexing); no Python loops.
    """
    # TODO: the index selects along dim 1 (the N rows), separately for each batch element:
    # TODO: either expand idx to [B, K, D] and use torch.gather along dim 1, or index x with a
    # TODO: batch index [B, 1] together with idx [B, K].
    # BEGIN SOLUTION
    index = idx.unsqueeze(-1).expand(-1, -1, x.size(-1))   # [B, K, D]
    # torch.gather wants an index as large as the output: row idx[b, k] is copied for every d.
    return torch.gather(x, 1, index)                       # [B, K, D]
    # END SOLUTION

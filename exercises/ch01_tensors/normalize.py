"""L2 normalisation along a dimension, safe at the zero vector."""
import torch


def l2_normalize(x: torch.Tensor, dim: int = -1, eps: float = 1e-12) -> torch.Tensor:
    """Scale ``x`` to unit Euclidean length along ``dim``, exactly like ``F.normalize``.

    Args:
        x: [...] floating-point tensor (float32 or float64), any shape.
        dim: the dimension along which vectors are normalised (negative values count from the end).
        eps: lower bound on the norm, so that the zero vector stays 0 instead of NaN.

    Returns:
        Tensor of the same shape, dtype and device as ``x``:
        ``x / max(||x||, eps)``, where the norm is taken along ``dim`` and broadcast back.
        Finite everywhere, and its gradient is finite too, also at the zero vector.

    Forbidden: ``torch.nn.functional.normalize``.
    """
    # TODO: take the Euclidean norm along dim, keeping the dimension so it broadcasts back;
    # TODO: bound it from below by eps (max, not +) in a way that keeps the gradient finite at 0,
    # TODO: and divide.
    raise NotImplementedError("l2_normalize: not implemented yet")

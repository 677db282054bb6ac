"""Sliding windows as a strided view: shapes, strides and the window count."""
import torch


def sliding_windows(x: torch.Tensor, size: int, step: int) -> torch.Tensor:
    """All windows of ``size`` consecutive elements along the last dimension, ``step`` apart.

    Args:
        x: [..., T] tensor (any leading dimensions, any dtype), in any layout: like Tensor.unfold, it may
            itself be a transposed, sliced or offset view, so a view of it starts from x.stride() and
            x.storage_offset().
        size: window length, a positive int.
        step: distance between the starts of consecutive windows, a positive int.

    Returns:
        [..., W, size] tensor with ``W = (T - size) // step + 1`` windows (``W = 0``, an empty
        ``[..., 0, size]`` tensor, when ``size > T``) and ``out[..., w, i] = x[..., w * step + i]``.
        Same dtype and device as ``x``; it may be a view of ``x``. Differentiable.

    Raises:
        ValueError: if ``size <= 0`` or ``step <= 0``.

    Forbidden: ``torch.Tensor.unfold`` and ``torch.nn.functional.unfold``.
    """
    # TODO: validate size and step, then count the windows W (careful: off-by-one, and 0 when size > T).
    # TODO: build the [..., W, size] result without loops: either a view with torch.as_strided
    # TODO: (moving one window forward = step elements, one element inside a window = 1 element),
    # TODO: or index the last dimension with a [W, size] table of positions w * step + i.
    raise NotImplementedError("sliding_windows: not implemented yet")

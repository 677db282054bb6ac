"""Trusted-side helpers of the ch03 and ch04 graders: inputs with the layouts a caller may pass, and the
message that names the mistake when learner code cannot take them.

Tensors cross to the worker with their layout (shape, strides, storage offset), so a grader can pass a
transposed or sliced input exactly as a training loop would (a channels-last batch, ``x.t()``, ``x[:, ::2]``).
"""
from __future__ import annotations

import torch

from torchcourse.remote import LearnerError

__all__ = ["LAYOUTS", "call_with_layout", "describe", "laid_out"]

LAYOUTS = ("transposed", "strided", "offset")

_VIEW = ("Likely mistake: .view() on an input that is not contiguous (a transposed, permuted or sliced tensor, "
         "which callers pass all the time); use .reshape() or .flatten(), which copy only when they must, or "
         "index and reduce along the original axes")


def laid_out(x: torch.Tensor, how: str) -> torch.Tensor:
    """A tensor equal to ``x`` (same shape and values) in another layout.

    ``"transposed"``: the last two axes stored the other way round (``x.dim() >= 2``); ``"strided"``: every
    element followed by a gap (stride 2 on the last axis, as ``y[..., ::2]`` gives); ``"offset"``: contiguous,
    but starting one element into its storage.
    """
    if how == "transposed":
        return x.transpose(-1, -2).contiguous().transpose(-1, -2)
    if how == "strided":
        return torch.stack([x, torch.zeros_like(x)], dim=-1)[..., 0]
    if how == "offset":
        return torch.cat([x.new_zeros(1), x.reshape(-1)])[1:].view(x.shape)
    raise ValueError(f"unknown layout {how!r}; one of {LAYOUTS}")


def describe(x: torch.Tensor) -> str:
    """``"[4, 5], strides (1, 4)"``: what a message says about an input's layout."""
    return f"{list(x.shape)}, strides {tuple(x.stride())}, storage offset {x.storage_offset()}"


def call_with_layout(fn, *args, what: str, **kwargs):
    """``fn(*args, **kwargs)``; a learner error that comes from needing a contiguous input fails with a message
    that names the mistake (``.view`` where ``.reshape`` is needed)."""
    try:
        return fn(*args, **kwargs)
    except LearnerError as e:
        text = e.message.lower()
        if "view size is not compatible" in text or "contiguous" in text:
            raise AssertionError(f"{what}: {e.describe()}\n  {_VIEW}") from None
        raise

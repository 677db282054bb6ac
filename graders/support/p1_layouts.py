"""Odd layouts for the ch01/ch02 graders: the same values in a non-contiguous tensor, and a call that names the
``view`` mistake such inputs reveal.

Tensors cross to the worker with their layout (docs/authoring.md), so a grader can hand learner code a
transposed or strided input: code that calls ``.view()`` on it, or that builds an ``as_strided`` view as if its
input were contiguous, fails there while ``reshape`` and stride-aware code pass.
"""
from __future__ import annotations

import math

import torch

from torchcourse.remote import LearnerError

__all__ = ["column_major", "spread", "describe", "call_with_layout"]


def column_major(t: torch.Tensor) -> torch.Tensor:
    """``t``'s values in a tensor whose last two dimensions are stored transposed (non-contiguous), a leaf
    that requires grad when ``t`` does."""
    return t.detach().mT.contiguous().mT.requires_grad_(t.requires_grad)


def spread(t: torch.Tensor) -> torch.Tensor:
    """``t``'s values in a view that skips every other storage element and starts at storage offset 1:
    non-contiguous in every dimension, the last one included (a strided slice such as ``base[..., 1::2]``)."""
    base = t.new_zeros(2 * t.numel() + 1)
    strides = [2 * math.prod(t.shape[i + 1:]) for i in range(t.dim())]
    view = base.as_strided(t.shape, strides, 1)
    view.copy_(t.detach())
    return view.requires_grad_(t.requires_grad)


def describe(t: torch.Tensor) -> str:
    """How a test input is laid out, for messages: shape, strides and storage offset."""
    return f"shape {tuple(t.shape)}, strides {t.stride()}, storage offset {t.storage_offset()}"


def call_with_layout(label: str, fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)`` on inputs with odd layouts (``label`` names the call in messages); a ``view``
    that such inputs refuse fails naming the mistake."""
    try:
        return fn(*args, **kwargs)
    except LearnerError as e:
        if e.type == "RuntimeError" and ("view size is not compatible" in e.message or "use .reshape" in e.message):
            raise AssertionError(
                f"{label}: {e.describe()}\n  Likely mistake: .view() on an input that is not contiguous (a "
                f"transposed or sliced tensor): a function must accept any layout its caller passes. Use "
                f".reshape(), which copies only when it must.") from None
        raise

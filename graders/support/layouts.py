"""Inputs in the layouts a caller may pass, and the message that names the mistake when learner code cannot take
them (shared by every chapter's graders).

Tensors cross to the worker with their layout (docs/authoring.md), so a grader can hand learner code a transposed,
strided or offset input exactly as a training loop would (``x.t()``, ``x[:, ::2]``, a channels-last batch): code
that calls ``.view()`` on it, or builds an ``as_strided`` view as if its input were contiguous, fails there while
``reshape`` and stride-aware code pass.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import torch

from torchcourse.remote import LearnerError

__all__ = ["LAYOUTS", "call_with_layout", "column_major", "describe", "explain_layout_errors", "laid_out", "spread",
           "transposed"]

LAYOUTS = ("transposed", "strided", "offset")
_VIEW_ERRORS = ("view size is not compatible", "use .reshape", "is not contiguous", "non-contiguous")


def transposed(t: torch.Tensor, dims: tuple[int, int] = (-2, -1)) -> torch.Tensor:
    """The values of ``t`` in a non-contiguous layout: a transposed view of a contiguous copy of ``t``ᵀ."""
    return t.transpose(*dims).contiguous().transpose(*dims)


def column_major(t: torch.Tensor) -> torch.Tensor:
    """``t``'s values with its last two dimensions stored transposed, a leaf that requires grad when ``t`` does."""
    return transposed(t.detach()).requires_grad_(t.requires_grad)


def spread(t: torch.Tensor) -> torch.Tensor:
    """``t``'s values in a view that skips every other storage element and starts at storage offset 1:
    non-contiguous in every dimension, the last one included (a strided slice such as ``base[..., 1::2]``)."""
    base = t.new_zeros(2 * t.numel() + 1)
    strides = [2 * math.prod(t.shape[i + 1:]) for i in range(t.dim())]
    view = base.as_strided(t.shape, strides, 1)
    view.copy_(t.detach())
    return view.requires_grad_(t.requires_grad)


def laid_out(x: torch.Tensor, how: str) -> torch.Tensor:
    """A tensor equal to ``x`` (same shape and values) in another layout.

    ``"transposed"``: the last two axes stored the other way round (``x.dim() >= 2``); ``"strided"``: every
    element followed by a gap (stride 2 on the last axis, as ``y[..., ::2]`` gives); ``"offset"``: contiguous,
    but starting one element into its storage.
    """
    if how == "transposed":
        return transposed(x)
    if how == "strided":
        return torch.stack([x, torch.zeros_like(x)], dim=-1)[..., 0]
    if how == "offset":
        return torch.cat([x.new_zeros(1), x.reshape(-1)])[1:].view(x.shape)
    raise ValueError(f"unknown layout {how!r}; one of {LAYOUTS}")


def describe(t: torch.Tensor) -> str:
    """How a test input is laid out, for messages: shape, strides and storage offset."""
    return f"shape {tuple(t.shape)}, strides {t.stride()}, storage offset {t.storage_offset()}"


@contextmanager
def explain_layout_errors(what: str):
    """Turn a learner error caused by ``.view()`` on a non-contiguous input into a failure that names the
    mistake; any other learner error passes through unchanged."""
    try:
        yield
    except LearnerError as e:
        if not any(m in e.message for m in _VIEW_ERRORS):
            raise
        where = f" (at {e.where['file']}, line {e.where['line']})" if e.where else ""
        raise AssertionError(
            f"{what}: your code failed on an input that is not contiguous{where}: {e.message}\n  Likely mistake: "
            f".view() on a tensor whose memory is not laid out row by row (a transposed or sliced input, a "
            f"channels_last image, the result of a permute); use .reshape() or .flatten(), which copy only when "
            f"they must, or .contiguous() first. A function must accept any layout its caller hands it.") from None


def call_with_layout(fn, *args, what: str, **kwargs):
    """``fn(*args, **kwargs)`` on inputs with odd layouts, under ``explain_layout_errors(what)``."""
    with explain_layout_errors(what):
        return fn(*args, **kwargs)

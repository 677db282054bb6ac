"""Trusted-side helpers of the ch10 (attention) graders: the mask ranks mha and encoder accept, a default device
set for a block, and the device check of a module (the learner's module moved to ``meta``). Odd input layouts
are in ``support.layouts``.

Used by graders/ch10_attention/test_*.py. Nothing here runs learner code except through handles.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch

from torchcourse.remote import Handle, LearnerError


@contextmanager
def default_device(torch_w: Handle, device: str):
    """The worker's default device set to ``device`` for the block (``torch_w = impl.lib("torch")``): factory
    calls without ``device=`` in learner code then make tensors there."""
    torch_w.set_default_device(device)
    try:
        yield
    finally:
        torch_w.set_default_device(None)


def mask_ranks(rng: torch.Generator, B: int, lq: int, lk: int) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """The masks mha and encoder accept (True = may attend), each as ``(label, mask, keep[B, 1, Lq, Lk])``:
    rank 2 ``[Lq, Lk]``, rank 3 ``[B, Lq, Lk]``, rank 4 ``[B, 1, Lq, Lk]`` and a key-padding mask
    ``[B, 1, 1, Lk]`` with the padding inside the sequence too (not only at its end). Every query row keeps
    key 0 and drops another key, so that neither the mask nor its inverse empties a row."""
    def random(*shape):
        m = torch.rand(*shape, lq, lk, generator=rng) < 0.6
        m[..., 0] = True
        m[..., lk - 1] = False
        return m

    padding = torch.ones(B, 1, 1, lk, dtype=torch.bool)
    padding[0, ..., lk - 2:] = False                     # padding at the end of sequence 0
    padding[-1, ..., 1] = False                          # a padded position inside the last sequence
    two, three, four = random(), random(B), random(B, 1)
    return [(f"a [{lq},{lk}] mask (rank 2)", two, two.expand(B, 1, lq, lk)),
            (f"a [{B},{lq},{lk}] mask (rank 3, one per batch element)", three, three.unsqueeze(1)),
            (f"a [{B},1,{lq},{lk}] mask (rank 4)", four, four),
            (f"a key-padding mask [{B},1,1,{lk}]", padding, padding.expand(B, 1, lq, lk))]


def expect_module_device_follows(make, torch_w: Handle, *args, what: str, **kwargs):
    """The device contract of a module, without a GPU. ``make()`` builds the learner's module (a handle);
    ``torch_w`` is the worker's ``torch`` (``impl.lib("torch")``).

    First the module is moved to ``meta`` and called on meta inputs, so that a tensor it creates on the CPU
    (a causal mask without ``device=``) meets meta tensors and fails there. Where the module needs values that
    meta tensors do not have (``.item()``, ``if mask.any():``), a fresh CPU module is called on the CPU inputs
    while the worker's default device is ``meta``: a tensor made without ``device=`` then lands on meta and
    the same mistake shows as a device mismatch. (``expect_device_follows`` cannot do this second step for a
    module: it would keep the module's parameters on meta.) Returns the result."""
    module = make()
    module.to("meta")
    try:
        result = module(*_meta(args), **_meta(kwargs))
    except LearnerError as e:
        if _mismatch(e):
            raise AssertionError(_mixed(what, e, "with the module and its inputs on the `meta` device")) from None
        if "meta" not in e.message.lower():
            raise
        return _with_meta_default(make(), torch_w, args, kwargs, what)
    _expect_on("meta", result, what, "with the module and its inputs on the `meta` device")
    return result


def _with_meta_default(module: Handle, torch_w: Handle, args, kwargs, what: str):
    how = "with the module and its inputs on the CPU while tensors made without device= land on `meta`"
    try:
        with default_device(torch_w, "meta"):
            result = module(*args, **kwargs)
    except LearnerError as e:
        if _mismatch(e):
            raise AssertionError(_mixed(what, e, how)) from None
        raise
    _expect_on("cpu", result, what, how)
    return result


_LIKELY = ("Likely mistake: a new tensor made without device= (torch.ones(L, L).tril(), torch.arange(L), "
           "torch.zeros(...)): create it on the input's device (device=x.device, torch.ones_like(x), "
           "x.new_ones(...)) so that the module works wherever it lives, a GPU included.")


def _mismatch(error: LearnerError) -> bool:
    return any(m in error.message for m in ("is not on the expected device", "same device", "expected device"))


def _mixed(what: str, error: LearnerError, how: str) -> str:
    where = f"\n  at {error.where['file']}, line {error.where['line']}: {error.where.get('code', '')}" \
        if error.where else ""
    return f"{what}: {how}, your code mixed devices ({error.message}).{where}\n  {_LIKELY}"


def _expect_on(device: str, result, what: str, how: str) -> None:
    for t in result if isinstance(result, (tuple, list)) else (result,):
        if isinstance(t, torch.Tensor) and t.device.type != device:
            raise AssertionError(f"{what}: {how}, a result came back on {t.device.type}, expected {device}.\n"
                                 f"  {_LIKELY}")


def _meta(value):
    if isinstance(value, torch.Tensor):
        return value.detach().to("meta")
    if isinstance(value, (list, tuple)):
        return type(value)(_meta(v) for v in value)
    if isinstance(value, dict):
        return {k: _meta(v) for k, v in value.items()}
    return value

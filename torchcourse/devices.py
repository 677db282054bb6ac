"""Device checks that run on every machine: the ``meta`` device stands in for a GPU.

A function given CUDA inputs that makes a tensor with ``torch.zeros(n)`` (no ``device=``) breaks on a GPU and
works on a CPU-only laptop. Tensors on the ``meta`` device have a shape, a dtype and strides but no data, and
every machine has the device, so calling learner code with every tensor argument on ``meta`` shows the same
mistake without a GPU: combining the CPU tensor with a meta one raises "Tensor on device cpu is not on the
expected device meta", and a result made on the CPU comes back on the CPU.

Where meta is not enough — the code needs values (``.item()``, ``.tolist()``, a loop bound taken from a
tensor), uses an operator without a meta kernel, or produces a data-dependent shape (``nonzero``, boolean
indexing, ``unique``) — ``expect_device_follows`` runs the call a second way: inputs on the CPU with real
values while the worker's default device is ``meta`` (``with torch.device("meta")``), so that a factory call
without ``device=`` makes a meta tensor and the same mistake surfaces as a device mismatch or a meta result.
What neither catches: a device written out explicitly (``device="cpu"``, ``.cpu()``) in code that needs values,
and operators that accept mixed devices silently (``meta @ cpu`` returns meta); for those the ``gpu`` checks
on a CUDA machine remain the real test. Training loops that must move batches to the model's device are
checked best with the model on ``meta`` and a loader yielding CPU batches: a loop that forgets ``.to(device)``
then fails in the first layer.
"""
from __future__ import annotations

import torch

from torchcourse import protocol
from torchcourse.remote import Handle, LearnerError

__all__ = ["call_under_meta_default", "call_with_meta_default", "device_mismatch_message", "expect_device_follows",
           "is_device_mismatch", "to_meta"]

_MISMATCH = ("is not on the expected device", "to be on the same device", "same device", "expected device")


def expect_device_follows(fn: Handle, *args, what: str | None = None, **kwargs):
    """``fn`` with every tensor argument on ``meta``: fail when it combines them with a tensor made on another
    device or returns a tensor on another device, naming the likely mistake. Returns the (meta) result.

    When the call needs values that meta tensors do not have, it is run again on the CPU inputs with the
    worker's default device set to ``meta`` (see the module's docstring)."""
    label = what or "the call"
    try:
        result = fn(*to_meta(args), **to_meta(kwargs))
    except LearnerError as e:
        if is_device_mismatch(e):
            raise AssertionError(device_mismatch_message(label, e, "with every input on the `meta` device")) from None
        if "meta" not in e.message.lower():
            raise
        return call_with_meta_default(fn, args, kwargs, label)
    _expect_on("meta", result, label, "with every input on the `meta` device")
    return result


def call_under_meta_default(fn: Handle, *args, **kwargs):
    """``fn(*args, **kwargs)`` in the worker while its default device is ``meta`` (tensors made without
    ``device=`` land there); nothing judged: the building block of ``call_with_meta_default``."""
    return fn._call(list(args), kwargs, default_device="meta")


def call_with_meta_default(fn: Handle, args, kwargs, label: str):
    """``fn(*args, **kwargs)`` on the CPU inputs, with tensors made without ``device=`` landing on ``meta``; a
    device mismatch fails naming the mistake, and the result must come back on the CPU."""
    how = "with CPU inputs while tensors made without device= land on `meta`"
    try:
        result = call_under_meta_default(fn, *args, **kwargs)
    except LearnerError as e:
        if is_device_mismatch(e):
            raise AssertionError(device_mismatch_message(label, e, how)) from None
        raise
    _expect_on("cpu", result, label, how)
    return result


def to_meta(value):
    """``value`` with every tensor moved to ``meta`` (a Parameter stays a Parameter, ``requires_grad`` kept)."""
    def move(t: torch.Tensor):
        meta = t.detach().to("meta")
        if isinstance(t, torch.nn.Parameter):
            return torch.nn.Parameter(meta, requires_grad=t.requires_grad)
        return meta.requires_grad_(t.requires_grad)
    return protocol.map_tensors(move, value)


def is_device_mismatch(error: LearnerError) -> bool:
    """The learner's error says it combined tensors on different devices."""
    return error.type in ("RuntimeError", "ValueError") and any(m in error.message for m in _MISMATCH)


_LIKELY = ("Likely mistake: a new tensor made without device= (torch.zeros(n), torch.arange(n), torch.tensor(...), "
           "torch.ones(...)): create it on its inputs' device (device=x.device, torch.zeros_like(x), "
           "x.new_zeros(n)) so that the function works wherever its inputs live, a GPU included.")


def device_mismatch_message(label: str, error: LearnerError, how: str) -> str:
    """The failure message for a device mismatch: where it happened and the likely mistake."""
    where = f"\n  at {error.where['file']}, line {error.where['line']}: {error.where.get('code', '')}" \
        if error.where else ""
    return f"{label}: {how}, your code mixed devices ({error.message}).{where}\n  {_LIKELY}"


def _expect_on(device: str, result, label: str, how: str) -> None:
    for i, t in enumerate(protocol.tensors_in(result)):
        if t.device.type != device:
            part = "the result" if isinstance(result, torch.Tensor) else f"tensor {i + 1} of the result"
            raise AssertionError(f"{label}: {how}, {part} came back on {t.device.type}, expected {device}.\n"
                                 f"  {_LIKELY}")

"""Inputs come back unchanged: call learner code on worker-side tensors, then read them back.

A function that edits its caller's tensors in place (``idx += 1``, ``x.unsqueeze_(0)``, ``t.neg_()``) is wrong
even when its result is right. ``call_unchanged`` keeps every tensor argument in the worker for the call (so
the learner's code receives the very objects it could modify), then compares each one, as it is afterwards,
with the grader's original: values, shape, strides, storage offset, ``requires_grad`` and the version counter,
which every in-place operation bumps — so ``x.add_(0)`` or ``unsqueeze_`` followed by ``squeeze_`` is caught
although the values end up equal.
"""
from __future__ import annotations

import torch

from torchcourse import protocol
from torchcourse.remote import Handle, device_available

__all__ = ["call_unchanged"]


def call_unchanged(fn: Handle, *args, what: str | None = None, names: tuple[str, ...] = (), **kwargs):
    """``fn(*args, **kwargs)`` in the worker; fail when the call modified a tensor argument in place.

    Tensors at any depth of the arguments (inside lists, tuples, dicts) are checked. ``names`` names the
    positional arguments in messages (``names=("x", "idx")``); keyword arguments are named by their keyword.
    Returns the call's result.
    """
    label = what or "the call"
    watched: list[tuple[str, torch.Tensor, Handle]] = []
    placed_args = [_place(fn._impl, a, names[i] if i < len(names) else f"argument {i + 1}", watched)
                   for i, a in enumerate(args)]
    placed_kwargs = {k: _place(fn._impl, v, k, watched) for k, v in kwargs.items()}
    versions = [_inspect(handle)[1] for _, _, handle in watched]    # a view's counter is its storage's
    result = fn(*placed_args, **placed_kwargs)
    for (name, original, handle), version_before in zip(watched, versions):
        after, version = _inspect(handle)
        changed = _changes(original, after, version_before, version)
        if changed:
            raise AssertionError(
                f"{label}: modified its input `{name}` in place ({', '.join(changed)} changed). A function must "
                f"leave its caller's tensors as they were. Likely mistake: an in-place operation on an argument "
                f"(`{name} += ...`, `{name}[...] = ...`, `{name}.add_()`, `unsqueeze_`, `{name}.data = ...`); "
                f"compute a new tensor instead (`{name} = {name} + ...`), or work on `{name}.clone()`.")
    return result


def _place(impl, value, name: str, watched: list):
    """``value`` with each tensor replaced by a handle to its worker-side copy (recorded in ``watched``)."""
    if isinstance(value, torch.Tensor):
        reply = impl.request({"op": "put", "value": impl.encode(value)})
        handle = impl.decode(reply["result"])
        watched.append((name, value, handle))
        return handle
    if isinstance(value, (list, tuple)):
        return type(value)(_place(impl, v, f"{name}[{i}]", watched) for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _place(impl, v, f"{name}[{k!r}]", watched) for k, v in value.items()}
    return value


def _inspect(handle: Handle) -> tuple[torch.Tensor, int]:
    """A worker-side tensor as it is now (layout and ``requires_grad`` included) and its version counter."""
    reply = handle._impl.request({"op": "inspect", "obj": handle._ref()})["result"]
    if not isinstance(reply, dict) or type(reply.get("version")) is not int or \
            not isinstance(reply.get("tensor"), dict):
        raise protocol.ProtocolError("malformed inspect reply")
    return protocol.decode_tensor(reply.get("tensor"), device_ok=device_available), reply["version"]


def _changes(before: torch.Tensor, after: torch.Tensor, version_before: int, version: int) -> list[str]:
    """What differs between the tensor sent and the tensor read back after the call."""
    changed = []
    if after.shape != before.shape:
        changed.append(f"shape {tuple(before.shape)} -> {tuple(after.shape)}")
    elif after.device.type != "meta" and not _same_values(before, after):
        changed.append("values")
    if after.dtype != before.dtype:
        changed.append(f"dtype {before.dtype} -> {after.dtype}")
    if after.shape == before.shape and after.stride() != before.stride():
        changed.append(f"strides {before.stride()} -> {after.stride()}")
    if after.storage_offset() != before.storage_offset():
        changed.append(f"storage offset {before.storage_offset()} -> {after.storage_offset()}")
    if after.requires_grad != before.requires_grad:
        changed.append("requires_grad")
    if version != version_before:
        changed.append(f"version counter {version_before} -> {version}")
    return changed


def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    a, b = a.detach().to("cpu"), b.detach().to("cpu")
    if a.dtype != b.dtype:
        return False
    if a.is_floating_point() or a.is_complex():
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return torch.equal(a, b)

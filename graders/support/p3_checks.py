"""Trusted-side helpers of the ch05 (training) and ch06 (data) graders.

Training loops have no tensor result whose device could be compared, so their device contract ("move every
batch to ``device``") is checked the way ``torchcourse/devices.py`` recommends: the model on ``meta``, the
loader yielding CPU batches, ``device="meta"``. A loop that moves its batches runs its forward and backward on
meta and stops at the first value it needs (``loss.item()``: meta tensors have none), which proves the batches
got there; a loop that forgets ``.to(device)`` mixes a CPU batch with meta weights in the first layer.
"""
from __future__ import annotations

import torch

from torchcourse.remote import Handle, LearnerError

_MISMATCH = ("is not on the expected device", "to be on the same device", "same device", "expected device")


def batches(x: torch.Tensor, y: torch.Tensor, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A loader as a plain list of ``(inputs, targets)`` batches (the last one smaller), in order.

    Sent as an argument (``call_unchanged``, ``speed_ratio``), the learner's code receives these very tensors,
    where a ``DataLoader`` would hand it fresh copies that it could modify harmlessly."""
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(y), size)]


def expect_batches_moved(call, what: str, hint: str) -> None:
    """Run ``call()`` (a training or evaluation loop over CPU batches, its model and ``device`` on ``meta``);
    fail with a teaching message when the loop combined a CPU tensor with the meta model."""
    try:
        call()
    except LearnerError as e:
        if e.type in ("RuntimeError", "ValueError") and any(m in e.message for m in _MISMATCH):
            where = f"\n  at {e.where['file']}, line {e.where['line']}: {e.where.get('code', '')}" if e.where else ""
            raise AssertionError(
                f"{what}, with the model on the `meta` device, device='meta' and a loader yielding CPU batches: "
                f"your code mixed devices ({e.message}).{where}\n  Likely mistake: batches never moved to the "
                f"model's device, or a new tensor made on the CPU. {hint} On a GPU this is the error you would "
                f"get with device='cuda'.") from None
        if "meta" not in e.message.lower():
            raise
        # a value was needed (loss.item(), float(...)) after the forward pass: the batches reached the device


def lib_of(handle: Handle, name: str) -> Handle:
    """The library module ``name`` in the worker that serves ``handle`` (e.g. the reference's, for a timed recipe
    from ``worker_support.p3_probes`` that must run on both sides with the same arguments)."""
    return handle._impl.lib(name)

"""Trusted-side helpers of the ch05 (training) and ch06 (data) graders.

Training loops have no tensor result whose device could be compared, so their device contract ("move every
batch to ``device``") is checked the way ``torchcourse/devices.py`` recommends: the model on ``meta``, the
loaders yielding CPU batches, ``device="meta"``, and ``worker_support.training_probes.DeviceCheckingLoss`` as the loss,
which compares the targets' device with the outputs' and returns a CPU loss with a value, so that the loop runs
through every training batch and on into validation. A loop that forgets ``.to(device)`` mixes a CPU batch with
meta weights in the first layer (or CPU targets with meta outputs in the loss); one that moves its batches stops,
at the latest, at the first value it needs from the meta outputs (an accuracy's ``.item()``), which proves the
batches got there.
"""
from __future__ import annotations

import torch

from torchcourse.devices import call_under_meta_default, device_mismatch_message, is_device_mismatch, to_meta
from torchcourse.remote import Handle, LearnerError


def batches(x: torch.Tensor, y: torch.Tensor, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A loader as a plain list of ``(inputs, targets)`` batches (the last one smaller), in order.

    Sent as an argument (``call_unchanged``, ``speed_ratio``), the learner's code receives these very tensors,
    where a ``DataLoader`` would hand it fresh copies that it could modify harmlessly."""
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(y), size)]


def meta_loss(impl) -> Handle:
    """The loss to hand a training loop whose model is on ``meta`` (see the module's docstring)."""
    return impl.lib("worker_support.training_probes").DeviceCheckingLoss()


def expect_batches_moved(call, what: str, hint: str) -> None:
    """Run ``call()`` (a training or evaluation loop over CPU batches, its model and ``device`` on ``meta``, its
    loss ``meta_loss(impl)``); fail with a teaching message when the loop combined a CPU tensor with the meta
    model."""
    try:
        call()
    except LearnerError as e:
        if is_device_mismatch(e):
            where = f"\n  at {e.where['file']}, line {e.where['line']}: {e.where.get('code', '')}" if e.where else ""
            raise AssertionError(
                f"{what}, with the model on the `meta` device, device='meta' and a loader yielding CPU batches: "
                f"your code mixed devices ({e.message}).{where}\n  Likely mistake: batches never moved to the "
                f"model's device, or a new tensor made on the CPU. {hint} On a GPU this is the error you would "
                f"get with device='cuda'.") from None
        if "meta" not in e.message.lower():
            raise
        # a value was needed (loss.item(), float(...)) after the forward pass: the batches reached the device


def expect_part_follows(fn: Handle, *args, part: int, what: str, **kwargs):
    """``expect_device_follows`` for a call whose result is a tuple of which only item ``part`` must follow the
    inputs' device (``pad_collate``: the padded batch follows the sequences, the lengths stay on the CPU).

    First every tensor argument goes to ``meta``; when the code needs values that meta tensors lack, the call runs
    again on the CPU inputs with the worker's default device set to ``meta`` (``torchcourse/devices.py``). Returns
    the result, or None when neither way can run the code (then only the ``gpu`` check can judge it)."""
    try:
        result, how, device = fn(*to_meta(args), **to_meta(kwargs)), "with every input on the `meta` device", "meta"
    except LearnerError as e:
        # "Cannot copy out of meta tensor": an input written into a tensor made on the CPU (padded[i] = seq)
        if is_device_mismatch(e) or "copy out of meta" in e.message:
            raise AssertionError(device_mismatch_message(what, e, "with every input on the `meta` device")) from None
        if "meta" not in e.message.lower():
            raise
        how, device = "with CPU inputs while tensors made without device= land on `meta`", "cpu"
        try:
            result = call_under_meta_default(fn, *args, **kwargs)
        except LearnerError as e:
            if is_device_mismatch(e):
                raise AssertionError(device_mismatch_message(what, e, how)) from None
            if "meta" in e.message.lower():
                # it needs the values of a tensor it made without device= (lengths on the CPU, as pinned): no
                # verdict is possible this way, and valid code is never rejected; the gpu check remains
                return None
            raise
    got = result[part] if isinstance(result, (tuple, list)) and len(result) > part else result
    if isinstance(got, torch.Tensor) and got.device.type != device:
        raise AssertionError(f"{what}: {how}, item {part + 1} of the result came back on {got.device.type}, expected "
                             f"{device}. Likely mistake: a new tensor made without device= (torch.zeros(...), "
                             f"torch.full(...)): make it on the inputs' device (device=x.device, x.new_full(...)) so "
                             f"that the function works wherever its inputs live, a GPU included.")
    return result



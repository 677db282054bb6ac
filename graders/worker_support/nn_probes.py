"""Worker-side probes for the ch03 (nn) and ch04 (losses, optimizers) graders
(``impl.lib("worker_support.nn_probes")``).

They run inside the worker next to the learner's objects, so that a grader can hand learner code the very
tensors it must leave alone, or read what an optimizer keeps in its state, without either crossing the wire.
"""
import functools

import torch


def bound(fn, *args, **kwargs):
    """``fn`` with its arguments fixed (a worker-side ``functools.partial``): a call to time with no inputs of
    its own, e.g. ``count_parameters`` of a model that lives in this worker."""
    return functools.partial(fn, *args, **kwargs)


def step_with(optimizer, params, grads) -> None:
    """``p.grad = g`` (the very tensor ``g``, no copy) for each pair, then ``optimizer.step()``: the caller can
    then read back each ``g`` to see whether the optimizer wrote into the gradients it was given."""
    for p, g in zip(params, grads):
        p.grad = g
    optimizer.step()


def state_devices(optimizer, params) -> list:
    """For each parameter, ``[(key, device type)]`` of the tensors of its ``optimizer.state[p]`` that have the
    parameter's shape (moments, momentum buffers); 0-d bookkeeping such as ``torch.optim``'s own CPU ``step``
    counter is left out, as ``torch.optim`` keeps it on the CPU itself."""
    out = []
    for p in params:
        state = optimizer.state.get(p, {})
        out.append([(str(k), v.device.type) for k, v in state.items()
                    if isinstance(v, torch.Tensor) and v.shape == p.shape and v.dim() > 0])
    return out


def devices_of(tensors) -> list:
    """The device type of each tensor."""
    return [t.device.type for t in tensors]


def parameter_flags(module) -> list:
    """``[name, requires_grad, version counter]`` of each parameter of ``module``: what a function that only
    reads a model must leave as it was."""
    return [[name, bool(p.requires_grad), int(p._version)] for name, p in module.named_parameters()]


def steps_with(optimizer, params, grads_per_step) -> None:
    """For each step's list of gradients: ``p.grad = g`` (the very tensors, no copy), then
    ``optimizer.step()``; the caller reads every ``g`` back afterwards, so an optimizer that keeps a reference
    to an earlier step's ``p.grad`` and edits it later is seen too."""
    for grads in grads_per_step:
        step_with(optimizer, params, grads)

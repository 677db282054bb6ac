"""One epoch of training: the loop at the heart of every PyTorch project."""
import torch
from torch import nn


def train_one_epoch(model: nn.Module, loader, loss_fn, optimizer: torch.optim.Optimizer, device) -> float:
    """Train ``model`` for one pass over ``loader`` and return the mean training loss of the epoch.

    Args:
        model: the network, its parameters already on ``device``. It may arrive in eval mode.
        loader: yields ``(inputs, targets)`` batches, inputs ``[B, ...]`` and targets ``[B]``; the last
            batch may be smaller than the others. Any iterable of batches: a DataLoader, or a plain list, whose
            tensors are then the caller's own (leave them unchanged: no in-place operations on a batch).
        loss_fn: ``loss_fn(outputs, targets) -> 0-d tensor``, the *mean* over the batch (PyTorch's default
            ``reduction="mean"``), e.g. ``nn.CrossEntropyLoss()``.
        optimizer: built over ``model.parameters()``.
        device: a ``torch.device`` or a string such as ``"cpu"`` or ``"cuda"``; move each batch there.
    Returns:
        The sample-weighted mean loss as a Python ``float``: ``sum_b(loss_b · B_b) / sum_b(B_b)``, the mean
        over every sample of the epoch even when the last batch is smaller (not the mean of batch means).

    Pinned: sets ``model.train()`` first; each step is zero_grad → forward → loss → backward → step, in
    this order, once per batch, in the loader's order.
    """
    # TODO: switch the model to training mode (it may arrive in eval mode: BatchNorm and Dropout behave
    # TODO: differently). For each batch: move it to device, clear the gradients of the previous step,
    # TODO: forward, loss, backward, optimizer step. Add up loss.item() × batch size and the number of samples.
    raise NotImplementedError("train_one_epoch: not implemented yet")

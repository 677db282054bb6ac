"""fit: epochs of training and validation with early stopping, ending on the best weights."""
import copy

import torch
from torch import nn


def fit(model: nn.Module, train_loader, val_loader, loss_fn, optimizer: torch.optim.Optimizer, device,
        max_epochs: int, patience: int, min_delta: float = 0.0) -> list[dict]:
    """Train until the validation loss stops improving, then load the best weights seen.

    Args:
        model: a classifier returning logits ``[B, num_classes]``, already on ``device``.
        train_loader, val_loader: yield ``(inputs, targets)`` batches, targets ``[B]`` class indices; any
            iterables of batches (DataLoaders, or plain lists whose tensors are the caller's: leave them unchanged).
        loss_fn: ``loss_fn(logits, targets) -> 0-d tensor``, the mean over the batch.
        optimizer: built over ``model.parameters()``.
        device: a ``torch.device`` or a string; move each batch there.
        max_epochs: the most epochs to run.
        patience: stop after this many consecutive epochs without an improvement.
        min_delta: an epoch improves when ``val_loss < best_val_loss - min_delta`` (the first always does).
    Returns:
        The history, one dict per epoch run, in order:
        ``{"epoch": 1, 2, ..., "train_loss": float, "val_loss": float, "val_accuracy": float}``; ``train_loss``
        as in ``train_one_epoch`` and ``val_*`` as in ``evaluate`` (sample-weighted means; accuracy in [0, 1]).

    Pinned: each epoch trains once over train_loader (``model.train()``, zero_grad → forward → loss →
    backward → step per batch), then evaluates on val_loader (``model.eval()``, no gradients). Training stops
    after ``patience`` consecutive epochs without improvement (or after ``max_epochs``), and the model ends
    with the weights of its best epoch (lowest validation loss) loaded.
    """
    # TODO: for each epoch: a training pass and a validation pass (the loops of train_epoch.py and
    # TODO: evaluate.py, written again here: exercise files stand alone); append the epoch's dict; on an
    # TODO: improvement keep a *copy* of the weights and reset the counter, else count; stop at patience;
    # TODO: finally load the kept weights.
    raise NotImplementedError("fit: not implemented yet")

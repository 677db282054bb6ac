"""Evaluation: loss and accuracy on held-out data, without touching the model."""
import torch
from torch import nn


def evaluate(model: nn.Module, loader, loss_fn, device) -> dict:
    """Mean loss and accuracy of a classifier over every sample of ``loader``.

    Args:
        model: a classifier returning logits ``[B, num_classes]``, its parameters already on ``device``.
        loader: yields ``(inputs, targets)``, targets ``[B]`` class indices; the last batch may be smaller. Any
            iterable of batches (a DataLoader, or a plain list whose tensors are the caller's: leave them unchanged).
        loss_fn: ``loss_fn(logits, targets) -> 0-d tensor``, the mean over the batch.
        device: a ``torch.device`` or a string; move each batch there.
    Returns:
        ``{"loss": float, "accuracy": float}``: both sample-weighted over the whole loader (each sample
        counts once, whatever its batch's size); accuracy is a fraction in [0, 1] (argmax of the logits
        equal to the target).

    Pinned: runs in eval mode (``model.eval()``: Dropout off, BatchNorm uses its running statistics) and
    without gradients (``torch.no_grad()``), and puts the model back in the mode it arrived in.
    """
    # TODO: remember model.training, switch to eval mode and turn gradients off; sum loss × batch size,
    # TODO: the number of correct predictions and the number of samples over the loader; restore the mode.
    # BEGIN SOLUTION
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    try:
        with torch.no_grad():            # no graph: less memory, and evaluation can never leak into training
            for inputs, targets in loader:
                inputs, targets = inputs.to(device), targets.to(device)
                logits = model(inputs)                                  # [B, num_classes]
                batch = targets.shape[0]
                total_loss += loss_fn(logits, targets).item() * batch
                correct += (logits.argmax(dim=1) == targets).sum().item()
                count += batch
    finally:
        model.train(was_training)
    return {"loss": total_loss / count, "accuracy": correct / count}
    # END SOLUTION

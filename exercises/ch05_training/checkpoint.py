"""Checkpoints: save everything a training run needs to continue exactly where it stopped."""
import random

import numpy as np
import torch
from torch import nn


def save_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, **extra) -> None:
    """Write one file from which training can resume as if it had never stopped.

    Args:
        path: the file to write (str or Path).
        model: its ``state_dict()`` is saved (parameters and buffers, e.g. BatchNorm's running statistics).
        optimizer: its ``state_dict()`` is saved: Adam's moments, SGD's momentum buffers, the step counts.
        epoch: the number of epochs completed.
        **extra: anything else to keep (best accuracy, config values...); plain data only (numbers,
            strings, lists, dicts, tensors), so that the file stays loadable with ``weights_only=True``.

    Pinned: the file holds a dict with the model and optimizer state dicts, the epoch, the extras and the
    states of the global random generators of torch, numpy and random (and CUDA's when it is in use), and
    loads with ``torch.load(path, weights_only=True)``: no pickled Python objects, numpy arrays included.
    """
    # TODO: gather the generators' states (numpy's holds a uint32 array: store it as a tensor, since
    # TODO: weights_only refuses numpy objects), put everything in one dict and torch.save it.
    raise NotImplementedError("save_checkpoint: not implemented yet")


def load_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    map_location="cpu") -> dict:
    """Restore what :func:`save_checkpoint` wrote, in place.

    Args:
        path: the checkpoint file.
        model: receives the saved weights (``load_state_dict``, strict).
        optimizer: receives the saved optimizer state; ``None`` to skip it (e.g. to evaluate only).
        map_location: where tensors are loaded (``"cpu"`` by default; a GPU checkpoint loads on a laptop).
    Returns:
        ``{"epoch": epoch, **extra}``, the values given to save_checkpoint.

    Pinned: reads with ``torch.load(path, map_location=map_location, weights_only=True)`` and restores the
    model, the optimizer (when given) and the torch, numpy and random generators (CUDA's when saved and
    available).
    """
    # TODO: torch.load with weights_only=True, load the two state dicts, put every generator back in the
    # TODO: state it had when the checkpoint was written, return the epoch and the extras.
    raise NotImplementedError("load_checkpoint: not implemented yet")

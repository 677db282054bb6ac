"""Checkpoints: save everything a training run needs to continue exactly where it stopped."""

MISTAKE = "saves and restores torch's generator only, not numpy's and random's"
EXPECT = {'test_resume_is_exact': 'numpy', 'test_file_contents': 'RNG state not saved'}

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
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                "rng": rng, "extra": extra}, path)


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
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(ckpt["model"])
    if optimizer is not None:
        optimizer.load_state_dict(ckpt["optimizer"])
    rng = ckpt["rng"]
    torch.set_rng_state(rng["torch"].cpu())              # a generator state must be a CPU ByteTensor
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in rng["cuda"]])
    return {"epoch": ckpt["epoch"], **ckpt["extra"]}

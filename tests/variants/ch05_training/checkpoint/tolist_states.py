"""Checkpoints with the generators' states as Python lists (a valid alternative)."""
import random

import numpy as np
import torch
from torch import nn


def save_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, **extra) -> None:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    payload = {
        "weights": model.state_dict(),
        "optimizer_state": optimizer.state_dict(),
        "epoch": epoch,
        "generators": {
            "torch": torch.get_rng_state(),
            "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
            "python": list(random.getstate()),
        },
        "extra": dict(extra),
    }
    torch.save(payload, path)


def load_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    map_location="cpu") -> dict:
    payload = torch.load(path, map_location=map_location, weights_only=True)
    generators = payload["generators"]
    kind, keys, pos, has_gauss, gauss = generators["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = generators["python"]
    random.setstate((version, tuple(internal), gauss_next))
    torch.set_rng_state(generators["torch"].cpu())
    model.load_state_dict(payload["weights"])
    if optimizer is not None:
        optimizer.load_state_dict(payload["optimizer_state"])
    return {"epoch": payload["epoch"], **payload["extra"]}

"""Checkpoints with a flat layout and numpy's dict-form state (a valid alternative)."""
import random

import numpy as np
import torch
from torch import nn


def save_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, **extra) -> None:
    state = np.random.get_state(legacy=False)       # {'bit_generator', 'state': {'key', 'pos'}, 'has_gauss', 'gauss'}
    version, internal, gauss = random.getstate()
    ckpt = dict(extra)
    ckpt.update({
        "__extra_keys__": sorted(extra),
        "epoch": epoch,
        "model_state": model.state_dict(),
        "optim_state": optimizer.state_dict(),
        "torch_rng": torch.random.get_rng_state(),
        "numpy_rng": {"bit_generator": state["bit_generator"],
                      "key": torch.tensor(state["state"]["key"].astype(np.int64)),
                      "pos": int(state["state"]["pos"]), "has_gauss": int(state["has_gauss"]),
                      "gauss": float(state["gauss"])},
        "random_rng": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
    })
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        ckpt["cuda_rng"] = torch.cuda.get_rng_state_all()
    torch.save(ckpt, path)


def load_checkpoint(path, model: nn.Module, optimizer: torch.optim.Optimizer | None = None,
                    map_location="cpu") -> dict:
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(ckpt["model_state"])
    if optimizer is not None:
        optimizer.load_state_dict(ckpt["optim_state"])
    torch.random.set_rng_state(ckpt["torch_rng"].to("cpu"))
    n = ckpt["numpy_rng"]
    np.random.set_state({"bit_generator": n["bit_generator"],
                         "state": {"key": n["key"].to("cpu").numpy().astype(np.uint32), "pos": n["pos"]},
                         "has_gauss": n["has_gauss"], "gauss": n["gauss"]})
    r = ckpt["random_rng"]
    random.setstate((r["version"], tuple(int(v) for v in r["internal"].tolist()), r["gauss"]))
    if "cuda_rng" in ckpt and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.to("cpu") for s in ckpt["cuda_rng"]])
    return {"epoch": ckpt["epoch"], **{k: ckpt[k] for k in ckpt["__extra_keys__"]}}

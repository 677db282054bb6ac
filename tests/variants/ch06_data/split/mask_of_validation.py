"""train_val_split with the training part as a mask's complement (a valid alternative)."""
import math

import torch


def train_val_split(n: int, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val_idx = perm[: math.floor(n * val_fraction + 0.5)]
    keep = torch.ones(n, dtype=torch.bool)
    keep[val_idx] = False
    return torch.arange(n)[keep], val_idx

"""train_val_split from the argsort of seeded uniforms (a valid alternative)."""
import torch


def train_val_split(n: int, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator()
    g.manual_seed(seed)
    perm = torch.argsort(torch.rand(n, generator=g))
    n_val = int(n * val_fraction + 0.5)          # floor, for the non-negative values it sees
    val_idx, train_idx = perm.split([n_val, n - n_val])
    return train_idx, val_idx

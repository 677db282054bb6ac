"""A reproducible train/validation split of sample indices."""
import math

import torch


def train_val_split(n: int, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the indices 0..n-1 at random into a training part and a validation part.

    Args:
        n: the number of samples.
        val_fraction: the share for validation, in [0, 1].
        seed: the seed of the split: the same seed gives the same split, another seed another split.
    Returns:
        ``(train_idx, val_idx)``: two 1-D int64 tensors, disjoint, together holding every index in
        0..n-1 exactly once; ``len(val_idx) == floor(n * val_fraction + 0.5)`` (rounding halves up:
        n=10, 0.25 gives 3).

    Pinned: both come from one permutation drawn from a fresh ``torch.Generator().manual_seed(seed)``;
    the global random generator is neither used nor changed.
    """
    # TODO: a private generator seeded with seed, one permutation of n, the validation size rounded as
    # TODO: documented, then cut the permutation in two.
    raise NotImplementedError("train_val_split: not implemented yet")

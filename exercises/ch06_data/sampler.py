"""Rebalancing an imbalanced dataset: a sampler that draws every class equally often."""
import torch
from torch.utils.data import WeightedRandomSampler


def balanced_sampler(labels) -> WeightedRandomSampler:
    """A sampler that, on average, draws each class equally often.

    Args:
        labels: the class of every sample, a 1-D integer tensor (or list of ints) of length N. Classes need
            not be contiguous (e.g. only 1, 2, 4 and 7 present).
    Returns:
        ``WeightedRandomSampler(weights, num_samples=N, replacement=True)`` where ``weights[i] =
        1 / count(labels[i])``: one weight *per sample*, so each class's weights add up to 1 and every class
        gets the same total probability. Pass it to ``DataLoader(dataset, sampler=...)``.
    """
    # TODO: count the samples of each class (torch.bincount), give each sample the inverse of its class
    # TODO: count, and build the sampler with num_samples=len(labels) and replacement=True.
    raise NotImplementedError("balanced_sampler: not implemented yet")

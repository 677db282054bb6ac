"""Rebalancing an imbalanced dataset: a sampler that draws every class equally often."""

MISTAKE = 'passes one weight per class to WeightedRandomSampler'
EXPECT = {'test_weights_per_sample': 'weights per class instead of per sample'}
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
    labels = torch.as_tensor(labels, dtype=torch.int64)
    counts = torch.bincount(labels)                       # [max_label + 1]; absent classes count 0
    weights = 1.0 / counts.to(torch.float64)
    return WeightedRandomSampler(weights, num_samples=len(labels), replacement=True)

"""balanced_sampler with torch.unique (a valid alternative)."""
import torch
from torch.utils.data import WeightedRandomSampler


def balanced_sampler(labels) -> WeightedRandomSampler:
    labels = torch.as_tensor(labels)
    _, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    weights = counts.double().reciprocal()[inverse]
    return WeightedRandomSampler(weights, len(labels), replacement=True)

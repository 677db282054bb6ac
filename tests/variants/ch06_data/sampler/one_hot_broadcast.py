"""balanced_sampler by a one-hot comparison (a valid alternative)."""
import torch
from torch.utils.data import WeightedRandomSampler


def balanced_sampler(labels) -> WeightedRandomSampler:
    labels = torch.as_tensor(labels).long()
    classes = labels.unique()
    one_hot = (labels[:, None] == classes[None, :]).float()      # [N, classes]
    weights = (one_hot / one_hot.sum(0)).sum(1)                    # each row has one 1: 1 / its class's count
    return WeightedRandomSampler(weights, num_samples=labels.numel(), replacement=True)

"""DigitsDataset read with gzip and csv (a valid alternative)."""
import csv
import gzip
import os

import torch
from torch.utils.data import Dataset


class DigitsDataset(Dataset):
    SEED = 0

    def __init__(self, root, split: str, transform=None):
        if split not in ("train", "test"):
            raise ValueError(split)
        with gzip.open(os.path.join(root, split + ".csv.gz"), "rt", newline="") as f:
            reader = csv.reader(f)
            next(reader)                                   # the header
            rows = [[int(v) for v in row] for row in reader]
        values = torch.tensor(rows, dtype=torch.float32)
        self.images = (values[:, 1:] / 16).view(-1, 1, 8, 8)
        self.labels = [int(v) for v in values[:, 0]]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        image = self.images[index]
        return (self.transform(image) if self.transform is not None else image), self.labels[index]

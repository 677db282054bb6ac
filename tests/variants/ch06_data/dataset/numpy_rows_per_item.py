"""DigitsDataset converting one numpy row per item (a valid alternative)."""
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset


class DigitsDataset(Dataset):
    SEED = 0

    def __init__(self, root, split: str, transform=None):
        if split not in {"train", "test"}:
            raise ValueError(f"unknown split {split!r}: expected 'train' or 'test'")
        self.table = np.loadtxt(Path(root) / f"{split}.csv.gz", delimiter=",", skiprows=1, dtype=np.float32)
        self.transform = transform

    def __len__(self) -> int:
        return self.table.shape[0]

    def __getitem__(self, index: int):
        row = self.table[index]
        image = torch.from_numpy(row[1:] / 16).view(1, 8, 8)
        if self.transform:
            image = self.transform(image)
        return image, int(row[0])

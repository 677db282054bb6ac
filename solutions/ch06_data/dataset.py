"""A Dataset over files on disk: scikit-learn's handwritten digits, as shipped with the course."""
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset


class DigitsDataset(Dataset):
    """The handwritten digits (8×8 grey images, labels 0..9) read from the course's files.

    Files: ``root/train.csv.gz`` (1437 images) and ``root/test.csv.gz`` (360 images), gzip'd CSV with a
    header line ``label,p0,p1,...,p63`` and then one image per line: its label, then its 64 pixels in
    row-major order, integers 0..16. ``np.loadtxt`` reads ``.gz`` files directly.

    Split: 80/20, made once by ``datasets/digits/export.py`` from ``sklearn.datasets.load_digits()`` with
    ``numpy.random.default_rng(SEED).permutation(1797)``, ``SEED = 0``: the first 360 indices are the test
    split.

    Args:
        root: the folder holding the two files (str or Path).
        split: ``"train"`` or ``"test"``; anything else raises ``ValueError``.
        transform: optional callable applied to each image tensor before it is returned.
    Items:
        ``dataset[i] -> (image, label)``: image a ``torch.float32`` tensor ``[1, 8, 8]`` with values in
        [0, 1] (pixel / 16), after ``transform``; label a Python ``int``, like torchvision's datasets.
    """

    SEED = 0

    def __init__(self, root, split: str, transform=None):
        # TODO: check split, read root/<split>.csv.gz once (skip the header), and keep the images as one
        # TODO: float32 tensor [N, 1, 8, 8] scaled to [0, 1] and the labels as one int64 tensor [N].
        # BEGIN SOLUTION
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        table = np.loadtxt(Path(root) / f"{split}.csv.gz", delimiter=",", skiprows=1, dtype=np.int64)  # [N, 65]
        # converting once here, not in __getitem__, keeps every item cheap (a DataLoader asks for each one)
        self.images = torch.from_numpy(table[:, 1:]).to(torch.float32).div(16.0).reshape(-1, 1, 8, 8)
        self.labels = torch.from_numpy(table[:, 0].copy())
        self.transform = transform
        # END SOLUTION

    def __len__(self) -> int:
        # TODO: the number of images in this split.
        # BEGIN SOLUTION
        return len(self.labels)
        # END SOLUTION

    def __getitem__(self, index: int):
        # TODO: return (image [1, 8, 8] float32 after the transform, label as a Python int).
        # BEGIN SOLUTION
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])
        # END SOLUTION

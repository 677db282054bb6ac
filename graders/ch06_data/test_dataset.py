"""Grader for ch06.dataset: DigitsDataset(root, split, transform=None) over the shipped digits files.

The oracle reads the same files here with gzip + csv (not with the learner's code, nor with numpy)."""
import csv
import gzip

import torch

from torchcourse.data import digits_root
from torchcourse.grading import assert_close, assert_fast, check
from torchcourse.remote import Foreign, Handle

ROOT = str(digits_root())
SIZES = {"train": 1437, "test": 360}


def _oracle(split):
    """(images float32 [N, 1, 8, 8] = pixel / 16, labels int64 [N]) straight from the file."""
    with gzip.open(f"{ROOT}/{split}.csv.gz", "rt", newline="") as f:
        rows = list(csv.reader(f))
    if rows[0][:2] != ["label", "p0"] or len(rows) != SIZES[split] + 1:
        raise RuntimeError(f"the course's digits file {ROOT}/{split}.csv.gz is damaged (header {rows[0][:3]}, "
                           f"{len(rows) - 1} rows); restore it with `git checkout -- datasets/digits`")
    values = torch.tensor([[int(v) for v in row] for row in rows[1:]], dtype=torch.int64)
    return values[:, 1:].to(torch.float32).div(16.0).reshape(-1, 1, 8, 8), values[:, 0].clone()


def _item(impl, ds, i, what):
    """ds[i] (run in the worker), checked for the item contract; returns (image tensor, int label)."""
    item = impl.lib("worker_support.testfns").get_item(ds, i)
    if not isinstance(item, tuple) or len(item) != 2:
        raise AssertionError(f"{what}: expected a tuple (image, label), got {type(item).__name__}"
                             f"{f' of length {len(item)}' if isinstance(item, tuple) else ''}")
    image, label = item
    if not isinstance(image, torch.Tensor):
        kind = image.type if isinstance(image, Foreign) else image.type_name if isinstance(image, Handle) \
            else type(image).__name__
        raise AssertionError(f"{what}: the image is a {kind}: returns numpy, not tensors; convert once in "
                             f"__init__ with torch.from_numpy(...) (then .to(torch.float32))")
    if image.dtype != torch.float32:
        raise AssertionError(f"{what}: the image has dtype {image.dtype}, expected torch.float32 (a FloatTensor; "
                             f"numpy's default float64 carries over through torch.from_numpy)")
    if tuple(image.shape) != (1, 8, 8):
        raise AssertionError(f"{what}: the image has shape {tuple(image.shape)}, expected (1, 8, 8): one channel "
                             f"of 8×8 pixels")
    if type(label) is not int:
        kind = label.type_name if isinstance(label, Handle) else (
            f"tensor of dtype {label.dtype}" if isinstance(label, torch.Tensor) else type(label).__name__)
        raise AssertionError(f"{what}: label dtype: the label is a {kind}, expected a Python int (like "
                             f"torchvision's datasets; the DataLoader turns ints into an int64 tensor); use "
                             f"int(label)")
    return image, label


@check(points=1, title="len() of both splits: 1437 and 360")
def test_length(ex, impl):
    for split, n in SIZES.items():
        got = impl.lib("worker_support.testfns").length(ex.DigitsDataset(ROOT, split))
        if got != n:
            raise AssertionError(f"len(DigitsDataset(root, {split!r})) is {got}, expected {n} (is the header line "
                                 f"counted, or the other split's file read?)")


@check(points=3, title="items match the files: FloatTensor[1, 8, 8] in [0, 1] and an int label")
def test_items_match_files(ex, impl, rng):
    for split in ("train", "test"):
        images, labels = _oracle(split)
        ds = ex.DigitsDataset(ROOT, split)
        n = len(images)
        picks = sorted({0, 1, n - 1, *torch.randint(0, n, (12,), generator=rng).tolist()})
        for i in picks:
            what = f"DigitsDataset(root, {split!r})[{i}]"
            image, label = _item(impl, ds, i, what)
            mistakes = [("pixels not scaled: divide the 0..16 values by 16", images[i] * 16),
                        ("pixels divided by 255 instead of 16 (these images are 0..16, not 0..255)",
                         images[i] * 16 / 255)]
            assert_close(image, images[i], atol=1e-7, what=f"the image of {what}",
                         hint="row i of the file, columns 1..64, reshaped to [1, 8, 8] in row-major order, / 16",
                         mistakes=mistakes)
            if label != int(labels[i]):
                raise AssertionError(f"{what}: label {label}, expected {int(labels[i])} (the first column of the "
                                     f"file's line {i + 2}, after the header)")


@check(points=1, title="works with a DataLoader: the whole split, in order")
def test_dataloader(ex, impl):
    data, T = impl.lib("torch.utils.data"), impl.lib("worker_support.testfns")
    images, labels = _oracle("test")
    got = T.collect(data.DataLoader(ex.DigitsDataset(ROOT, "test"), batch_size=128))
    x, y = got
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise AssertionError("a DataLoader over the dataset did not produce tensor batches: returns numpy, not "
                             "tensors? return (FloatTensor, int) pairs")
    if y.dtype != torch.int64:
        raise AssertionError(f"label dtype: the DataLoader's label batches have dtype {y.dtype}, expected int64 "
                             f"(return each label as a Python int)")
    assert_close(x, images, atol=1e-7, what="all 360 test images through a DataLoader")
    if not torch.equal(y, labels):
        raise AssertionError("the labels through a DataLoader differ from the file's first column")


@check(points=1, title="applies the transform to the image")
def test_transform(ex, impl):
    images, labels = _oracle("train")
    ds = ex.DigitsDataset(ROOT, "train", transform=impl.lib("worker_support.testfns").hflip)
    for i in (0, 7, 1436):
        image, label = _item(impl, ds, i, f"DigitsDataset(root, 'train', transform=hflip)[{i}]")
        assert_close(image, images[i].flip(-1), atol=1e-7,
                     what=f"DigitsDataset(root, 'train', transform=hflip)[{i}]",
                     hint="apply self.transform to the image tensor (not to the label) before returning it",
                     mistakes=[("transform ignored", images[i])])
        if label != int(labels[i]):
            raise AssertionError(f"the transform changed the label of item {i}: {label}, expected {int(labels[i])}")



@check(points=1, speed=True, timeout=60, title="reads the file once, not once per item")
def test_speed(ex, ref, impl, exercise, ref_impl):
    # the 360 test items, built and read by index: reading or parsing the file in __getitem__ costs a file per
    # item; converting a row per item (kept as numpy) stays within a few times the reference
    recipe = "worker_support.training_probes"
    try:
        assert_fast(impl.lib(recipe).dataset_recipe, ref_impl.lib(recipe).dataset_recipe, exercise.module, ROOT,
                    "test", repeat=15, max_ratio=exercise.threshold("speed_max_ratio"),
                    what="DigitsDataset(root, 'test') and its 360 items read by index")
    except AssertionError as e:
        raise AssertionError(f"{e}\n  For a Dataset: read and convert the file once, in __init__; __getitem__ "
                             f"should only index what __init__ kept (a DataLoader calls it once per sample).") from None

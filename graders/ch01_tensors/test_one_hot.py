"""Grader for ch01.one_hot: one_hot(labels[...], num_classes) -> [..., C] in the default float dtype."""
import torch
import torch.nn.functional as F
from support.layouts import column_major, describe, explain_layout_errors, spread

from torchcourse.grading import (
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_device_follows,
    expect_raises,
    expect_tensor,
    forbidden_api_check,
)

test_no_forbidden_api = forbidden_api_check()

LEADING = "ignores leading dims"


def _labels(rng, *shape, C):
    return torch.randint(0, C, shape, generator=rng)


def _oracle(labels, C, dtype=None):
    return F.one_hot(labels.cpu(), C).to(dtype or torch.get_default_dtype())


def _call(ex, labels, C, what, *, dtype=torch.float32, device="cpu"):
    out = ex.one_hot(labels, C)
    expect_tensor(out, what=what)
    want = (*labels.shape, C)
    if tuple(out.shape) != want:
        likely = ""
        if labels.dim() != 1 and tuple(out.shape) in ((labels.numel(), C), (labels.shape[0] if labels.dim() else 1, C)):
            likely = (f"\n  Likely mistake: {LEADING}: labels of shape {tuple(labels.shape)} must give "
                      f"{want}, keeping every leading dimension (work along a new last axis, or reshape back).")
        elif tuple(out.shape) == (C, *labels.shape):
            likely = "\n  Likely mistake: the class axis must come last ([..., C]), not first."
        raise AssertionError(f"{what}: expected shape {want} = [..., C], got {tuple(out.shape)}{likely}")
    if out.dtype != dtype:
        likely = ""
        if not out.is_floating_point():
            likely = (f"\n  Likely mistake: wrong dtype: an integer or bool one-hot (like F.one_hot's int64); "
                      f"the contract is the default float dtype, torch.get_default_dtype() ({dtype}).")
        raise AssertionError(f"{what}: expected dtype {dtype}, got {out.dtype}{likely}")
    expect_tensor(out, device=device, what=what)
    return out


@check(points=2)
def test_shape_dtype(ex, rng):
    labels = _labels(rng, 7, C=5)
    what = "one_hot(labels[7], 5)"
    out = _call(ex, labels, 5, what)
    assert_close(out, _oracle(labels, 5), atol=0, what=what)


@check(points=2)
def test_values(ex, rng):
    for C in (1, 3, 10):
        labels = _labels(rng, 25, C=C)
        labels[:C] = torch.arange(C)                  # every class appears at least once
        what = f"one_hot(labels[25], {C})"
        out = _call(ex, labels, C, what)
        assert_close(out, _oracle(labels, C), atol=0, what=what,
                     mistakes=[("classes shifted by one (1 at labels - 1 or labels + 1)",
                                _oracle((labels + 1) % C, C)),
                               ("all ones except at the label (1 - one-hot)", 1 - _oracle(labels, C))],
                     hint="out[..., c] is 1.0 exactly where labels == c")


@check(points=2)
def test_leading_dims(ex, rng):
    for shape in ((4, 6), (2, 3, 4)):
        labels = _labels(rng, *shape, C=6)
        what = f"one_hot(labels{list(shape)}, 6)"
        out = _call(ex, labels, 6, what)
        assert_close(out, _oracle(labels, 6), atol=0, what=what,
                     hint="every position of labels gets its own one-hot row along a new last axis")


@check(points=1)
def test_scalar_and_empty(ex, rng):
    scalar = torch.tensor(2)
    out = _call(ex, scalar, 4, "one_hot(labels of shape (), 4)")
    assert_close(out, _oracle(scalar, 4), atol=0, what="one_hot(torch.tensor(2), 4)")
    for shape in ((0,), (3, 0)):
        empty = torch.zeros(shape, dtype=torch.long)
        what = f"one_hot(empty labels of shape {shape}, 5)"
        _call(ex, empty, 5, what)


@check(points=2)
def test_out_of_range(ex, rng):
    for bad, why in ((5, "a label equal to num_classes"), (-1, "a negative label"), (9, "a label above C")):
        labels = _labels(rng, 2, 4, C=5)
        labels[1, 2] = bad
        expect_raises(ValueError, ex.one_hot, labels, 5,
                      what=f"one_hot(labels, 5) with {why} ({bad}); labels must lie in [0, 5), "
                           f"else raise ValueError")


@check(points=1)
def test_default_dtype(ex, impl, rng):
    worker_torch = impl.lib("torch")
    labels = _labels(rng, 3, 4, C=3)
    worker_torch.set_default_dtype(torch.float64)
    try:
        out = ex.one_hot(labels, 3)
    finally:
        worker_torch.set_default_dtype(torch.float32)
    expect_tensor(out, shape=(3, 4, 3), what="one_hot(labels[3,4], 3) with torch.set_default_dtype(float64)")
    if out.dtype != torch.float64:
        raise AssertionError(
            f"one_hot(labels[3,4], 3) with the default dtype set to torch.float64: expected dtype torch.float64, "
            f"got {out.dtype}.\n  Likely mistake: wrong dtype: it is hard-coded instead of following the default "
            f"dtype; use torch.get_default_dtype() (torch.zeros without dtype= does so too).")
    assert_close(out, _oracle(labels, 3, torch.float64), atol=0, what="one_hot under a float64 default dtype")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    labels = _labels(rng, 3, 4, C=5)
    what = "one_hot(labels[3,4], 5)"
    out = call_unchanged(ex.one_hot, labels, 5, names=("labels",), what=what)
    assert_close(out, _oracle(labels, 5), atol=0, what=what)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    out = expect_device_follows(ex.one_hot, _labels(rng, 3, 4, C=5), 5, what="one_hot(labels[3,4], 5)")
    expect_tensor(out, shape=(3, 4, 5), what="one_hot(labels[3,4], 5) on the device check")


@check(points=1)
def test_layouts(ex, rng):
    # labels as a caller's views would pass them: a transposed [4, 6] and a strided, offset [9]
    for labels in (column_major(_labels(rng, 4, 6, C=6)), spread(_labels(rng, 9, C=6))):
        what = f"one_hot(labels with {describe(labels)}, 6)"
        with explain_layout_errors(what):
            out = _call(ex, labels, 6, what)
        assert_close(out, _oracle(labels, 6), atol=0, what=what, hint="index or compare the labels as they are; "
                     "flatten with reshape (never view) if you flatten at all")


@check(points=2, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # 8192 labels, 6 classes: a loop over the labels runs 8192 Python iterations, a loop over the 6
    # classes or any broadcast/scatter/indexing form stays close to the reference.
    labels = _labels(rng, 64, 128, C=6)
    assert_fast(ex.one_hot, ref.one_hot, labels, 6, number=5,
                max_ratio=exercise.threshold("speed_max_ratio"), what="one_hot(labels[64,128], 6)")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    labels = _labels(rng, 3, 5, C=7)
    what = "one_hot(labels[3,5] on the GPU, 7)"
    out = _call(ex, labels.to(device), 7, what, device=device)
    assert_close(out, _oracle(labels, 7), atol=0, what=f"{what} vs the CPU oracle",
                 hint="create new tensors on labels.device")
    expect_raises(ValueError, ex.one_hot, torch.tensor([0, 7]).to(device), 7,
                  what="one_hot(labels on the GPU with a label 7, 7)")

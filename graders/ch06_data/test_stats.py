"""Grader for ch06.stats: channel_mean_std(loader) -> (mean[C], std[C]), streaming, population std.

The oracle is the full tensor's mean and std (correction=0) in float64."""
import torch
from support.training import batches

from torchcourse.data import Digits
from torchcourse.grading import (
    LearnerError,
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_device_follows,
    expect_tensor,
)

F64 = torch.float64


def _loader(impl, x, batch_size):
    data = impl.lib("torch.utils.data")
    y = torch.zeros(len(x), dtype=torch.int64)
    return data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size)


def _call(ex, loader, C, dtype, what):
    res = ex.channel_mean_std(loader)
    if not (isinstance(res, tuple) and len(res) == 2):
        raise AssertionError(f"channel_mean_std must return a tuple (mean, std), got {type(res).__name__}")
    for name, t in zip(("mean", "std"), res):
        expect_tensor(t, shape=(C,), what=f"{name} of {what}")
        if t.dtype != dtype:
            raise AssertionError(f"{name} of {what} has dtype {t.dtype}; return it in the images' dtype ({dtype}): "
                                 f"accumulate in float64, convert at the end")
    return res


def _batches(x, bs):
    return [x[i:i + bs] for i in range(0, len(x), bs)]


def _mistakes(x, bs):
    """What the known mistakes return, (name, mean, std) each."""
    dims = (0, *range(2, x.dim()))
    x64 = x.to(F64)
    parts = [b.to(F64) for b in _batches(x, bs)]
    batch_means = torch.stack([b.mean(dims) for b in parts]).mean(0)
    batch_stds = torch.stack([b.std(dims, correction=0) for b in parts]).mean(0)
    batch_stds1 = torch.stack([b.std(dims, correction=1) for b in parts]).mean(0)
    return [
        (("averages per-batch stds: the std of the whole data is not the mean of the batches' stds (each batch "
         "measures spread around its own mean); accumulate Σx and Σx² instead"), x64.mean(dims), batch_stds),
        ("averages per-batch stds (and per-batch means: the smaller last batch weighs as much as a full one)",
         batch_means, batch_stds),
        ("averages per-batch stds, unbiased ones", x64.mean(dims), batch_stds1),
        ("unbiased std (N − 1): the contract is the population std, correction=0", x64.mean(dims),
         x64.std(dims, correction=1)),
        ("returns the variance, not the std", x64.mean(dims), x64.var(dims, correction=0)),
    ]


def _judge(res, x, bs, what, rtol, atol):
    dims = (0, *range(2, x.dim()))
    x64 = x.to(F64)
    mean, std = res
    mistakes = _mistakes(x, bs)
    assert_close(mean, x64.mean(dims).to(x.dtype), atol=atol, rtol=rtol, what=f"mean of {what}",
                 hint="Σx / n per channel, over all batches", mistakes=[(n, m) for n, m, _ in mistakes[1:2]])
    assert_close(std, x64.std(dims, correction=0).to(x.dtype), atol=atol, rtol=rtol, what=f"std of {what}",
                 hint="sqrt(Σx²/n − mean²) per channel, accumulated over all batches in float64",
                 mistakes=[(n, s) for n, _, s in mistakes])


def _sorted_by_brightness(x):
    """Sort the images so that consecutive batches differ: per-batch statistics then differ from global ones."""
    return x[x.mean((1, 2, 3)).argsort()]


@check(points=3, title="matches the full tensor's mean and population std (3 channels, uneven last batch)")
def test_matches_full_tensor(ex, impl, rng):
    x = torch.randn(203, 3, 8, 8, generator=rng) * torch.tensor([0.5, 1.0, 2.0]).view(1, 3, 1, 1) \
        + torch.tensor([0.2, -1.0, 3.0]).view(1, 3, 1, 1)
    x = _sorted_by_brightness(x + torch.linspace(0, 2, 203).view(203, 1, 1, 1))
    what = "channel_mean_std over 203 images [3, 8, 8] in batches of 32 (last one 11)"
    _judge(_call(ex, _loader(impl, x, 32), 3, torch.float32, what), x, 32, what, rtol=2e-6, atol=1e-6)


@check(points=2, title="accurate when the mean is large (float64 accumulation)")
def test_large_mean(ex, impl, rng):
    x = 1000.0 + 0.5 * torch.randn(300, 2, 8, 8, generator=rng)
    what = "channel_mean_std of images ≈ 1000 ± 0.5 (float32) in batches of 64"
    mean, std = _call(ex, _loader(impl, x, 64), 2, torch.float32, what)
    assert_close(mean, x.to(F64).mean((0, 2, 3)).float(), atol=0, rtol=1e-5, what=f"mean of {what}",
                 hint="accumulate Σx in float64")
    expected = x.to(F64).std((0, 2, 3), correction=0)
    err = ((std.to(F64) - expected).abs() / expected).max().item()
    if err > 1e-4:
        raise AssertionError(
            f"std of {what}: got {[round(v, 6) for v in std.tolist()]}, expected "
            f"{[round(v, 6) for v in expected.tolist()]} (relative error {err:.2g}, tolerance 1e-4).\n"
            f"  Likely mistake: accumulated in float32: Σx²/n and mean² are both near 10⁶, and float32 keeps 7 "
            f"significant digits, so their difference (0.25) is mostly rounding; accumulate in float64")


@check(points=1, title="the shipped digits (1 channel) and float64 images")
def test_digits_and_dtype(ex, impl):
    x = Digits("train").data                                        # [1437, 1, 8, 8] float32 in [0, 1]
    what = "channel_mean_std over the 1437 training digits in batches of 100"
    _judge(_call(ex, _loader(impl, x, 100), 1, torch.float32, what), x, 100, what, rtol=2e-6, atol=1e-6)
    x64 = x[:500].to(F64)
    what = "channel_mean_std over 500 digits in float64"
    _judge(_call(ex, _loader(impl, x64, 128), 1, F64, what), x64, 128, what, rtol=1e-10, atol=1e-12)


def _images(rng, n=203, c=3):
    return torch.randn(n, c, 8, 8, generator=rng) * 2 + torch.arange(c).view(1, c, 1, 1)


@check(points=1, title="non-contiguous batches (channels-last, transposed) give the same statistics")
def test_non_contiguous(ex, rng):
    x = _images(rng)
    labels = torch.zeros(len(x), dtype=torch.int64)
    for layout, parts in (("channels-last", [(b.contiguous(memory_format=torch.channels_last), y)
                                             for b, y in batches(x, labels, 64)]),
                          ("H and W transposed", [(b.transpose(2, 3), y) for b, y in batches(x, labels, 64)])):
        what = f"channel_mean_std over {layout} batches of [64, 3, 8, 8] (non-contiguous)"
        try:
            res = _call(ex, parts, 3, torch.float32, what)
        except LearnerError as e:
            if "view" in e.message:
                raise AssertionError(f"{what}: {e.message[:300]}. Likely mistake: .view() on a non-contiguous batch; "
                                     f"use .reshape() (or reduce over dims without flattening)") from None
            raise
        _judge(res, x, 64, what, rtol=2e-6, atol=1e-6)


@check(points=1, covers=("device",), title="the statistics are made on the images' device (checked on `meta`)")
def test_device_follows(ex, rng):
    x = _images(rng, 100)
    expect_device_follows(ex.channel_mean_std, batches(x, torch.zeros(100, dtype=torch.int64), 32),
                          what="channel_mean_std(loader)")


@check(points=1, covers=("inputs",), title="leaves the loader's batches unchanged")
def test_batches_unchanged(ex, rng):
    x = _images(rng, 100)
    res = call_unchanged(ex.channel_mean_std, batches(x, torch.zeros(100, dtype=torch.int64), 32), names=("loader",),
                         what="channel_mean_std(loader) with a loader that is a list of batches")
    _judge(res, x, 32, "channel_mean_std over 100 images [3, 8, 8] in batches of 32", rtol=2e-6, atol=1e-6)


@check(points=1, speed=True, timeout=60, title="no Python loop over images or pixels")
def test_speed(ex, ref, rng, exercise):
    # 4 batches of 1024 one-channel 8x8 images: a loop over the images of a batch runs 4096 Python iterations,
    # the reference a few tensor operations per batch
    x = torch.rand(4096, 1, 8, 8, generator=rng)
    assert_fast(ex.channel_mean_std, ref.channel_mean_std, batches(x, torch.zeros(4096, dtype=torch.int64), 1024),
                repeat=15, max_ratio=exercise.threshold("speed_max_ratio"),
                what="channel_mean_std(4 batches of [1024, 1, 8, 8])")

"""Grader for ch01.gather: batched_gather(x[B, N, D], idx[B, K]) -> [B, K, D]."""
import torch
from support.layouts import column_major, describe, explain_layout_errors

from torchcourse.grading import (
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_device_follows,
    expect_tensor,
    grad_of,
)

F64 = torch.float64
WRONG_DIM = "gathers along the wrong dim"


def _randn(rng, *shape, dtype=F64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def _idx(rng, B, K, N):
    return torch.randint(0, N, (B, K), generator=rng)


def _oracle(x, idx):
    """Advanced indexing: batch index [B, 1] broadcast against idx [B, K]."""
    return x[torch.arange(x.shape[0], device=x.device)[:, None], idx]


def _mistakes(x, idx):
    B, N, D = x.shape
    K = idx.shape[1]
    index = idx[:, :, None].expand(B, K, D)
    found = []
    if int(idx.max()) < D and K <= N:
        found.append((f"{WRONG_DIM} (dim 2, the features, instead of dim 1, the rows)", x.gather(2, index)))
    if int(idx.max()) < B:
        found.append((f"{WRONG_DIM} (dim 0, the batch, instead of dim 1, the rows)", x.gather(0, index)))
    if K <= N:
        found.append(("wrong batch offset in a flattened index: batch b starts at row b * N of x.reshape(B*N, D)",
                      x.reshape(B * N, D)[idx + torch.arange(B)[:, None] * K]))
    found.append(("every batch element gathered from x[0] (batch index missing)", x[0][idx]))
    return found


def _call(ex, x, idx, what):
    out = ex.batched_gather(x, idx)
    expect_tensor(out, what=what)
    B, N, D = x.shape
    K = idx.shape[1]
    if tuple(out.shape) != (B, K, D):
        likely = ""
        if tuple(out.shape) == (B, B, K, D):
            likely = ("\n  Likely mistake: x[:, idx] indexes every batch element with every row of idx; pair "
                      "each batch index with its own row of idx (a batch index of shape [B, 1] next to idx).")
        elif tuple(out.shape) == (B, K, N, D) or tuple(out.shape) == (B, K, B, N, D):
            likely = f"\n  Likely mistake: {WRONG_DIM}: idx was applied to the batch dim of x (x[idx])."
        raise AssertionError(f"{what}: expected shape ({B}, {K}, {D}) = [B, K, D], got {tuple(out.shape)}{likely}")
    return out


@check(points=1)
def test_shape(ex, rng):
    x, idx = _randn(rng, 3, 10, 4, dtype=torch.float32), _idx(rng, 3, 6, 10)
    what = "batched_gather(x[3,10,4], idx[3,6])"
    out = _call(ex, x, idx, what)
    expect_tensor(out, shape=(3, 6, 4), dtype=torch.float32, device="cpu", what=what)


@check(points=2)
def test_values_float64(ex, rng):
    x, idx = _randn(rng, 4, 9, 5), _idx(rng, 4, 7, 9)
    what = "batched_gather(x[4,9,5], idx[4,7]) in float64"
    out = _call(ex, x, idx, what)
    expect_tensor(out, dtype=F64, what=what)
    assert_close(out, _oracle(x, idx), atol=0, what=what, mistakes=_mistakes(x, idx),
                 hint="out[b, k] = x[b, idx[b, k]]: the index picks rows (dim 1) within each batch element")


@check(points=1)
def test_values_float32(ex, rng):
    x, idx = _randn(rng, 2, 12, 3, dtype=torch.float32), _idx(rng, 2, 20, 12)   # K > N: rows repeat
    what = "batched_gather(x[2,12,3], idx[2,20]) in float32 (K > N, indices repeat)"
    out = _call(ex, x, idx, what)
    expect_tensor(out, dtype=torch.float32, what=what)
    assert_close(out, _oracle(x, idx), atol=0, what=what, mistakes=_mistakes(x, idx))


@check(points=2)
def test_gathers_along_rows(ex, rng):
    # B == N == D: gathering along any dim is a valid call, so the values show which dim was used.
    x, idx = _randn(rng, 6, 6, 6), _idx(rng, 6, 4, 6)
    what = "batched_gather(x[6,6,6], idx[6,4])"
    out = _call(ex, x, idx, what)
    assert_close(out, _oracle(x, idx), atol=0, what=what, mistakes=_mistakes(x, idx),
                 hint="torch.gather(x, 1, idx[..., None].expand(-1, -1, D)), or x[arange(B)[:, None], idx]")


@check(points=1)
def test_edge_sizes(ex, rng):
    for B, N, D, K in ((1, 1, 1, 3), (2, 5, 3, 0), (3, 4, 1, 2)):
        x, idx = _randn(rng, B, N, D), _idx(rng, B, K, N)
        what = f"batched_gather(x[{B},{N},{D}], idx[{B},{K}])"
        out = _call(ex, x, idx, what)
        assert_close(out, _oracle(x, idx), atol=0, what=what)


@check(points=2)
def test_gradient(ex, rng):
    x = _randn(rng, 3, 5, 4).requires_grad_()
    idx = _idx(rng, 3, 8, 5)
    idx[:, :2] = 1                                      # row 1 picked at least twice in every batch
    g = _randn(rng, 3, 8, 4)
    out, grads = grad_of(ex.batched_gather, x, idx, grad_outputs=g)
    (expected,) = torch.autograd.grad(_oracle(x, idx), (x,), g)
    assert_close(grads[0] if grads else None, expected, atol=1e-12, rtol=1e-12,
                 what="gradient of batched_gather wrt x (float64, repeated indices)",
                 hint="use differentiable indexing (torch.gather or advanced indexing); a row picked twice "
                      "receives the sum of both gradients")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x, idx = _randn(rng, 3, 6, 4), _idx(rng, 3, 5, 6)
    what = "batched_gather(x[3,6,4], idx[3,5])"
    out = call_unchanged(ex.batched_gather, x, idx, names=("x", "idx"), what=what)
    assert_close(out, _oracle(x, idx), atol=0, what=what)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    out = expect_device_follows(ex.batched_gather, _randn(rng, 3, 6, 4), _idx(rng, 3, 5, 6),
                                what="batched_gather(x[3,6,4], idx[3,5])")
    expect_tensor(out, shape=(3, 5, 4), what="batched_gather(x[3,6,4], idx[3,5]) on the device check")


@check(points=1)
def test_layouts(ex, rng):
    # x is a [B, N, D] view of a [N, B, D] tensor (transpose(0, 1)), idx a transposed [K, B] tensor
    x = _randn(rng, 7, 3, 4).transpose(0, 1)
    idx = column_major(_idx(rng, 3, 5, 7))
    what = f"batched_gather(x with {describe(x)}, idx with {describe(idx)})"
    with explain_layout_errors(what):
        out = _call(ex, x, idx, what)
    assert_close(out, _oracle(x, idx), atol=0, what=what, mistakes=_mistakes(x, idx),
                 hint="gather and indexing follow any strides; flatten with reshape, never view")


@check(points=2, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # 16384 batch elements of 4 short rows: a loop over the batch runs 16384 iterations, while gather,
    # advanced indexing, a flattened index or a one-hot [B, K, N] @ [B, N, D] product stay near the reference.
    x, idx = _randn(rng, 16384, 4, 2, dtype=torch.float32), _idx(rng, 16384, 2, 4)
    assert_fast(ex.batched_gather, ref.batched_gather, x, idx, number=5,
                max_ratio=exercise.threshold("speed_max_ratio"), what="batched_gather(x[16384,4,2], idx[16384,2])")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x, idx = _randn(rng, 3, 7, 5), _idx(rng, 3, 4, 7)
    what = "batched_gather on the GPU (float64)"
    out = _call(ex, x.to(device), idx.to(device), what)
    expect_tensor(out, shape=(3, 4, 5), dtype=F64, device=device, what=what)
    assert_close(out, _oracle(x, idx), atol=0, what=f"{what} vs the CPU oracle",
                 hint="create any new tensor (a batch index, say) on x.device")

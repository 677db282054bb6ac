"""Grader for ch01.normalize: l2_normalize(x, dim=-1, eps=1e-12) = x / max(||x||, eps), like F.normalize."""
import torch
import torch.nn.functional as F
from support.layouts import column_major, describe, explain_layout_errors, spread

from torchcourse.grading import (
    LearnerError,
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_device_follows,
    expect_tensor,
    forbidden_api_check,
    grad_of,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
WRONG_DIM = "wrong dim"


def _randn(rng, *shape, dtype=F64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def _oracle(x, dim=-1, eps=1e-12):
    return F.normalize(x, p=2.0, dim=dim, eps=eps)


def _call(ex, x, *args, what, **kw):
    try:
        out = ex.l2_normalize(x, *args, **kw)
    except LearnerError as e:
        if e.type == "RuntimeError" and "must match the size" in e.message:
            raise AssertionError(f"{what}: {e.describe()}\n  Likely mistake: {WRONG_DIM}: the norm lost its "
                                 f"dimension (keepdim=False), so it no longer broadcasts against x; keep it with "
                                 f"keepdim=True") from None
        raise
    expect_tensor(out, shape=x.shape, dtype=x.dtype, device=x.device, what=what)
    return out


def _dim_mistakes(x, dim):
    found = []
    for other in range(x.dim()):
        if other != dim % x.dim():
            found.append((f"{WRONG_DIM}: normalised along dim {other} instead of dim={dim}"
                          + (" (the dim argument is ignored)" if other == x.dim() - 1 else ""),
                          _oracle(x, other)))
    norm = x.norm(dim=dim).clamp_min(1e-12)
    try:                                   # what x / norm gives when the norm loses its dimension
        found.append((f"{WRONG_DIM}: the norm lost its dimension (keepdim=False) and was broadcast against "
                      f"the wrong axis; keep it with keepdim=True", x / norm))
    except RuntimeError:
        pass
    return found


@check(points=2)
def test_values(ex, rng):
    for dtype, tol in ((torch.float32, 1e-6), (F64, 1e-12)):
        x = 3 * _randn(rng, 7, 5, dtype=dtype)
        what = f"l2_normalize(x[7,5]) in {dtype}"
        out = _call(ex, x, what=what)
        assert_close(out, _oracle(x), atol=tol, rtol=tol, what=what,
                     mistakes=[("divided by the squared norm instead of the norm", x / (x * x).sum(-1, keepdim=True)),
                               ("divided by the L1 norm instead of the L2 norm", F.normalize(x, p=1.0, dim=-1))]
                     + _dim_mistakes(x, -1),
                     hint="x / ||x||, with the Euclidean norm over the last dim, kept as a size-1 dim")


@check(points=2)
def test_dim_argument(ex, rng):
    x = _randn(rng, 5, 5)                          # square: a norm broadcast along the wrong axis still fits
    for dim in (-1, 0):
        what = f"l2_normalize(x[5,5], dim={dim})"
        out = _call(ex, x, dim, what=what)
        assert_close(out, _oracle(x, dim), atol=1e-12, rtol=1e-12, what=what, mistakes=_dim_mistakes(x, dim),
                     hint="take the norm along dim with keepdim=True so that it broadcasts back over x")
    x = _randn(rng, 3, 4, 5)
    for dim in (0, 1, -2):
        what = f"l2_normalize(x[3,4,5], dim={dim})"
        out = _call(ex, x, dim, what=what)
        assert_close(out, _oracle(x, dim), atol=1e-12, rtol=1e-12, what=what, mistakes=_dim_mistakes(x, dim),
                     hint="take the norm along dim with keepdim=True so that it broadcasts back over x")


@check(points=2)
def test_zero_vector(ex, rng):
    for dtype in (torch.float32, F64):
        x = _randn(rng, 4, 6, dtype=dtype)
        x[1] = 0
        what = f"l2_normalize(x[4,6]) in {dtype} with x[1] the zero vector"
        out = _call(ex, x, what=what)
        bad = ~torch.isfinite(out)
        if bad.any():
            i, j = (int(v) for v in bad.nonzero()[0])
            raise AssertionError(
                f"{what}: expected finite values (the zero vector stays 0), got {out[i, j].item()} at index "
                f"({i}, {j}).\n  Likely mistake: divides by zero at the zero vector: 0 / ||0|| = 0/0 = NaN. "
                f"Hint: divide by max(||x||, eps) (norm.clamp_min(eps)), not by ||x||.")
        assert_close(out, _oracle(x), atol=1e-6, rtol=1e-6, what=what)


@check(points=1)
def test_tiny_norm(ex, rng):
    # norms of 1e-14 .. 1e-11 around eps = 1e-12: the result is x / max(||x||, eps), exactly F.normalize
    x = _randn(rng, 6, 3) * torch.tensor([1e-14, 1e-13, 5e-13, 2e-12, 1e-11, 1.0], dtype=F64)[:, None]
    for eps in (1e-12, 1e-3):
        what = f"l2_normalize(x[6,3], eps={eps:g}) in float64, rows with norms from 1e-14 to 1"
        out = _call(ex, x, -1, eps, what=what)
        norm = x.norm(dim=-1, keepdim=True)
        assert_close(out, _oracle(x, -1, eps), atol=1e-12, rtol=1e-9, what=what,
                     mistakes=[("adds eps to the norm (||x|| + eps) instead of max(||x||, eps)", x / (norm + eps)),
                               ("eps ignored or taken as the default 1e-12", _oracle(x, -1, 1e-12)),
                               ("compares the squared norm with eps (max(||x||², eps))",
                                x / (x * x).sum(-1, keepdim=True).clamp_min(eps).sqrt())],
                     hint="the denominator is max(||x||, eps): rows with a norm below eps are divided by eps")


@check(points=2)
def test_gradient(ex, rng):
    x = _randn(rng, 3, 4, 5).requires_grad_()
    g = _randn(rng, 3, 4, 5)
    for dim in (-1, 1):
        out, grads = grad_of(ex.l2_normalize, x, dim, grad_outputs=g)
        (expected,) = torch.autograd.grad(_oracle(x, dim), (x,), g)
        assert_close(grads[0] if grads else None, expected, atol=1e-10, rtol=1e-10,
                     what=f"gradient of l2_normalize(x[3,4,5], dim={dim}) wrt x (float64)",
                     hint="build the result from differentiable tensor operations only; the norm is part of "
                          "the graph, do not detach it")


@check(points=2)
def test_gradient_at_zero_vector(ex, rng):
    x = _randn(rng, 3, 4)
    x[0] = 0
    x = x.requires_grad_()
    g = _randn(rng, 3, 4)
    what = "gradient of l2_normalize(x[3,4]) wrt x (float64) with x[0] the zero vector"
    out, grads = grad_of(ex.l2_normalize, x, grad_outputs=g)
    (expected,) = torch.autograd.grad(_oracle(x), (x,), g)
    got = grads[0]
    if not torch.isfinite(got).all():
        raise AssertionError(
            f"{what}: expected a finite gradient (F.normalize gives 1/eps times the incoming gradient, i.e. "
            f"{expected[0, 0].item():.4g} at [0, 0]), got {got[0, 0].item()} at [0, 0].\n  Likely mistake: "
            f"sqrt at 0 in the backward pass: the derivative of sqrt(s) is 1/(2 sqrt(s)), infinite at s = 0, "
            f"and clamping after the sqrt multiplies it by 0 (0 * inf = NaN). Hint: clamp before the sqrt "
            f"(sum of squares .clamp_min(eps**2).sqrt()) or use torch.linalg.vector_norm / Tensor.norm, "
            f"whose gradient at 0 is defined.")
    assert_close(got, expected, atol=1e-6, rtol=1e-9, what=what,
                 hint="with max(||x||, eps), the zero vector's gradient is (incoming gradient) / eps, as in "
                      "F.normalize")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x = _randn(rng, 4, 5)
    x[1] = 0
    what = "l2_normalize(x[4,5]) with a zero row"
    out = call_unchanged(ex.l2_normalize, x, names=("x",), what=what)
    assert_close(out, _oracle(x), atol=1e-12, rtol=1e-12, what=what)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    for dim in (-1, 0):
        expect_device_follows(ex.l2_normalize, _randn(rng, 4, 5), dim, what=f"l2_normalize(x[4,5], dim={dim})")


@check(points=1)
def test_layouts(ex, rng):
    for x, dim in ((column_major(_randn(rng, 6, 4)), -1), (spread(_randn(rng, 3, 5)), 0)):
        what = f"l2_normalize(x with {describe(x)}, dim={dim})"
        with explain_layout_errors(what):
            out = _call(ex, x, dim, what=what)
        assert_close(out, _oracle(x, dim), atol=1e-12, rtol=1e-12, what=what,
                     hint="reductions and broadcasting follow any strides; reshape, never view")


@check(points=2, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # 4096 short vectors: a Python loop over them runs 4096 iterations; every vectorised form is close
    # to the reference.
    x = _randn(rng, 16, 256, 4, dtype=torch.float32)
    assert_fast(ex.l2_normalize, ref.l2_normalize, x, number=5,
                max_ratio=exercise.threshold("speed_max_ratio"), what="l2_normalize(x[16,256,4])")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x = _randn(rng, 5, 8)
    x[2] = 0
    for dim in (-1, 0):
        what = f"l2_normalize(x[5,8] on the GPU, dim={dim}) with a zero row"
        out = _call(ex, x.to(device), dim, what=what)
        assert_close(out, _oracle(x, dim), atol=1e-12, rtol=1e-12, what=f"{what} vs the CPU oracle",
                     hint="create any new tensor on x.device")

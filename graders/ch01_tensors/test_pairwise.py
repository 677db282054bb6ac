"""Grader for ch01.pairwise: pairwise_sq_distances(x[N, D], y[M, D]) -> [N, M]."""
import torch
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
AXIS = "wrong broadcast axis"


def _randn(rng, *shape, dtype=F64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def _oracle(x, y):
    """Trusted squared distances, in float64 (torch.cdist is allowed here: the grader is trusted)."""
    return torch.cdist(x.double(), y.double(), compute_mode="donot_use_mm_for_euclid_dist") ** 2


def _call(ex, x, y, what):
    try:
        out = ex.pairwise_sq_distances(x, y)
    except LearnerError as e:
        if e.type == "RuntimeError" and "must match the size" in e.message:
            raise AssertionError(f"{what}: {e.describe()}\n  Likely mistake: {AXIS}: ||x||² must be a column "
                                 f"[N, 1] (sum(-1, keepdim=True)) and ||y||² a row [M], so that they broadcast "
                                 f"to [N, M]") from None
        raise
    n, m = x.shape[0], y.shape[0]
    expect_tensor(out, what=what)
    if tuple(out.shape) != (n, m):
        likely = ""
        if tuple(out.shape) == (m, n):
            likely = (f"\n  Likely mistake: {AXIS}: the rows of y ended up on the first axis; x's rows "
                      f"belong on the first axis (x[:, None, :] against y[None, :, :]).")
        elif len(out.shape) == 3:
            likely = "\n  Likely mistake: the difference was not summed over the feature axis D (sum(-1))."
        raise AssertionError(f"{what}: expected shape ({n}, {m}) = [N, M], got {tuple(out.shape)}{likely}")
    return out


def _axis_mistakes(x, y):
    """What the [N, N] result looks like when a squared norm broadcasts along the wrong axis."""
    x, y = x.double(), y.double()
    x2, y2, xy = (x * x).sum(-1), (y * y).sum(-1), x @ y.T
    return [
        (f"{AXIS}: ||x||² is a row [N] (sum without keepdim) instead of a column [N, 1]",
         (x2[None, :] - 2 * xy + y2[None, :]).clamp_min(0)),
        (f"{AXIS}: ||x||² is a row and ||y||² a column", (x2[None, :] - 2 * xy + y2[:, None]).clamp_min(0)),
        (f"{AXIS}: ||y||² is a column [M, 1] instead of a row [M]",
         (x2[:, None] - 2 * xy + y2[:, None]).clamp_min(0)),
        (f"{AXIS}: the result is transposed (y's rows on the first axis)", _oracle(y, x)),
        ("+2 x·y instead of -2 x·y in the expansion", x2[:, None] + 2 * xy + y2[None, :]),
    ]


@check(points=1)
def test_shape(ex, rng):
    x, y = _randn(rng, 5, 3, dtype=torch.float32), _randn(rng, 7, 3, dtype=torch.float32)
    out = _call(ex, x, y, "pairwise_sq_distances(x[5,3], y[7,3])")
    expect_tensor(out, shape=(5, 7), dtype=torch.float32, device="cpu",
                  what="pairwise_sq_distances(x[5,3], y[7,3]) in float32")


@check(points=2)
def test_values_float64(ex, rng):
    x, y = _randn(rng, 6, 4), _randn(rng, 9, 4)
    what = "pairwise_sq_distances(x[6,4], y[9,4]) in float64"
    out = _call(ex, x, y, what)
    expect_tensor(out, dtype=F64, what=what)
    assert_close(out, _oracle(x, y), atol=1e-10, rtol=1e-10, what=what,
                 mistakes=[("returns distances, not squared distances (a sqrt too many)", _oracle(x, y).sqrt()),
                           ("summed absolute differences (L1), not squared differences",
                            (x[:, None] - y[None]).abs().sum(-1))],
                 hint="out[i, j] = sum over d of (x[i, d] - y[j, d])², e.g. ||x||² - 2 x·y + ||y||²")


@check(points=1)
def test_values_float32(ex, rng):
    x, y = _randn(rng, 8, 16, dtype=torch.float32), _randn(rng, 11, 16, dtype=torch.float32)
    what = "pairwise_sq_distances(x[8,16], y[11,16]) in float32"
    out = _call(ex, x, y, what)
    expect_tensor(out, dtype=torch.float32, what=what)
    assert_close(out, _oracle(x, y), atol=1e-4, rtol=1e-4, what=what,
                 hint="keep the input dtype; compute with tensor operations only")


@check(points=2)
def test_broadcast_axes(ex, rng):
    # N == M, so a squared norm broadcast along the wrong axis still gives an [N, N] result: the values
    # tell which axis went wrong.
    x, y = _randn(rng, 6, 5), 3 * _randn(rng, 6, 5)
    what = "pairwise_sq_distances(x[6,5], y[6,5]) in float64 (N == M)"
    out = _call(ex, x, y, what)
    assert_close(out, _oracle(x, y), atol=1e-10, rtol=1e-10, what=what, mistakes=_axis_mistakes(x, y),
                 hint="||x||² must be a column [N, 1] (sum(-1, keepdim=True)) and ||y||² a row [M], so that "
                      "out[i, j] pairs x[i] with y[j]")


@check(points=2)
def test_nonnegative(ex, rng):
    # Large, nearly identical rows: ||x||² - 2 x·y + ||y||² cancels catastrophically in float32 and
    # rounding leaves small negative numbers where the true squared distance is about 0.
    x = 1000 + _randn(rng, 64, 16, dtype=torch.float32)
    y = torch.cat([x, x + 1e-3 * _randn(rng, 64, 16, dtype=torch.float32)])
    what = "pairwise_sq_distances(x, y) in float32 for rows near 1000 with y containing x's rows (nudged)"
    out = _call(ex, x, y, what)
    if not torch.isfinite(out).all():
        raise AssertionError(f"{what}: expected finite values, got {int((~torch.isfinite(out)).sum())} "
                             f"non-finite element(s)")
    if (out < 0).any():
        flat = int(out.argmin())
        i, j = divmod(flat, out.shape[1])
        raise AssertionError(
            f"{what}: expected every squared distance >= 0, got {int((out < 0).sum())} negative value(s), the "
            f"smallest {out[i, j].item():.6g} at index ({i}, {j}) where the true value is "
            f"{_oracle(x, y)[i, j].item():.3g}.\n  Likely mistake: negative values from cancellation are not "
            f"clamped: the expansion ||x||² - 2 x·y + ||y||² rounds below 0 for nearby points. "
            f"Hint: clamp the result at 0 (clamp_min(0)).")
    # the values themselves, at float32 precision relative to ||x||² ~ 1.6e7
    assert_close(out, _oracle(x, y), atol=32.0, rtol=1e-4, what=what)


@check(points=1)
def test_empty(ex, rng):
    x, y = _randn(rng, 0, 3), _randn(rng, 4, 3)
    out = _call(ex, x, y, "pairwise_sq_distances(x[0,3], y[4,3])")
    expect_tensor(out, shape=(0, 4), dtype=F64, what="pairwise_sq_distances(x[0,3], y[4,3])")


@check(points=2)
def test_gradient(ex, rng):
    x, y = _randn(rng, 5, 3).requires_grad_(), _randn(rng, 4, 3).requires_grad_()
    g = _randn(rng, 5, 4)
    out, grads = grad_of(ex.pairwise_sq_distances, x, y, grad_outputs=g)
    expected = torch.autograd.grad(_oracle(x, y), (x, y), g)
    for name, got, exp in zip(("x", "y"), grads, expected):
        assert_close(got, exp, atol=1e-9, rtol=1e-9, what=f"gradient of pairwise_sq_distances wrt {name} "
                     f"(float64)", hint="d/dx[i] of ||x[i] - y[j]||² is 2 (x[i] - y[j]); build the result from "
                     "differentiable tensor operations only")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x, y = _randn(rng, 6, 4), _randn(rng, 5, 4)
    what = "pairwise_sq_distances(x[6,4], y[5,4])"
    out = call_unchanged(ex.pairwise_sq_distances, x, y, names=("x", "y"), what=what)
    assert_close(out, _oracle(x, y), atol=1e-10, rtol=1e-10, what=what)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    out = expect_device_follows(ex.pairwise_sq_distances, _randn(rng, 6, 4), _randn(rng, 5, 4),
                                what="pairwise_sq_distances(x[6,4], y[5,4])")
    expect_tensor(out, shape=(6, 5), what="pairwise_sq_distances(x[6,4], y[5,4]) with inputs on `meta`")


@check(points=1)
def test_layouts(ex, rng):
    # a transposed x and a strided, offset y: the same values, laid out as a caller's views would be
    x, y = column_major(_randn(rng, 7, 3)), spread(_randn(rng, 5, 3))
    what = f"pairwise_sq_distances(x with {describe(x)}, y with {describe(y)})"
    with explain_layout_errors(what):
        out = ex.pairwise_sq_distances(x, y)
    expect_tensor(out, shape=(7, 5), dtype=F64, what=what)
    assert_close(out, _oracle(x, y), atol=1e-10, rtol=1e-10, what=what,
                 hint="read the inputs through indexing, broadcasting and matmul, which follow any strides")


@check(points=2, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # Many short rows against a few (then the other way round): a Python loop over the rows of x (or of
    # y) pays its per-iteration overhead thousands of times, while the broadcast [N, M, D] form stays
    # small (196K elements) and well inside the limit.
    for n, m in ((4096, 16), (16, 4096)):
        x, y = _randn(rng, n, 3, dtype=torch.float32), _randn(rng, m, 3, dtype=torch.float32)
        assert_fast(ex.pairwise_sq_distances, ref.pairwise_sq_distances, x, y, number=5,
                    max_ratio=exercise.threshold("speed_max_ratio"), what=f"pairwise_sq_distances(x[{n},3], y[{m},3])")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x, y = _randn(rng, 33, 8), _randn(rng, 17, 8)
    what = "pairwise_sq_distances on the GPU (float64)"
    out = _call(ex, x.to(device), y.to(device), what)
    expect_tensor(out, shape=(33, 17), dtype=F64, device=device, what=what)
    assert_close(out, _oracle(x, y), atol=1e-9, rtol=1e-9, what=f"{what} vs the CPU oracle",
                 hint="create any new tensor on x.device")

"""Grader for ch01.windows: sliding_windows(x[..., T], size, step) -> [..., W, size]."""
import torch
from support.layouts import describe, explain_layout_errors, spread

from torchcourse.grading import (
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_device_follows,
    expect_raises,
    expect_tensor,
    forbidden_api_check,
    grad_of,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
OFF_BY_ONE = "off-by-one in window count"


def _randn(rng, *shape, dtype=F64):
    return torch.randn(*shape, generator=rng, dtype=dtype)


def _count(T, size, step):
    return max((T - size) // step + 1, 0)


def _oracle(x, size, step):
    """Tensor.unfold (forbidden to the learner, trusted here); it refuses size > T, which is empty."""
    if size > x.shape[-1]:
        return x.new_zeros(*x.shape[:-1], 0, size)
    return x.unfold(-1, size, step)


def _call(ex, x, size, step, what):
    out = ex.sliding_windows(x, size, step)
    expect_tensor(out, what=what)
    T = x.shape[-1]
    W = _count(T, size, step)
    want = (*x.shape[:-1], W, size)
    if tuple(out.shape) != want:
        likely = ""
        if tuple(out.shape[:-2]) == tuple(x.shape[:-1]) and out.dim() == x.dim() + 1 and out.shape[-1] == size:
            got = out.shape[-2]
            if abs(got - W) == 1:
                likely = (f"\n  Likely mistake: {OFF_BY_ONE}: with T={T}, size={size}, step={step} the starts are "
                          f"0, {step}, ..., {(W - 1) * step} (the last start is at most T - size = {T - size}), "
                          f"so W = (T - size) // step + 1 = {W}; you returned {got}.")
            else:
                likely = f"\n  Hint: W = (T - size) // step + 1 = {W} windows (0 when size > T)."
        elif tuple(out.shape[-2:]) == (size, W):
            likely = "\n  Likely mistake: the last two axes are swapped: the result is [..., W, size]."
        raise AssertionError(f"{what}: expected shape {want} = [..., W, size], got {tuple(out.shape)}{likely}")
    expect_tensor(out, dtype=x.dtype, device=x.device, what=what)
    return out


@check(points=2)
def test_window_count(ex, rng):
    # step 1, steps that divide T - size exactly and steps that do not, a single window, size 1
    for T, size, step in ((10, 3, 1), (10, 4, 2), (10, 4, 3), (11, 4, 3), (10, 4, 4), (10, 10, 1), (10, 1, 1),
                          (10, 2, 7), (9, 3, 3)):
        x = _randn(rng, T, dtype=torch.float32)
        _call(ex, x, size, step, f"sliding_windows(x[{T}], size={size}, step={step})")


@check(points=2)
def test_values(ex, rng):
    for dtype in (torch.float32, F64):
        x = _randn(rng, 2, 3, 13, dtype=dtype)
        for size, step in ((4, 1), (3, 2), (5, 4)):
            what = f"sliding_windows(x[2,3,13], size={size}, step={step}) in {dtype}"
            out = _call(ex, x, size, step, what)
            mistakes = []
            if _count(13, size, size) == _count(13, size, step):
                mistakes.append(("window w starts at w * size instead of w * step", _oracle(x, size, size)))
            assert_close(out, _oracle(x, size, step), atol=0, what=what, mistakes=mistakes,
                         hint="out[..., w, i] = x[..., w * step + i]")


@check(points=1)
def test_leading_dims(ex, rng):
    for shape in ((17,), (2, 2, 2, 9)):
        x = _randn(rng, *shape)
        what = f"sliding_windows(x{list(shape)}, size=3, step=2)"
        out = _call(ex, x, 3, 2, what)
        assert_close(out, _oracle(x, 3, 2), atol=0, what=what,
                     hint="the windows run along the last dimension only; every leading dimension is kept")


@check(points=1)
def test_size_larger_than_T(ex, rng):
    for shape, size, step in (((2, 5), 6, 1), ((4,), 9, 2), ((3, 0), 1, 1)):
        x = _randn(rng, *shape)
        what = f"sliding_windows(x{list(shape)}, size={size}, step={step}) (no full window fits)"
        out = _call(ex, x, size, step, what)
        expect_tensor(out, shape=(*shape[:-1], 0, size), what=what)


@check(points=1)
def test_bad_step(ex, rng):
    x = _randn(rng, 2, 8)
    for step in (0, -1):
        expect_raises(ValueError, ex.sliding_windows, x, 3, step,
                      what=f"sliding_windows(x[2,8], size=3, step={step}): step must be positive, "
                           f"else raise ValueError")


@check(points=2)
def test_gradient(ex, rng):
    x = _randn(rng, 2, 11).requires_grad_()
    g = _randn(rng, 2, 4, 5)                            # size 5, step 2: windows overlap
    out, grads = grad_of(ex.sliding_windows, x, 5, 2, grad_outputs=g)
    (expected,) = torch.autograd.grad(x.unfold(-1, 5, 2), (x,), g)
    assert_close(grads[0] if grads else None, expected, atol=1e-12, rtol=1e-12,
                 what="gradient of sliding_windows(x[2,11], 5, 2) wrt x (float64, overlapping windows)",
                 hint="an element that appears in several windows receives the sum of their gradients; "
                      "views (as_strided) and indexing both get this right")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x = _randn(rng, 2, 11)
    what = "sliding_windows(x[2,11], size=4, step=3)"
    out = call_unchanged(ex.sliding_windows, x, 4, 3, names=("x",), what=what)
    assert_close(out, _oracle(x, 4, 3), atol=0, what=what)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    out = expect_device_follows(ex.sliding_windows, _randn(rng, 2, 11), 4, 3,
                                what="sliding_windows(x[2,11], size=4, step=3)")
    expect_tensor(out, shape=(2, 3, 4), what="sliding_windows(x[2,11], 4, 3) on the device check")


def _contiguous_strided(x, size, step):
    """What as_strided gives when it takes x's strides and offset to be those of a contiguous tensor."""
    W = _count(x.shape[-1], size, step)
    T = x.shape[-1]
    lead = [T * int(torch.tensor(x.shape[i + 1:-1]).prod()) for i in range(x.dim() - 1)]
    try:
        return x.as_strided((*x.shape[:-1], W, size), (*lead, step, 1), 0)
    except RuntimeError:
        return None


@check(points=2)
def test_layouts(ex, rng):
    # x as a caller's views would pass it: a permuted [3, 15, 2] tensor (the last dim has stride 2 and the
    # leading two cannot be merged by a view), then a strided slice at storage offset 1 (every dim has a
    # stride of 2 or more): a view must be built from x's own strides
    for x in (_randn(rng, 3, 15, 2).permute(2, 0, 1), spread(_randn(rng, 2, 13))):
        what = f"sliding_windows(x with {describe(x)}, size=4, step=3)"
        with explain_layout_errors(what):
            out = _call(ex, x, 4, 3, what)
        wrong = _contiguous_strided(x, 4, 3)
        assert_close(out, _oracle(x, 4, 3), atol=0, what=what,
                     mistakes=[] if wrong is None else [("as_strided with the strides of a contiguous tensor "
                               "(step, 1) and offset 0: x may be a view; take the strides from x.stride() and the "
                               "start from x.storage_offset()", wrong)],
                     hint="a view of x must use x.stride() and x.storage_offset(); indexing works on any layout")


def _speed_x(rng):
    return _randn(rng, 2, 16384, dtype=torch.float32)


@check(points=2, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # 8191 windows per row: a Python loop over the windows runs thousands of iterations; a view
    # (as_strided) or one indexing operation (a copy of 49K elements) stays near the reference.
    assert_fast(ex.sliding_windows, ref.sliding_windows, _speed_x(rng), 3, 2, number=5,
                max_ratio=exercise.threshold("speed_max_ratio"), what="sliding_windows(x[2,16384], size=3, step=2)")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x = _randn(rng, 3, 20)
    what = "sliding_windows(x[3,20] on the GPU, size=6, step=3)"
    out = _call(ex, x.to(device), 6, 3, what)
    assert_close(out, _oracle(x, 6, 3), atol=0, what=f"{what} vs the CPU oracle",
                 hint="create any new tensor (positions, say) on x.device")

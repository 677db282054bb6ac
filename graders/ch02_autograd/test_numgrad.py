"""Grader for ch02.numgrad: numerical_gradient(f, x, eps=1e-6) by central differences, x restored bit for bit."""
import torch
from worker_support import testfns

from torchcourse.grading import (
    LearnerError,
    assert_close,
    check,
    expect_device_follows,
    expect_tensor,
    forbidden_api_check,
    put,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
FORWARD = "forward differences (f(x + eps) - f(x)) / eps: their error is O(eps), use central differences"
HINT = "grad[i] = (f(x + eps·e_i) - f(x - eps·e_i)) / (2·eps), one element at a time"


def _autograd(fn, x):
    """The oracle: torch.autograd.grad of the same function, here in the judge."""
    xr = x.detach().clone().requires_grad_()
    (g,) = torch.autograd.grad(fn(xr), xr)
    return g


def _differences(fn, x, eps, kind="central", *, flatten=False):
    """What a finite-difference scheme returns, computed here (kind: central, forward, backward, no_half)."""
    x = x.detach().clone()
    probe = x.view(-1) if flatten else x
    flat = x.view(-1)
    out = torch.zeros_like(flat)
    for i in range(flat.numel()):
        saved = flat[i].item()
        flat[i] = saved + eps
        plus = float(fn(probe))
        flat[i] = saved - eps
        minus = float(fn(probe))
        flat[i] = saved
        mid = float(fn(probe))
        if kind == "central":
            out[i] = (plus - minus) / (2 * eps)
        elif kind == "forward":
            out[i] = (plus - mid) / eps
        elif kind == "backward":
            out[i] = (mid - minus) / eps
        else:                                   # divided by eps instead of 2·eps
            out[i] = (plus - minus) / eps
    return out.view_as(x)


def _mistakes(fn, x, eps):
    return [(FORWARD, _differences(fn, x, eps, "forward")),
            ("backward differences (f(x) - f(x - eps)) / eps: their error is O(eps), use central differences",
             _differences(fn, x, eps, "backward")),
            ("divided by eps instead of 2·eps (the two probes are 2·eps apart)", _differences(fn, x, eps, "no_half"))]


def _call(ex, impl, name, x, *args, what):
    f = getattr(impl.lib("worker_support.testfns"), name)
    try:
        out = ex.numerical_gradient(f, x, *args)
    except LearnerError as e:
        if e.type == "AttributeError" and "float" in e.message:
            raise AssertionError(f"{e.describe()}\n  Hint: f may return a Python float as well as a 0-d tensor: "
                                 f"convert either with float(f(x))") from None
        raise
    expect_tensor(out, shape=x.shape, what=what)
    if out.dtype != x.dtype:
        raise AssertionError(f"{what}: expected dtype {x.dtype} (x's dtype), got {out.dtype}. Likely mistake: "
                             f"gradient created with torch.zeros(x.shape) (the default float32); use "
                             f"torch.zeros_like(x)")
    return out


@check(points=3)
def test_cubic(ex, impl, rng):
    x = torch.randn(12, generator=rng, dtype=F64) * 2
    eps = 1e-4
    what = f"numerical_gradient(sum(x³ - 2x), x[12] float64, eps={eps:g})"
    out = _call(ex, impl, "cubic_sum", x, eps, what=what)
    # central differences of a cubic are exact up to eps² = 1e-8; forward differences are off by 3·x·eps
    assert_close(out, _autograd(testfns.cubic_sum, x), atol=1e-6, rtol=1e-6, what=what, hint=HINT,
                 mistakes=_mistakes(testfns.cubic_sum, x, eps))


@check(points=2)
def test_default_eps(ex, impl, rng):
    x = torch.randn(3, 4, generator=rng, dtype=F64) * 2
    what = "numerical_gradient(sum(sin(x)·x), x[3,4] float64) with the default eps"
    out = _call(ex, impl, "sin_prod", x, what=what)
    assert_close(out, _autograd(testfns.sin_prod, x), atol=5e-8, rtol=0, what=what,
                 hint=HINT + "; the default eps is 1e-6", mistakes=_mistakes(testfns.sin_prod, x, 1e-6))


@check(points=1)
def test_keeps_shape(ex, impl, rng):
    x = torch.randn(3, 5, generator=rng, dtype=F64)
    what = "numerical_gradient(sum of row-wise logsumexp(x), x[3,5] float64, eps=1e-5)"
    out = _call(ex, impl, "logsumexp_rows", x, 1e-5, what=what)
    flat = _differences(testfns.logsumexp_rows, x, 1e-5, flatten=True)
    assert_close(out, _autograd(testfns.logsumexp_rows, x), atol=1e-8, rtol=1e-8, what=what,
                 mistakes=[("x flattened before calling f: f must receive x in its own shape (probe a flat "
                            "*view* of x, but call f(x))", flat)],
                 hint="f depends on x's shape here (logsumexp along each row)")


@check(points=1)
def test_any_shape(ex, impl, rng):
    # a 0-d x (a single number) and a 3-D x: the probing must not assume a vector or a matrix
    for shape in ((), (2, 3, 2)):
        x = torch.randn(shape, generator=rng, dtype=F64) * 2
        what = f"numerical_gradient(sum(x³ - 2x), x of shape {shape} float64, eps=1e-4)"
        out = _call(ex, impl, "cubic_sum", x, 1e-4, what=what)
        assert_close(out, _autograd(testfns.cubic_sum, x), atol=1e-6, rtol=1e-6, what=what,
                     hint="iterate over a flat view of x (x.view(-1) or x.reshape(-1)) and call f(x) itself")


@check(points=1)
def test_float_valued_f(ex, impl, rng):
    x = torch.randn(6, generator=rng, dtype=F64)
    what = "numerical_gradient(f, x[6]) where f returns a Python float (sum(x²))"
    out = _call(ex, impl, "as_float", x, 1e-5, what=what)
    assert_close(out, 2 * x, atol=1e-8, rtol=1e-8, what=what, hint="convert what f returns with float(...)")


@check(points=2, covers=("inputs",))
def test_restores_x(ex, impl, rng):
    # The contract lets x change while it is probed (its version counter moves), so call_unchanged does not
    # apply: what must come back is x's shape, strides and every value, bit for bit.
    x = torch.randn(4, 5, generator=rng, dtype=F64) * 3
    xh = put(impl, x)                      # x lives in the worker: we read it back after the call
    f = impl.lib("worker_support.testfns").cubic_sum
    out = ex.numerical_gradient(f, xh, 1e-5)
    expect_tensor(out, shape=x.shape, what="numerical_gradient(f, x[4,5])")
    layout = (tuple(xh.shape), tuple(xh.stride()), xh.storage_offset())
    if layout != (tuple(x.shape), x.stride(), 0):
        raise AssertionError(f"x after numerical_gradient(f, x): expected shape {tuple(x.shape)}, strides "
                             f"{x.stride()}, offset 0, got shape {layout[0]}, strides {layout[1]}, offset "
                             f"{layout[2]}. Likely mistake: x reshaped in place (x.resize_, x.unsqueeze_, "
                             f"x.set_); probe a flat view of x (x.view(-1)) and leave x itself as it was.")
    after = xh.clone()
    expect_tensor(after, shape=x.shape, dtype=F64, what="x after numerical_gradient(f, x)")
    changed = after.view(torch.int64) != x.view(torch.int64)        # bit for bit
    if changed.any():
        idx = tuple(int(i) for i in changed.nonzero()[0])
        diff = (after - x).abs().max().item()
        likely = ("x not restored bit for bit: adding and subtracting eps does not round back to the same "
                  "float; save the element's value and write it back" if diff < 1e-3 else
                  "x left modified: an element was never put back after probing it")
        raise AssertionError(f"x after numerical_gradient(f, x): {int(changed.sum())} of {x.numel()} elements "
                             f"differ from their original values (largest change {diff:.3g}; first at index "
                             f"{idx}: was {x[idx].item()!r}, now {after[idx].item()!r}).\n  Likely mistake: {likely}.")


@check(points=1, covers=("device",))
def test_device_follows(ex, impl, rng):
    f = impl.lib("worker_support.testfns").cubic_sum
    out = expect_device_follows(ex.numerical_gradient, f, torch.randn(3, 4, generator=rng, dtype=F64), 1e-4,
                                what="numerical_gradient(sum(x³ - 2x), x[3,4], eps=1e-4)")
    expect_tensor(out, shape=(3, 4), what="numerical_gradient(f, x[3,4]) on the device check")


@check(points=1, gpu=True)
def test_gpu(ex, impl, rng, device):
    x = torch.randn(8, generator=rng, dtype=F64)
    what = "numerical_gradient(sum(x³ - 2x), x[8] float64 on the GPU, eps=1e-4)"
    out = _call(ex, impl, "cubic_sum", x.to(device), 1e-4, what=what)
    expect_tensor(out, device=device, what=what)
    assert_close(out, _autograd(testfns.cubic_sum, x), atol=1e-6, rtol=1e-6, what=what,
                 hint="create the gradient on x's device (torch.zeros_like(x))")

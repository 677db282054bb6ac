"""Grader for ch02.linreg: fit_linear_regression(x[N,D], y[N], lr, steps) -> (w[D], b 0-d), with autograd."""
import torch
from support.layouts import call_with_layout, column_major, describe, spread

from torchcourse.grading import (
    LearnerError,
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_device_follows,
    expect_tensor,
    forbidden_api_check,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
ACCUMULATE = "forgot to zero the gradients (they accumulate): .backward() adds into .grad, so zero w.grad and " \
             "b.grad after each update"
NO_GRAD = "update outside no_grad"
HINT = "loss = mean((x @ w + b - y)²); under torch.no_grad(): w -= lr * w.grad, b -= lr * b.grad; then zero the grads"


def _data(rng, n, d, dtype=F64):
    x = torch.randn(n, d, generator=rng, dtype=F64)
    w_true = torch.randn(d, generator=rng, dtype=F64)
    y = x @ w_true + 0.7 + 0.1 * torch.randn(n, generator=rng, dtype=F64)
    return x.to(dtype), y.to(dtype)


def _gd(x, y, lr, steps, *, accumulate=False, scale=1.0, update_b=True):
    """Gradient descent from zero with the analytic MSE gradient, computed here; the keyword arguments
    reproduce known mistakes (scale=N: summed loss, scale=0.5: halved loss)."""
    x, y = x.double(), y.double()
    n, d = x.shape
    w, b = torch.zeros(d, dtype=F64), torch.zeros((), dtype=F64)
    acc_w, acc_b = torch.zeros(d, dtype=F64), torch.zeros((), dtype=F64)
    for _ in range(steps):
        r = x @ w + b - y
        gw, gb = scale * 2 / n * (x.T @ r), scale * 2 / n * r.sum()
        if accumulate:
            acc_w, acc_b = acc_w + gw, acc_b + gb
            gw, gb = acc_w, acc_b
        w = w - lr * gw
        b = b - lr * gb if update_b else b
    return torch.cat([w, b.reshape(1)])


def _mistakes(x, y, lr, steps):
    n = x.shape[0]
    return [(ACCUMULATE, _gd(x, y, lr, steps, accumulate=True)),
            ("loss summed over the samples instead of averaged (the contract is the mean squared error)",
             _gd(x, y, lr, steps, scale=n)),
            ("loss halved (0.5 · MSE): the contract is mean((x @ w + b - y)²)", _gd(x, y, lr, steps, scale=0.5)),
            ("b is never updated", _gd(x, y, lr, steps, update_b=False))]


def _fit(ex, x, y, lr, steps, what, *, call=None):
    """The learner's (w, b) concatenated, after checking types, shapes and dtypes; ``call(fn, *args)`` runs
    the call (default: directly)."""
    try:
        res = (call or (lambda fn, *args: fn(*args)))(ex.fit_linear_regression, x, y, lr, steps)
    except LearnerError as e:
        if e.type == "RuntimeError" and "leaf" in e.message and "in-place" in e.message:
            raise AssertionError(f"{e.describe()}\n  Likely mistake: {NO_GRAD}: an in-place update of a tensor "
                                 f"that requires grad must run inside `with torch.no_grad():`") from None
        if e.type in ("TypeError", "AttributeError") and "NoneType" in e.message:
            raise AssertionError(f"{e.describe()}\n  Likely mistake: {NO_GRAD}: `w = w - lr * w.grad` outside "
                                 f"torch.no_grad() makes w a new non-leaf tensor of the graph, whose .grad stays "
                                 f"None; update in place (w -= lr * w.grad) inside `with torch.no_grad():`") from None
        raise
    if not (isinstance(res, tuple) and len(res) == 2):
        raise AssertionError(f"{what}: expected a tuple (w, b), got {type(res).__name__}")
    w, b = res
    d = x.shape[1]
    expect_tensor(w, what=f"w from {what}")
    if tuple(w.shape) != (d,):
        raise AssertionError(f"w from {what}: expected shape ({d},) [D], got {tuple(w.shape)}"
                             + (" (squeeze the weight to a vector [D])" if w.numel() == d else ""))
    expect_tensor(b, what=f"b from {what}")
    if b.dim() != 0:
        raise AssertionError(f"b from {what}: expected a 0-d tensor (shape ()), got shape {tuple(b.shape)}. "
                             f"Hint: create it with torch.zeros((), ...)")
    for name, t in (("w", w), ("b", b)):
        if t.dtype != x.dtype:
            raise AssertionError(f"{name} from {what}: expected dtype {x.dtype} (x's dtype), got {t.dtype}")
    return torch.cat([w.reshape(-1), b.reshape(1)])


@check(points=3)
def test_few_steps(ex, rng):
    x, y = _data(rng, 32, 3)
    what = "fit_linear_regression(x[32,3], y[32], lr=0.05, steps=0)"
    got = _fit(ex, x, y, 0.05, 0, what)
    assert_close(got, torch.zeros(4, dtype=F64), atol=0, what=f"(w, b) from {what}",
                 hint="zero initialisation: steps=0 returns w = 0 and b = 0")
    for steps in (1, 10):
        what = f"fit_linear_regression(x[32,3], y[32], lr=0.05, steps={steps})"
        got = _fit(ex, x, y, 0.05, steps, what)
        assert_close(got, _gd(x, y, 0.05, steps), atol=1e-10, rtol=1e-10,
                     what=f"(w, b) concatenated, from {what}, vs gradient descent from zero",
                     hint=HINT, mistakes=_mistakes(x, y, 0.05, steps))


@check(points=3)
def test_converges_to_least_squares(ex, rng):
    x, y = _data(rng, 64, 4)
    what = "fit_linear_regression(x[64,4], y[64], lr=0.1, steps=300)"
    got = _fit(ex, x, y, 0.1, 300, what)
    # the oracle: closed-form least squares on [x, 1]
    design = torch.cat([x, torch.ones(64, 1, dtype=F64)], dim=1)
    exact = torch.linalg.lstsq(design, y.unsqueeze(1)).solution.squeeze(1)
    assert_close(got, exact, atol=1e-7, rtol=1e-7,
                 what=f"(w, b) concatenated, from {what}, vs closed-form least squares", hint=HINT,
                 mistakes=_mistakes(x, y, 0.1, 300))


@check(points=1)
def test_float32(ex, rng):
    x, y = _data(rng, 64, 2, dtype=torch.float32)
    what = "fit_linear_regression(x[64,2] float32, y[64], lr=0.1, steps=200)"
    got = _fit(ex, x, y, 0.1, 200, what)
    design = torch.cat([x.double(), torch.ones(64, 1, dtype=F64)], dim=1)
    exact = torch.linalg.lstsq(design, y.double().unsqueeze(1)).solution.squeeze(1)
    assert_close(got, exact, atol=1e-4, rtol=1e-4, what=f"(w, b) from {what} vs least squares", hint=HINT)


@check(points=1)
def test_detached(ex, impl, rng):
    x, y = _data(rng, 16, 2)
    flags = impl.lib("worker_support.testfns").tensor_flags(ex.fit_linear_regression, x, y, 0.1, 3)
    if not isinstance(flags, list) or len(flags) != 2 or any(f is None for f in flags):
        raise AssertionError("fit_linear_regression must return a tuple of two tensors (w, b)")
    for name, (requires_grad, has_graph) in zip(("w", "b"), flags):
        if requires_grad or has_graph:
            raise AssertionError(f"{name} returned by fit_linear_regression: expected a detached tensor "
                                 f"(requires_grad=False), got one with requires_grad={requires_grad}"
                                 f"{' and a grad_fn' if has_graph else ''}. Hint: return w.detach(), b.detach()")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x, y = _data(rng, 16, 3)
    what = "fit_linear_regression(x[16,3], y[16], lr=0.05, steps=5)"
    got = _fit(ex, x, y, 0.05, 5, what,
               call=lambda fn, *args: call_unchanged(fn, *args, names=("x", "y"), what=what))
    assert_close(got, _gd(x, y, 0.05, 5), atol=1e-10, rtol=1e-10, what=f"(w, b) from {what}", hint=HINT)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    # x and y on `meta`: w and b must be made on x's device, or the first step mixes devices
    x, y = _data(rng, 16, 3)
    expect_device_follows(ex.fit_linear_regression, x, y, 0.05, 3,
                          what="fit_linear_regression(x[16,3], y[16], lr=0.05, steps=3)")


@check(points=1)
def test_layouts(ex, rng):
    x, y = _data(rng, 24, 3)
    x, y = column_major(x), spread(y)
    what = f"fit_linear_regression(x with {describe(x)}, y with {describe(y)}, lr=0.05, steps=10)"
    got = _fit(ex, x, y, 0.05, 10, what, call=lambda fn, *args: call_with_layout(fn, *args, what=what))
    assert_close(got, _gd(x, y, 0.05, 10), atol=1e-10, rtol=1e-10, what=f"(w, b) from {what}", hint=HINT)


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # 2048 samples, 3 steps: a Python loop over the samples (a loss built one term at a time) makes thousands of
    # graph nodes per step; the vectorised loss is a handful. Steps themselves are an inherent loop.
    x, y = _data(rng, 2048, 8, dtype=torch.float32)
    assert_fast(ex.fit_linear_regression, ref.fit_linear_regression, x, y, 0.05, 3, number=3,
                max_ratio=exercise.threshold("speed_max_ratio"),
                what="fit_linear_regression(x[2048,8], y[2048], lr=0.05, steps=3)")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x, y = _data(rng, 32, 3)
    w, b = ex.fit_linear_regression(x.to(device), y.to(device), 0.05, 10)
    for name, t in (("w", w), ("b", b)):
        expect_tensor(t, device=device, what=f"{name} from fit_linear_regression on the GPU")
    got = torch.cat([w.cpu().reshape(-1), b.cpu().reshape(1)])
    assert_close(got, _gd(x, y, 0.05, 10), atol=1e-10, rtol=1e-10, what="(w, b) on the GPU",
                 hint="create w and b with device=x.device")

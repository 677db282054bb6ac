"""Grader for ch02.manual_mlp: mlp_forward_backward(x, y, params) -> (loss, grads), backprop by hand."""
import torch
import torch.nn.functional as F
from support.layouts import call_with_layout, column_major, spread

from torchcourse.grading import (
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
KEYS = ("W2", "b2", "W1", "b1")          # checked from the output backwards: the first wrong one is the clue
NOT_DIVIDED = "softmax gradient not divided by batch: the loss is a mean over N rows, so dlogits = (softmax - " \
              "one_hot(y)) / N"
POST_MASK = "ReLU mask from post-activation"
HINT = "dlogits = (softmax - one_hot(y)) / N; dW2 = dlogitsᵀ a1; da1 = dlogits W2; dz1 = da1 · (z1 > 0); dW1 = dz1ᵀ x"


def _problem(rng, n, d, h, c, dtype=F64, w2_scale=1.0):
    x = torch.randn(n, d, generator=rng, dtype=F64)
    y = torch.randint(0, c, (n,), generator=rng)
    params = {"W1": torch.randn(h, d, generator=rng, dtype=F64) / d ** 0.5,
              "b1": torch.randn(h, generator=rng, dtype=F64) * 0.1,
              "W2": torch.randn(c, h, generator=rng, dtype=F64) / h ** 0.5 * w2_scale,
              "b2": torch.randn(c, generator=rng, dtype=F64) * 0.1}
    return x.to(dtype), y, {k: v.to(dtype) for k, v in params.items()}


def _autograd(x, y, params):
    """The oracle: torch.autograd on the same parameters with F.linear, relu and F.cross_entropy."""
    p = {k: v.detach().double().clone().requires_grad_() for k, v in params.items()}
    logits = F.linear(F.linear(x.double(), p["W1"], p["b1"]).relu(), p["W2"], p["b2"])
    loss = F.cross_entropy(logits, y)
    grads = torch.autograd.grad(loss, [p[k] for k in KEYS])
    return loss.detach(), dict(zip(KEYS, grads))


def _manual(x, y, params, *, divide=True, mask="pre"):
    """Hand-written gradients with the known mistakes switchable (mask: pre, ones, post_values)."""
    x, p = x.double(), {k: v.double() for k, v in params.items()}
    n = x.shape[0]
    z1 = x @ p["W1"].T + p["b1"]
    a1 = z1.clamp_min(0)
    dlogits = (a1 @ p["W2"].T + p["b2"]).softmax(-1) - F.one_hot(y, p["b2"].shape[0]).double()
    if divide:
        dlogits = dlogits / n
    da1 = dlogits @ p["W2"]
    dz1 = {"pre": da1 * (z1 > 0), "ones": da1, "post_values": da1 * a1}[mask]
    return {"W2": dlogits.T @ a1, "b2": dlogits.sum(0), "W1": dz1.T @ x, "b1": dz1.sum(0)}


def _mistakes(x, y, params):
    variants = [(NOT_DIVIDED, _manual(x, y, params, divide=False)),
                (f"{POST_MASK}: the mask was computed as a1 >= 0 from a1 = relu(z1), which is always true; take "
                 f"it from the pre-activation, z1 > 0", _manual(x, y, params, mask="ones")),
                (f"{POST_MASK}: the gradient was multiplied by a1 = relu(z1) itself; multiply by the 0/1 mask "
                 f"(z1 > 0) of the pre-activation", _manual(x, y, params, mask="post_values"))]
    return {k: [(name, g[k]) for name, g in variants] for k in KEYS}


def _call(ex, x, y, params, what, *, call=None):
    """The learner's (loss, grads) after checking types, keys, shapes and dtypes; ``call(fn, *args)`` runs the
    call (default: directly)."""
    res = (call or (lambda fn, *args: fn(*args)))(ex.mlp_forward_backward, x, y, params)
    if not (isinstance(res, tuple) and len(res) == 2):
        raise AssertionError(f"{what}: expected a tuple (loss, grads), got {type(res).__name__}")
    loss, grads = res
    expect_tensor(loss, what=f"loss from {what}")
    if loss.dim() != 0:
        raise AssertionError(f"loss from {what}: expected a 0-d tensor (the mean over the batch), got shape "
                             f"{tuple(loss.shape)}" + (" (per-sample losses: take their mean)"
                                                      if loss.shape == (x.shape[0],) else ""))
    if not isinstance(grads, dict) or set(grads) != set(KEYS):
        got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise AssertionError(f"grads from {what}: expected a dict with the keys {sorted(KEYS)}, got {got}")
    for k in KEYS:
        want = tuple(params[k].shape)
        expect_tensor(grads[k], what=f"grads[{k!r}] from {what}")
        got = tuple(grads[k].shape)
        if got != want:
            likely = ""
            if got == want[::-1] and len(want) == 2:
                likely = (f"\n  Likely mistake: weight transposed: the gradient has the [in, out] layout; "
                          f"params[{k!r}] is [out, in] like nn.Linear.weight, so d{k} = dzᵀ @ (the layer's input)")
            elif len(want) == 1 and got == (x.shape[0], *want):
                likely = "\n  Likely mistake: bias gradient not summed over the batch (sum dz over dim 0)"
            raise AssertionError(f"grads[{k!r}] from {what}: expected shape {want} like params[{k!r}], got {got}"
                                 + likely)
        if grads[k].dtype != params[k].dtype:
            raise AssertionError(f"grads[{k!r}] from {what}: expected dtype {params[k].dtype}, got {grads[k].dtype}")
    return loss, grads


def _judge_grads(grads, expected, mistakes, what, atol):
    for k in KEYS:
        assert_close(grads[k], expected[k], atol=atol, rtol=atol, what=f"grads[{k!r}] from {what}",
                     hint=HINT, mistakes=mistakes[k])


@check(points=2)
def test_loss(ex, rng):
    x, y, params = _problem(rng, 16, 5, 7, 4)
    what = "mlp_forward_backward(x[16,5], y[16], params with H=7, C=4) in float64"
    loss, _ = _call(ex, x, y, params, what)
    expected, _ = _autograd(x, y, params)
    logits = F.linear(F.linear(x, params["W1"], params["b1"]).relu(), params["W2"], params["b2"])
    assert_close(loss, expected, atol=1e-10, rtol=1e-10, what=f"loss from {what}",
                 mistakes=[("loss summed over the batch instead of averaged",
                            F.cross_entropy(logits, y, reduction="sum")),
                           ("no ReLU between the layers", F.cross_entropy(
                               F.linear(F.linear(x, params["W1"], params["b1"]), params["W2"], params["b2"]), y))],
                 hint="loss = mean over rows of -log_softmax(logits)[row, y[row]]")


@check(points=4)
def test_gradients(ex, rng):
    x, y, params = _problem(rng, 16, 5, 7, 4)
    what = "mlp_forward_backward(x[16,5], y[16], params with H=7, C=4) in float64"
    _, grads = _call(ex, x, y, params, what)
    _, expected = _autograd(x, y, params)
    _judge_grads(grads, expected, _mistakes(x, y, params), what, atol=1e-10)


@check(points=1)
def test_large_logits(ex, rng):
    x, y, params = _problem(rng, 8, 5, 7, 4, w2_scale=1000.0)
    what = "mlp_forward_backward with logits in the thousands (float64)"
    loss, grads = _call(ex, x, y, params, what)
    expected_loss, expected = _autograd(x, y, params)
    hint = ("exp overflows above about 709 in float64: subtract each row's max from the logits before the "
            "exp (log-softmax is unchanged by that shift)")
    assert_close(loss, expected_loss, atol=1e-8, rtol=1e-10, what=f"loss from {what}", hint=hint)
    for k in KEYS:
        assert_close(grads[k], expected[k], atol=1e-8, rtol=1e-8, what=f"grads[{k!r}] from {what}", hint=hint)


@check(points=1)
def test_float32(ex, rng):
    x, y, params = _problem(rng, 32, 6, 10, 3, dtype=torch.float32)
    what = "mlp_forward_backward(x[32,6] float32, y[32], params with H=10, C=3)"
    loss, grads = _call(ex, x, y, params, what)
    expected_loss, expected = _autograd(x, y, params)
    if loss.dtype != torch.float32:
        raise AssertionError(f"loss from {what}: expected dtype torch.float32, got {loss.dtype}")
    assert_close(loss, expected_loss, atol=1e-5, rtol=1e-5, what=f"loss from {what}")
    _judge_grads(grads, expected, _mistakes(x, y, params), what, atol=1e-5)


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x, y, params = _problem(rng, 12, 5, 7, 4)
    what = "mlp_forward_backward(x[12,5], y[12], params with H=7, C=4)"
    loss, grads = _call(ex, x, y, params, what,
                        call=lambda fn, *args: call_unchanged(fn, *args, names=("x", "y", "params"), what=what))
    _judge_grads(grads, _autograd(x, y, params)[1], _mistakes(x, y, params), what, atol=1e-10)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    x, y, params = _problem(rng, 12, 5, 7, 4)
    expect_device_follows(ex.mlp_forward_backward, x, y, params,
                          what="mlp_forward_backward(x[12,5], y[12], params with H=7, C=4)")


@check(points=1)
def test_layouts(ex, rng):
    # weights stored transposed (as W.T of an [in, out] tensor would be), x and the biases strided and offset
    x, y, params = _problem(rng, 12, 5, 7, 4)
    x = spread(x)
    params = {k: column_major(v) if v.dim() == 2 else spread(v) for k, v in params.items()}
    what = "mlp_forward_backward(x, y, params) with transposed weights and strided x and biases"
    loss, grads = _call(ex, x, y, params, what, call=lambda fn, *args: call_with_layout(fn, *args, what=what))
    expected_loss, expected = _autograd(x, y, params)
    assert_close(loss, expected_loss, atol=1e-10, rtol=1e-10, what=f"loss from {what}")
    _judge_grads(grads, expected, _mistakes(x, y, params), what, atol=1e-10)


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # a per-sample loop over 2048 rows is the slow way; the vectorised form is a handful of matmuls
    x, y, params = _problem(rng, 2048, 32, 64, 10, dtype=torch.float32)
    assert_fast(ex.mlp_forward_backward, ref.mlp_forward_backward, x, y, params,
                max_ratio=exercise.threshold("speed_max_ratio"), what="mlp_forward_backward(x[2048,32], y, H=64, C=10)")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x, y, params = _problem(rng, 16, 5, 7, 4, dtype=torch.float32)
    what = "mlp_forward_backward on the GPU (float32)"
    loss, grads = _call(ex, x.to(device), y.to(device), {k: v.to(device) for k, v in params.items()}, what)
    expect_tensor(loss, device=device, what=f"loss from {what}")
    for k in KEYS:
        expect_tensor(grads[k], device=device, what=f"grads[{k!r}] from {what}")
    expected_loss, expected = _autograd(x, y, params)
    assert_close(loss, expected_loss, atol=1e-5, rtol=1e-5, what=f"loss from {what}",
                 hint="create new tensors (indices, one-hot) on x's device")
    _judge_grads(grads, expected, _mistakes(x, y, params), what, atol=1e-5)

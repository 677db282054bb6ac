"""Grader for ch02.sigmoid_fn: class Sigmoid(torch.autograd.Function), used as Sigmoid.apply(x)."""
import torch

from torchcourse.grading import (
    assert_close,
    assert_fast,
    call_unchanged,
    check,
    expect_device_follows,
    expect_tensor,
    forbidden_api_check,
    grad_of,
    gradcheck,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
HINT = "dσ/dx = σ(x)·(1 − σ(x)); backward returns grad_output times that"


def _grad_mistakes(x, g):
    s = torch.sigmoid(x)
    return [
        ("saves the input instead of the output, then uses it as σ: x·(1 − x) is not σ(x)·(1 − σ(x))",
         g * x * (1 - x)),
        ("wrong derivative: grad_output not multiplied in (the chain rule: return grad_output · σ(1 − σ))",
         s * (1 - s)),
        ("wrong derivative: σ(x) alone, the (1 − σ(x)) factor is missing", g * s),
        ("wrong derivative: sign flipped, σ(x)·(σ(x) − 1)", -g * s * (1 - s)),
        ("wrong derivative: exp(-x)·σ(x) without the second σ factor", g * torch.exp(-x) * s),
    ]


def _forward_backward(ex, x, g, what):
    out, grads = grad_of(ex.Sigmoid.apply, x.clone().requires_grad_(), grad_outputs=g)
    expect_tensor(out, shape=x.shape, dtype=x.dtype, what=f"Sigmoid.apply({what})")
    if not grads or grads[0] is None:
        raise AssertionError(f"gradient of Sigmoid.apply({what}): expected a tensor, got None. Likely mistake: "
                             f"backward returns None, or forward's result is detached from x")
    return out, grads[0]


@check(points=2)
def test_forward(ex, rng):
    for dtype, atol in ((F64, 1e-12), (torch.float32, 1e-6)):
        x = (torch.randn(4, 7, generator=rng, dtype=F64) * 4).to(dtype)
        out = ex.Sigmoid.apply(x)
        what = f"Sigmoid.apply(x[4,7] {dtype})"
        expect_tensor(out, shape=x.shape, dtype=dtype, what=what)
        assert_close(out, torch.sigmoid(x.double()), atol=atol, what=what,
                     mistakes=[("computed 1 / (1 + exp(x)): the sign of the exponent is wrong",
                                torch.sigmoid(-x.double())),
                               ("computed exp(-x) / (1 + exp(-x)), which is 1 − σ(x)", 1 - torch.sigmoid(x.double()))],
                     hint="σ(x) = 1 / (1 + exp(-x))")


@check(points=1)
def test_large_inputs_finite(ex):
    x = torch.tensor([-100.0, -30.0, 0.0, 30.0, 100.0], dtype=torch.float32)
    out = ex.Sigmoid.apply(x)
    what = "Sigmoid.apply(tensor([-100, -30, 0, 30, 100]) float32)"
    expect_tensor(out, shape=x.shape, dtype=torch.float32, what=what)
    assert_close(out, torch.sigmoid(x.double()), atol=1e-6, what=what,
                 hint="exp(x) overflows float32 above about 88: write σ with exp(-x), i.e. 1 / (1 + exp(-x)); "
                      "exp(-x) = inf only gives 1 / inf = 0 (a formula like exp(x) / (1 + exp(x)) gives inf / inf "
                      "= NaN)")


@check(points=3)
def test_backward_float64(ex, rng):
    # gradcheck-style: the learner's vector-Jacobian product against the exact derivative, in float64,
    # with a random grad_output so that a backward ignoring it is seen
    x = torch.randn(5, 6, generator=rng, dtype=F64) * 3
    g = torch.randn(5, 6, generator=rng, dtype=F64)
    _, gx = _forward_backward(ex, x, g, "x[5,6] float64")
    xr = x.clone().requires_grad_()
    torch.sigmoid(xr).backward(g)
    assert_close(gx, xr.grad, atol=1e-12, what="dL/dx from Sigmoid.backward (float64, random grad_output)",
                 hint=HINT, mistakes=_grad_mistakes(x, g))


@check(points=1)
def test_backward_shapes_and_float32(ex, rng):
    x = torch.randn(2, 3, 4, generator=rng) * 3
    g = torch.randn(2, 3, 4, generator=rng)
    _, gx = _forward_backward(ex, x, g, "x[2,3,4] float32")
    expect_tensor(gx, shape=x.shape, dtype=torch.float32, what="dL/dx for a float32 x[2,3,4]")
    s = torch.sigmoid(x.double())
    assert_close(gx, g.double() * s * (1 - s), atol=1e-6, what="dL/dx for a float32 x[2,3,4]", hint=HINT,
                 mistakes=_grad_mistakes(x.double(), g.double()))


@check(points=1)
def test_backward_matches_forward(ex, rng):
    # no oracle: the learner's backward against finite differences of the learner's own forward
    x = (3 * torch.randn(4, 5, generator=rng, dtype=F64)).requires_grad_()
    gradcheck(ex.Sigmoid.apply, x, generator=rng, what="Sigmoid.apply(x[4,5]) in float64")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x = torch.randn(4, 5, generator=rng, dtype=F64) * 3
    what = "Sigmoid.apply(x[4,5] float64)"
    out = call_unchanged(ex.Sigmoid.apply, x, names=("x",), what=what)
    assert_close(out, torch.sigmoid(x), atol=1e-12, what=what)


@check(points=1, covers=("device",))
def test_device_follows(ex, impl, rng):
    # forward alone, then forward and backward in the worker: both must make their tensors on x's device
    x = torch.randn(4, 5, generator=rng, dtype=F64)
    expect_device_follows(ex.Sigmoid.apply, x, what="Sigmoid.apply(x[4,5])")
    probes = impl.lib("worker_support.autograd_probes")
    expect_device_follows(probes.forward_backward, ex.Sigmoid.apply, x.requires_grad_(),
                          torch.randn(4, 5, generator=rng, dtype=F64),
                          what="Sigmoid.apply(x[4,5]) then backward (dL/dx)")


@check(points=1)
def test_saved_for_backward(ex, impl, rng):
    # x and σ(x) are both doubled in place between forward and backward: tensors saved with
    # ctx.save_for_backward make autograd refuse (their version changed); a tensor kept as ctx.out = out
    # silently gives the gradient of the modified values.
    x0 = (torch.randn(3, 4, generator=rng, dtype=F64) * 2).requires_grad_()
    g = torch.randn(3, 4, generator=rng, dtype=F64)
    kind, value = impl.lib("worker_support.autograd_probes").modified_after_forward(ex.Sigmoid.apply, x0, g)
    if kind == "refused":
        return
    s = torch.sigmoid(x0.detach())
    what = ("dL/dx through Sigmoid when x and σ(x) are modified in place after forward (save_for_backward "
            "would refuse; a copy would keep the right gradient)")
    assert_close(value, 2 * g * s * (1 - s), atol=1e-12, what=what,
                 mistakes=[("a tensor stored on ctx (ctx.out = out) instead of ctx.save_for_backward: backward "
                            "read the output after it was modified in place; save it with ctx.save_for_backward(out) "
                            "so autograd checks it is unchanged", 2 * g * (2 * s) * (1 - 2 * s)),
                           ("a tensor stored on ctx (ctx.x = x) instead of ctx.save_for_backward: backward read "
                            "the input after it was modified in place; save it with ctx.save_for_backward(x)",
                            2 * g * torch.sigmoid(2 * x0.detach()) * (1 - torch.sigmoid(2 * x0.detach())))],
                 hint="save what backward needs with ctx.save_for_backward(...) and read it with ctx.saved_tensors")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # 256K elements: a Python loop over them (even the fastest, math.exp over x.tolist()) pays ~200 ns per
    # element, while any whole-tensor formula (exp, tanh, a torch.where of two branches) pays a few ns.
    x = torch.randn(512, 512, generator=rng) * 4
    assert_fast(ex.Sigmoid.apply, ref.Sigmoid.apply, x, number=3,
                max_ratio=exercise.threshold("speed_max_ratio"), what="Sigmoid.apply(x[512,512])")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x = torch.randn(3, 5, generator=rng) * 3
    g = torch.randn(3, 5, generator=rng)
    out, gx = _forward_backward(ex, x.to(device), g.to(device), "x[3,5] on the GPU")
    expect_tensor(out, device=device, what="Sigmoid.apply(x) on the GPU")
    expect_tensor(gx, device=device, what="dL/dx on the GPU")
    s = torch.sigmoid(x.double())
    assert_close(out, s, atol=1e-6, what="Sigmoid.apply(x) on the GPU")
    assert_close(gx, g.double() * s * (1 - s), atol=1e-6, what="dL/dx on the GPU", hint=HINT)

"""Grader for ch02.sigmoid_fn: class Sigmoid(torch.autograd.Function), used as Sigmoid.apply(x)."""
import torch

from torchcourse.grading import assert_close, check, expect_tensor, forbidden_api_check, grad_of, gradcheck

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

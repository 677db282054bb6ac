"""Grader for ch02.ste: StraightThroughRound.apply(x), torch.round forward, identity backward."""
import torch

from torchcourse.grading import assert_close, call_unchanged, check, expect_device_follows, expect_tensor, grad_of

F64 = torch.float64
HALVES = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49, 0.51, -0.51], dtype=F64)


def _judge_forward(out, x, what):
    expect_tensor(out, shape=x.shape, dtype=x.dtype, what=what)
    assert_close(out, torch.round(x), atol=0, what=what,
                 mistakes=[("rounds halves up with floor(x + 0.5); torch.round rounds halves to even "
                            "(0.5 -> 0, 2.5 -> 2)", torch.floor(x + 0.5)),
                           ("rounds halves away from zero; torch.round rounds halves to even (0.5 -> 0, 2.5 -> 2)",
                            torch.sign(x) * torch.floor(x.abs() + 0.5)),
                           ("truncates toward zero instead of rounding", torch.trunc(x)),
                           ("floors instead of rounding", torch.floor(x))],
                 hint="forward is exactly torch.round(x)")


def _judge_backward(gx, x, g, what):
    if gx is None:
        raise AssertionError(f"{what}: expected a tensor, got None. Likely mistake: zero gradient: no gradient "
                             f"reaches x (round has derivative 0, so the straight-through backward must return "
                             f"grad_output itself)")
    expect_tensor(gx, shape=x.shape, dtype=x.dtype, what=what)
    inside = (x.abs() <= 1).to(g.dtype)
    assert_close(gx, g, atol=0, what=what,
                 mistakes=[("zero gradient: that is round's true derivative, which stops learning; the "
                            "straight-through estimator passes grad_output through unchanged", torch.zeros_like(g)),
                           ("gradient clipped to |x| <= 1 (the hard-tanh variant); this contract is the plain "
                            "identity, no clipping", g * inside),
                           ("returns ones instead of grad_output", torch.ones_like(g))],
                 hint="backward returns grad_output unchanged (the identity)")


@check(points=2)
def test_forward(ex, rng):
    for dtype in (F64, torch.float32):
        x = torch.cat([HALVES, torch.randn(30, generator=rng, dtype=F64) * 4]).to(dtype)
        _judge_forward(ex.StraightThroughRound.apply(x), x, f"StraightThroughRound.apply(x) for x[40] {dtype} "
                                                           f"with halves like ±0.5, ±1.5, 2.5")


@check(points=3)
def test_backward_identity(ex, rng):
    x = torch.cat([HALVES, torch.randn(20, generator=rng, dtype=F64) * 4]).view(5, 6)  # many |x| > 1
    g = torch.randn(5, 6, generator=rng, dtype=F64)
    out, (gx,) = grad_of(ex.StraightThroughRound.apply, x.clone().requires_grad_(), grad_outputs=g)
    _judge_forward(out, x, "StraightThroughRound.apply(x[5,6] float64)")
    _judge_backward(gx, x, g, "dL/dx through StraightThroughRound (float64, random grad_output, |x| up to ~10)")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x = torch.cat([HALVES, torch.randn(6, generator=rng, dtype=F64) * 4])
    what = "StraightThroughRound.apply(x[16] float64)"
    out = call_unchanged(ex.StraightThroughRound.apply, x, names=("x",), what=what)
    _judge_forward(out, x, what)


@check(points=1, covers=("device",))
def test_device_follows(ex, impl, rng):
    x = torch.randn(4, 5, generator=rng, dtype=F64) * 3
    expect_device_follows(ex.StraightThroughRound.apply, x, what="StraightThroughRound.apply(x[4,5])")
    expect_device_follows(impl.lib("worker_support.autograd_probes").forward_backward, ex.StraightThroughRound.apply,
                          x.requires_grad_(), torch.randn(4, 5, generator=rng, dtype=F64),
                          what="StraightThroughRound.apply(x[4,5]) then backward (dL/dx)")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x = torch.cat([HALVES.float(), torch.randn(14, generator=rng) * 4])
    g = torch.randn(24, generator=rng)
    out, (gx,) = grad_of(ex.StraightThroughRound.apply, x.to(device).requires_grad_(), grad_outputs=g.to(device))
    expect_tensor(out, device=device, what="StraightThroughRound.apply(x) on the GPU")
    expect_tensor(gx, device=device, what="dL/dx on the GPU")
    _judge_forward(out.cpu(), x, "StraightThroughRound.apply(x) on the GPU")
    _judge_backward(gx.cpu(), x, g, "dL/dx through StraightThroughRound on the GPU")

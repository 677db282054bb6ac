"""Grader for ch03.linear: Linear(in_features, out_features, bias=True), weight [out, in], U(-1/√in, 1/√in) init."""
import math

import torch
import torch.nn.functional as F
from support.layouts import LAYOUTS, call_with_layout, describe, laid_out

from torchcourse.grading import (
    LearnerError,
    assert_close,
    assert_fast,
    assert_grads_close,
    call_unchanged,
    check,
    expect_device_follows,
    expect_tensor,
    forbidden_api_check,
    grad_of,
    load_state,
    param_grads,
    params,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
TRANSPOSED = "weight transposed"
HINT = "weight is [out_features, in_features]: y = x @ weight.T + bias"


def _attr(h, name):
    try:
        return getattr(h, name)
    except LearnerError as e:
        if e.type == "AttributeError":
            return "missing"
        raise


def _expect_params(h, i, o, bias, what):
    got = {k: tuple(v.shape) for k, v in params(h).items()}
    want = {"weight": (o, i), **({"bias": (o,)} if bias else {})}
    if got == want:
        return
    msg = f"{what}: expected the parameters {want} (names and shapes from module.named_parameters()), got {got}"
    if got.get("weight") == (i, o):
        msg += (f"\n  Likely mistake: {TRANSPOSED}: nn.Linear stores weight as [out_features, in_features] = "
                f"[{o}, {i}] and computes x @ weight.T")
    elif bias and "bias" not in got:
        b = _attr(h, "bias")
        if isinstance(b, torch.Tensor):
            msg += ("\n  Likely mistake: bias not a Parameter: a plain tensor attribute is invisible to "
                    ".parameters(), state_dict(), .to() and optimizers; wrap it in nn.Parameter")
    elif not bias and "bias" in got:
        msg += "\n  Hint: with bias=False there is no bias parameter (self.register_parameter('bias', None))"
    elif "weight" not in got and isinstance(_attr(h, "weight"), torch.Tensor):
        msg += "\n  Likely mistake: weight is not a Parameter: wrap it in nn.Parameter"
    raise AssertionError(msg)


def _loaded(ex, i, o, rng, bias=True):
    h = ex.Linear(i, o, bias=bias)
    _expect_params(h, i, o, bias, f"Linear({i}, {o}, bias={bias})")
    h.double()
    sd = {"weight": torch.randn(o, i, generator=rng, dtype=F64)}
    if bias:
        sd["bias"] = torch.randn(o, generator=rng, dtype=F64)
    load_state(h, sd)
    return h, sd


def _judge_forward(out, x, sd, what, atol=1e-12):
    w, b = sd["weight"], sd.get("bias")
    expected = F.linear(x.double(), w, b)
    expect_tensor(out, shape=expected.shape, dtype=x.dtype, what=what)
    mistakes = [("bias not added", F.linear(x.double(), w))]
    if w.shape[0] == w.shape[1]:
        mistakes.append((f"{TRANSPOSED}: computed x @ weight instead of x @ weight.T", F.linear(x.double(), w.T, b)))
    assert_close(out, expected, atol=atol, rtol=atol, what=what, hint=HINT, mistakes=mistakes)


@check(points=2)
def test_parameters(ex):
    for i, o, bias in ((5, 3, True), (4, 6, True), (5, 3, False)):
        h = ex.Linear(i, o, bias=bias)
        _expect_params(h, i, o, bias, f"Linear({i}, {o}, bias={bias})")
        if not bias:
            b = _attr(h, "bias")
            if b is not None:
                raise AssertionError(f"Linear({i}, {o}, bias=False).bias: expected None, got "
                                     f"{'no attribute' if b == 'missing' else type(b).__name__}. Hint: "
                                     f"self.register_parameter('bias', None)")


@check(points=3)
def test_forward(ex, rng):
    h, sd = _loaded(ex, 5, 3, rng)
    for shape in ((4, 5), (2, 3, 5)):
        x = torch.randn(*shape, generator=rng, dtype=F64)
        _judge_forward(h(x), x, sd, f"Linear(5, 3).forward(x{list(shape)}) (float64, weights loaded) vs F.linear")
    h, sd = _loaded(ex, 4, 4, rng)
    x = torch.randn(6, 4, generator=rng, dtype=F64)
    _judge_forward(h(x), x, sd, "Linear(4, 4).forward(x[6,4]) (float64, weights loaded) vs F.linear")


@check(points=1)
def test_no_bias(ex, rng):
    h, sd = _loaded(ex, 5, 3, rng, bias=False)
    x = torch.randn(7, 5, generator=rng, dtype=F64)
    _judge_forward(h(x), x, sd, "Linear(5, 3, bias=False).forward(x[7,5]) vs F.linear")


@check(points=1)
def test_gradients(ex, rng):
    h, sd = _loaded(ex, 5, 3, rng)
    x = torch.randn(4, 5, generator=rng, dtype=F64)
    g = torch.randn(4, 3, generator=rng, dtype=F64)
    _, (gx,) = grad_of(h, x.clone().requires_grad_(), grad_outputs=g)
    p = {k: v.clone().requires_grad_() for k, v in sd.items()}
    xr = x.clone().requires_grad_()
    F.linear(xr, p["weight"], p["bias"]).backward(g)
    assert_close(gx, xr.grad, atol=1e-12, what="dL/dx through Linear(5, 3) (float64)", hint=HINT)
    assert_grads_close(param_grads(h), {name: p[name].grad for name in ("weight", "bias")}, atol=1e-12,
                       what="Linear(5, 3), float64", hint=HINT)


def _ks_uniform(v, bound):
    """Kolmogorov–Smirnov distance between the sample v and U(-bound, bound)."""
    s = v.double().flatten().sort().values
    n = s.numel()
    cdf = ((s + bound) / (2 * bound)).clamp(0, 1)
    i = torch.arange(1, n + 1, dtype=F64)
    return max((i / n - cdf).max().item(), (cdf - (i - 1) / n).max().item())


def _judge_uniform(v, bound, what, *, bins, flat_tol, ks_max, candidates):
    """v must look like U(-bound, bound): inside the bounds, reaching them, flat histogram, small KS distance."""
    v = v.double().flatten()
    lo, hi, top = v.min().item(), v.max().item(), v.abs().max().item()
    if top == 0:
        raise AssertionError(f"{what}: every value is 0. Likely mistake: left at zero (torch.zeros); draw from "
                             f"U(-{bound:.4g}, {bound:.4g})")
    named = [name for name, b in candidates if abs(top / b - 1) < 0.01]
    likely = f"\n  Likely mistake: {named[0]}" if named else ""
    if top > bound * (1 + 1e-6) or hi < 0.98 * bound or lo > -0.98 * bound:
        raise AssertionError(f"{what}: expected values spread over U(-{bound:.5g}, {bound:.5g}) = U(-1/√in, 1/√in), "
                             f"got min {lo:.5g}, max {hi:.5g} ({v.numel()} values){likely}")
    counts = torch.histc(v, bins=bins, min=-bound, max=bound)
    expected = v.numel() / bins
    worst = (counts / expected - 1).abs().max().item()
    ks = _ks_uniform(v, bound)
    if worst > flat_tol or ks > ks_max:
        shape = ("piled up in the middle: normal values (randn) instead of uniform"
                 if counts[bins // 2] > counts[0] * 1.5 else "not uniform")
        raise AssertionError(f"{what}: the values stay within ±{bound:.5g} but are not uniformly spread: histogram "
                             f"of {bins} bins {counts.long().tolist()} (each should hold about {expected:.0f}, "
                             f"within ±{flat_tol:.0%}), Kolmogorov–Smirnov distance {ks:.4f} to U(-bound, bound) "
                             f"(limit {ks_max}).\n  Likely mistake: {shape}")


def _candidates(i, o):
    return [("bound uses out_features (fan_out) instead of in_features: 1/√out", 1 / math.sqrt(o)),
            ("bound 1/in instead of 1/√in", 1 / i),
            ("Xavier's bound √(6/(in+out)) instead of nn.Linear's 1/√in", math.sqrt(6 / (i + o))),
            ("Kaiming-uniform bound √(6/in) (a=0) instead of nn.Linear's 1/√in", math.sqrt(6 / i)),
            ("U(-1, 1) instead of U(-1/√in, 1/√in)", 1.0)]


@check(points=2)
def test_init_weight(ex):
    # 262144 draws: 16 bins of ~16384 (sd ~124) stay within ±6% (6.6 sd); KS stays below 0.012 (critical
    # value 0.0073 at p = 1e-12); a normal with the same bound fails both by far
    i, o = 256, 1024
    w = params(ex.Linear(i, o)).get("weight")
    if w is None:
        raise AssertionError(f"Linear({i}, {o}) has no parameter named weight")
    expect_tensor(w, shape=(o, i), dtype=torch.float32, what=f"Linear({i}, {o}).weight")
    _judge_uniform(w, 1 / math.sqrt(i), f"Linear({i}, {o}).weight at initialisation", bins=16, flat_tol=0.06,
                   ks_max=0.012, candidates=_candidates(i, o))


@check(points=1)
def test_init_bias(ex):
    # 8192 draws: 8 bins of ~1024 (sd ~30) stay within ±20% (6.8 sd); KS below 0.06 (critical 0.041 at p = 1e-12)
    i, o = 16, 8192
    b = params(ex.Linear(i, o)).get("bias")
    if b is None:
        raise AssertionError(f"Linear({i}, {o}) has no parameter named bias. Likely mistake: bias not a Parameter")
    expect_tensor(b, shape=(o,), dtype=torch.float32, what=f"Linear({i}, {o}).bias")
    if (b == 0).all():
        raise AssertionError(f"Linear({i}, {o}).bias at initialisation: every value is 0. Likely mistake: bias "
                             f"initialised to zeros; nn.Linear draws it from U(-1/√in, 1/√in) like the weight")
    _judge_uniform(b, 1 / math.sqrt(i), f"Linear({i}, {o}).bias at initialisation", bins=8, flat_tol=0.2,
                   ks_max=0.06, candidates=_candidates(i, o))


@check(points=1, covers=("inputs",))
def test_input_unchanged(ex, rng):
    h, sd = _loaded(ex, 5, 3, rng)
    for shape in ((4, 5), (2, 3, 5)):
        x = torch.randn(*shape, generator=rng, dtype=F64)
        what = f"Linear(5, 3).forward(x{list(shape)})"
        _judge_forward(call_unchanged(h, x, names=("x",), what=what), x, sd, what)


@check(points=1)
def test_input_layouts(ex, rng):
    h, sd = _loaded(ex, 5, 3, rng)
    x = torch.randn(2, 4, 5, generator=rng, dtype=F64)
    cases = [laid_out(x, how) for how in LAYOUTS] + [torch.randn(1, 5, generator=rng, dtype=F64).expand(6, 5)]
    for x in cases:
        what = f"Linear(5, 3).forward(x) with x {describe(x)} (not contiguous, as a caller may pass it)"
        _judge_forward(call_with_layout(h, x, what=what), x, sd, what)


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    for bias in (True, False):
        h = ex.Linear(5, 3, bias=bias)
        h.to("meta")
        what = f"Linear(5, 3, bias={bias}).to('meta').forward(x[4, 5] on meta)"
        out = expect_device_follows(h, torch.randn(4, 5, generator=rng), what=what)
        expect_tensor(out, shape=(4, 3), dtype=torch.float32, device="meta", what=what,
                      hint="module.to(device) moves what is registered (parameters, buffers); build nothing "
                           "on the CPU in forward")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # a long, thin batch: a loop over its 8192 rows costs far more than one matmul, while even the
    # [N, out, in] broadcast product stays small (measured ratios in chapter.toml)
    sd = {"weight": torch.randn(2, 4, generator=rng), "bias": torch.randn(2, generator=rng)}
    mine, theirs = ex.Linear(4, 2), ref.Linear(4, 2)
    load_state(mine, sd)
    load_state(theirs, sd)
    x = torch.randn(8192, 4, generator=rng)
    assert_fast(mine, theirs, x, number=2, max_ratio=exercise.threshold("speed_max_ratio"),
                what="Linear(4, 2).forward(x[8192, 4])")


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    h, sd = _loaded(ex, 5, 3, rng)
    h.float()
    h.to(device)
    x = torch.randn(4, 5, generator=rng)
    out = h(x.to(device))
    expect_tensor(out, shape=(4, 3), dtype=torch.float32, device=device, what="Linear(5, 3) on the GPU")
    assert_close(out, F.linear(x.double(), sd["weight"], sd["bias"]), atol=1e-5, rtol=1e-5,
                 what="Linear(5, 3) on the GPU vs F.linear in float64", hint=HINT)

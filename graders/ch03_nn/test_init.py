"""Grader for ch03.init: kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="relu") and xavier_uniform_(t, gain=1.0).

Statistics are judged on 131072 to 262144 draws with limits many standard errors wide, so they cannot flake:
sample std within 2% (its standard error is 0.2%), |mean| below 0.02·std (7 standard errors), Kolmogorov–Smirnov
distance to the expected shape below 0.015 (the critical value at p = 1e-12 is about 0.010; normal vs uniform
of the same std are 0.057 apart), histogram bins within ±10% (at least 8 standard deviations).
"""
import math

import torch
from support.layouts import describe, laid_out

from torchcourse.grading import (
    LearnerError,
    assert_fast,
    check,
    expect_device_follows,
    expect_raises,
    expect_tensor,
    forbidden_api_check,
    put,
)

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
SWAPPED = "fan_in/fan_out swapped"
KS_MAX = 0.015


def _fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _normal_cdf(z):
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


def _ks(sorted_values, cdf):
    n = sorted_values.numel()
    i = torch.arange(1, n + 1, dtype=F64)
    return max((i / n - cdf).max().item(), (cdf - (i - 1) / n).max().item())


def _call(fn, t, what, *args, **kwargs):
    try:
        out = fn(t, *args, **kwargs)
    except LearnerError as e:
        if e.type == "RuntimeError" and "leaf" in e.message and "in-place" in e.message:
            raise AssertionError(f"{e.describe()}\n  Likely mistake: the in-place fill is not under torch.no_grad(): "
                                 f"a Parameter requires grad, so wrap the fill in `with torch.no_grad():`") from None
        raise
    if out is None:
        raise AssertionError(f"{what}: returned None; like nn.init, fill t in place and return t")
    expect_tensor(out, shape=t.shape, dtype=t.dtype, what=what)
    return out


def _named(value, candidates, tol):
    for name, predicted in candidates:
        if abs(value / predicted - 1) < tol:
            return f"\n  Likely mistake: {name}"
    return ""


def _judge_normal(out, std, what, candidates):
    v = out.double().flatten()
    n = v.numel()
    mean, s = v.mean().item(), v.std().item()
    if s == 0:
        raise AssertionError(f"{what}: every value is {mean:g}; expected draws from N(0, {std:.5g}²)")
    if abs(s / std - 1) > 0.02:
        raise AssertionError(f"{what}: expected std {std:.5g} (gain / √fan), got {s:.5g} over {n} values "
                             f"(tolerance 2%){_named(s, candidates, 0.02)}")
    if abs(mean) > 0.02 * std:
        raise AssertionError(f"{what}: expected mean 0, got {mean:.3g} (std {s:.3g}, {n} values)")
    ks = _ks(v.sort().values, _normal_cdf((v.sort().values - mean) / s))
    if ks > KS_MAX:
        beyond = ((v - mean).abs() > 2 * s).double().mean().item()
        shape = ("uniform values instead of normal (nothing beyond 2 std; a normal has 4.6% there)"
                 if beyond < 0.01 else "not normally distributed")
        raise AssertionError(f"{what}: the std is right ({s:.5g}) but the values are not normal: "
                             f"Kolmogorov–Smirnov distance {ks:.4f} to N(mean, std²) (limit {KS_MAX}), "
                             f"{beyond:.2%} of the values beyond 2 std.\n  Likely mistake: {shape}")


def _judge_uniform(out, bound, what, candidates):
    v = out.double().flatten()
    n = v.numel()
    lo, hi, top = v.min().item(), v.max().item(), v.abs().max().item()
    if top == 0:
        raise AssertionError(f"{what}: every value is 0; expected draws from U(-{bound:.5g}, {bound:.5g})")
    if top > bound * (1 + 1e-6) or hi < 0.99 * bound or lo > -0.99 * bound:
        # name the mistake by the largest value, or by the std for a normal fill (std = bound/√3 when uniform)
        likely = _named(top, candidates, 0.01) or _named(v.std().item(), [(m, b / math.sqrt(3))
                                                                           for m, b in candidates], 0.02)
        raise AssertionError(f"{what}: expected values filling U(-{bound:.5g}, {bound:.5g}) with bound = gain·"
                             f"√(6/(fan_in + fan_out)), got min {lo:.5g}, max {hi:.5g} over {n} values{likely}")
    bins = 16
    counts = torch.histc(v, bins=bins, min=-bound, max=bound)
    worst = (counts / (n / bins) - 1).abs().max().item()
    s = v.sort().values
    ks = _ks(s, ((s + bound) / (2 * bound)).clamp(0, 1))
    if worst > 0.10 or ks > KS_MAX:
        likely = ("normal values clipped to the bound instead of uniform" if counts[bins // 2] > 1.5 * counts[0]
                  else "not uniform")
        raise AssertionError(f"{what}: the values stay within ±{bound:.5g} but are not uniform: histogram of "
                             f"{bins} bins {counts.long().tolist()} (each should hold about {n / bins:.0f}, within "
                             f"±10%), Kolmogorov–Smirnov distance {ks:.4f} to U(-bound, bound) (limit {KS_MAX})."
                             f"\n  Likely mistake: {likely}")


def _kaiming_case(ex, shape, what, *, a=0.0, mode="fan_in", nonlinearity="relu", dtype=torch.float32, device="cpu"):
    fan_in, fan_out = _fans(shape)
    gain = {"relu": math.sqrt(2), "tanh": 5 / 3, "linear": 1.0, "sigmoid": 1.0,
            "leaky_relu": math.sqrt(2 / (1 + a * a))}[nonlinearity]
    fan, other = (fan_in, fan_out) if mode == "fan_in" else (fan_out, fan_in)
    std = gain / math.sqrt(fan)
    candidates = [(f"{SWAPPED}: for a weight [out, in, *kernel], fan_in = in · kernel size and fan_out = "
                   f"out · kernel size (mode={mode!r} wants {fan}, not {other})", gain / math.sqrt(other)),
                  ("receptive field ignored: for a conv kernel, fan = channels × kernel size",
                   gain / math.sqrt(shape[1] if mode == "fan_in" else shape[0])),
                  ("gain missing: std = gain / √fan", 1 / math.sqrt(fan)),
                  ("gain² used instead of gain (std = gain/√fan, variance = gain²/fan)", gain ** 2 / math.sqrt(fan)),
                  ("variance used as std: std = gain / √fan, not gain² / fan", gain ** 2 / fan),
                  (f"wrong gain for {nonlinearity!r}: ReLU's √2 used", math.sqrt(2) / math.sqrt(fan))]
    t = torch.empty(shape, dtype=dtype)
    out = _call(ex.kaiming_normal_, t.to(device), what, a=a, mode=mode, nonlinearity=nonlinearity)
    expect_tensor(out, device=device, what=what)
    _judge_normal(out.cpu(), std, what, candidates)


@check(points=3)
def test_kaiming_relu_fan_in(ex):
    _kaiming_case(ex, (512, 256), "kaiming_normal_(torch.empty(512, 256)) (relu, fan_in = 256: std √2/16)")


@check(points=2)
def test_kaiming_modes_and_gains(ex):
    _kaiming_case(ex, (512, 256), "kaiming_normal_(torch.empty(512, 256), mode='fan_out') (fan_out = 512)",
                  mode="fan_out")
    _kaiming_case(ex, (256, 64, 3, 3), "kaiming_normal_(conv kernel [256, 64, 3, 3]) (fan_in = 64·9 = 576)")
    _kaiming_case(ex, (256, 512), "kaiming_normal_(torch.empty(256, 512), a=0.5, nonlinearity='leaky_relu') "
                                  "(gain √(2/(1 + a²)))", a=0.5, nonlinearity="leaky_relu")
    _kaiming_case(ex, (256, 512), "kaiming_normal_(torch.empty(256, 512), nonlinearity='tanh') (gain 5/3)",
                  nonlinearity="tanh")
    _kaiming_case(ex, (256, 512), "kaiming_normal_(torch.empty(256, 512, dtype=float64), nonlinearity='linear') "
                                  "(gain 1)", nonlinearity="linear", dtype=F64)


def _xavier_case(ex, shape, what, *, gain=1.0, dtype=torch.float32, device="cpu"):
    fan_in, fan_out = _fans(shape)
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    candidates = [("gain ignored: bound = gain · √(6/(fan_in + fan_out))", math.sqrt(6 / (fan_in + fan_out))),
                  ("receptive field ignored: for a conv kernel, fans are channels × kernel size",
                   gain * math.sqrt(6 / (shape[0] + shape[1]))),
                  ("the normal std gain·√(2/(fan_in + fan_out)) used as the uniform bound; the bound is "
                   "gain·√(6/(fan_in + fan_out))", gain * math.sqrt(2 / (fan_in + fan_out))),
                  ("bound √(6/fan_in): use fan_in + fan_out", gain * math.sqrt(6 / fan_in)),
                  ("bound √(3/(fan_in + fan_out)): the numerator is 6", gain * math.sqrt(3 / (fan_in + fan_out)))]
    out = _call(ex.xavier_uniform_, torch.empty(shape, dtype=dtype).to(device), what, gain=gain)
    expect_tensor(out, device=device, what=what)
    _judge_uniform(out.cpu(), bound, what, candidates)


@check(points=3)
def test_xavier(ex):
    _xavier_case(ex, (256, 512), "xavier_uniform_(torch.empty(256, 512)) (bound √(6/768))")
    _xavier_case(ex, (512, 256), "xavier_uniform_(torch.empty(512, 256, dtype=float64), gain=2.0)", gain=2.0,
                 dtype=F64)
    _xavier_case(ex, (128, 128, 3, 3), "xavier_uniform_(conv kernel [128, 128, 3, 3]) (fans 128·9 each)")


@check(points=2)
def test_in_place_no_grad(ex, impl):
    for name in ("kaiming_normal_", "xavier_uniform_"):
        ph = put(impl, torch.nn.Parameter(torch.zeros(64, 32)))      # a Parameter living in the worker
        what = f"{name}(nn.Parameter(torch.zeros(64, 32)))"
        out = _call(getattr(ex, name), ph, what)
        after = ph.detach()
        if (after == 0).all():
            raise AssertionError(f"{what}: the parameter itself is still all zeros after the call. Likely mistake: "
                                 f"not in place: a new tensor was returned; fill t itself (t.normal_, t.uniform_, "
                                 f"or t.copy_) under torch.no_grad() and return t")
        if not torch.equal(out, after):
            raise AssertionError(f"{what}: the returned tensor differs from the filled parameter; return t itself")
        if not ph.requires_grad:
            raise AssertionError(f"{what}: the parameter no longer requires grad; fill it under torch.no_grad() "
                                 f"instead of detaching it")


@check(points=1)
def test_rejects_1d(ex):
    for name in ("kaiming_normal_", "xavier_uniform_"):
        expect_raises(ValueError, getattr(ex, name), torch.empty(10),
                      what=f"{name}(torch.empty(10)) (fan in and fan out need at least 2 dimensions)")
        expect_raises(ValueError, getattr(ex, name), torch.empty(()),
                      what=f"{name}(torch.empty(())) (a 0-d tensor has no fans either: t.dim() < 2 raises)")


@check(points=1, covers=("inputs",))
def test_fills_t_as_laid_out(ex, impl):
    # the contract is to fill t in place: t keeps its shape, strides, offset, dtype and requires_grad, whatever
    # its layout (a transposed weight, a slice of a bigger tensor), and it is t itself that is returned, filled
    for how in ("transposed", "strided"):
        for name in ("kaiming_normal_", "xavier_uniform_"):
            t = laid_out(torch.zeros(128, 64), how)
            what = f"{name}(t) with t {describe(t)} (a {how} tensor)"
            th = put(impl, t)
            try:
                out = _call(getattr(ex, name), th, what)
            except LearnerError as e:
                if "view size is not compatible" in e.message:
                    raise AssertionError(f"{what}: {e.describe()}\n  Likely mistake: t.view(-1) needs a contiguous "
                                         f"t; fill t itself (t.normal_(), t.uniform_(), t.copy_(values)), whatever "
                                         f"its layout") from None
                raise
            after = th.detach()
            layout = (tuple(after.shape), after.stride(), after.storage_offset(), after.dtype)
            if layout != (tuple(t.shape), t.stride(), t.storage_offset(), t.dtype):
                raise AssertionError(f"{what}: t changed its layout to {describe(after)} ({after.dtype}). Likely "
                                     f"mistake: t was replaced (t.data = ..., t.set_(...)) instead of filled in place")
            if (after == 0).all():
                raise AssertionError(f"{what}: t itself is still all zeros after the call. Likely mistake: a copy "
                                     f"was filled (t.reshape(-1) or t.contiguous() copy a non-contiguous t); fill t "
                                     f"itself (t.normal_(), t.uniform_(), or t.copy_(values))")
            if not torch.equal(out, after):
                raise AssertionError(f"{what}: the returned tensor differs from t after the call; return t itself")


@check(points=1, covers=("device",))
def test_device_follows(ex):
    for name in ("kaiming_normal_", "xavier_uniform_"):
        what = f"{name}(t) with t = torch.empty(64, 32) on the `meta` device"
        try:
            out = expect_device_follows(getattr(ex, name), torch.empty(64, 32), what=what)
        except LearnerError as e:
            if "incompatible tensor type" in e.message or "set_data" in e.message:
                raise AssertionError(f"{what}: {e.describe()}\n  Likely mistake: t.data = <a new tensor made on the "
                                     f"CPU>: that swaps t's storage for one on another device (a parameter on a GPU "
                                     f"would end up on the CPU); fill t in place on its own device (t.normal_(), "
                                     f"t.uniform_(), t.copy_(values))") from None
            raise
        expect_tensor(out, shape=(64, 32), dtype=torch.float32, device="meta", what=what,
                      hint="fill t where it lives and return t")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, exercise):
    # 8192 elements: a loop over them (random.gauss per element) costs far more than one fill (ratios in
    # chapter.toml); the values are random, so the timed results are not compared with the reference's
    for name, kw in (("kaiming_normal_", {}), ("xavier_uniform_", {"gain": 1.0})):
        assert_fast(getattr(ex, name), getattr(ref, name), torch.zeros(128, 64), number=2, verify=False,
                    max_ratio=exercise.threshold("speed_max_ratio"), what=f"{name}(torch.empty(128, 64))", **kw)


@check(points=1, gpu=True)
def test_gpu(ex, device):
    _kaiming_case(ex, (512, 256), "kaiming_normal_(torch.empty(512, 256, device='cuda'))", device=device)
    _xavier_case(ex, (256, 512), "xavier_uniform_(torch.empty(256, 512, device='cuda'))", device=device)

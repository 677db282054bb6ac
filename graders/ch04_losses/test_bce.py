"""Grader for ch04.bce: bce_with_logits(logits, target, pos_weight=None) -> 0-d mean loss."""
import torch
import torch.nn.functional as F
from support.layouts import call_with_layout, describe, laid_out

from torchcourse.grading import (
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
SIGMOID_LOG = ("sigmoid then log: σ(x) rounds to exactly 1 or 0 for large |x| (σ(100) == 1.0 in float32) and "
               "log(0) = -inf; or log(1 + exp(x)), where exp(x) overflows")
STABLE = ("use log σ(x) = F.logsigmoid(x) and log(1 − σ(x)) = F.logsigmoid(−x) (= −F.softplus(x)), which are "
          "finite for every x")


def _randn(rng, *shape, dtype=F64, scale=1.0):
    return torch.randn(*shape, generator=rng, dtype=dtype) * scale


def _hard(rng, *shape, dtype=F64):
    return (torch.rand(*shape, generator=rng) < 0.5).to(dtype)


def _manual(x, y, pw=None, *, where="positive", reduce="mean"):
    """Trusted explicit loss in float64, and what each known mistake computes instead."""
    x, y = x.double(), y.double()
    w = torch.ones(()) if pw is None else pw.double()
    pos, neg = y * F.softplus(-x), (1 - y) * F.softplus(x)        # −y·log σ(x), −(1 − y)·log(1 − σ(x))
    if where == "positive":
        loss = w * pos + neg
    elif where == "negative":
        loss = pos + w * neg
    else:                                                          # the whole loss
        loss = w * (pos + neg)
    return loss.sum() if reduce == "sum" else loss.mean()


def _mistakes(x, y, pw=None):
    m = [("sum instead of mean", _manual(x, y, pw, reduce="sum")),
         ("sign error: the loss must be −[y·log σ(x) + (1 − y)·log(1 − σ(x))], which is positive",
          -_manual(x, y, pw)),
         ("target and 1 − target swapped (y must go with log σ(x))", _manual(x, 1 - y, pw))]
    if pw is not None:
        m = [("pos_weight applied to the negative term instead of the positive one (y·log σ(x))",
              _manual(x, y, pw, where="negative")),
             ("pos_weight multiplies the whole loss instead of the positive term only",
              _manual(x, y, pw, where="all")),
             ("pos_weight ignored", _manual(x, y))] + m
    return m


def _call(ex, what, x, y, pw=None):
    out = ex.bce_with_logits(x, y) if pw is None else ex.bce_with_logits(x, y, pos_weight=pw)
    expect_tensor(out, what=what)
    if out.dim() != 0:
        raise AssertionError(f"{what}: expected a 0-d tensor (the mean over every element), got shape "
                             f"{tuple(out.shape)}. Likely mistake: the loss was not averaged (.mean())")
    expect_tensor(out, shape=(), dtype=x.dtype, device=x.device, what=what)
    return out


def _judge(ex, what, x, y, pw=None, *, atol=1e-10, hint=None):
    out = _call(ex, what, x, y, pw)
    expected = F.binary_cross_entropy_with_logits(x.double(), y.double(),
                                                  pos_weight=None if pw is None else pw.double())
    if not torch.isfinite(out):
        raise AssertionError(f"{what}: expected a finite loss ({expected.item():.6g}), got {out.item()}. "
                             f"Likely mistake: {SIGMOID_LOG}.\n  Hint: {STABLE}")
    assert_close(out, expected, atol=atol, rtol=atol, what=what, hint=hint, mistakes=_mistakes(x, y, pw))


@check(points=2)
def test_matches_builtin(ex, rng):
    for shape in ((8, 3), (5,), (2, 3, 4)):
        _judge(ex, f"bce_with_logits(logits{list(shape)}, 0/1 targets) in float64", _randn(rng, *shape, scale=3.0),
               _hard(rng, *shape), hint="loss = mean of −[y·log σ(x) + (1 − y)·log(1 − σ(x))] over every element")


@check(points=1)
def test_soft_targets(ex, rng):
    x, y = _randn(rng, 6, 5, scale=2.0), torch.rand(6, 5, generator=rng, dtype=F64)
    _judge(ex, "bce_with_logits with soft targets in [0, 1] (float64)", x, y,
           hint="the formula holds for any y in [0, 1]: do not round or threshold the target")


@check(points=2)
def test_pos_weight(ex, rng):
    x, y = _randn(rng, 7, 4, scale=2.0), _hard(rng, 7, 4)
    pw = torch.tensor([0.5, 1.0, 3.0, 10.0], dtype=F64)
    _judge(ex, "bce_with_logits(logits[7,4], target[7,4], pos_weight[4]) in float64", x, y, pw,
           hint="pos_weight multiplies only the positive term: −[pos_weight·y·log σ(x) + (1 − y)·log(1 − σ(x))]")
    x, y = _randn(rng, 2, 3, 4, scale=2.0), torch.rand(2, 3, 4, generator=rng, dtype=F64)
    _judge(ex, "bce_with_logits(logits[2,3,4], soft targets, pos_weight[4]) in float64", x, y, pw,
           hint="pos_weight [C] broadcasts against the last axis of the logits")


@check(points=2)
def test_extreme_logits(ex, rng):
    # one confidently wrong element: the loss must be ≈ |x|, not a clamped constant
    for v in (100.0, -100.0):
        x, y = torch.tensor([v]), torch.tensor([0.0 if v > 0 else 1.0])
        out = _call(ex, f"bce_with_logits([{v:g}], [{y.item():g}])", x, y)
        if torch.isfinite(out) and out.item() < 0.9 * abs(v):
            raise AssertionError(
                f"bce_with_logits([{v:g}], [{y.item():g}]) in float32: expected {abs(v):g} (the loss of a confidently "
                f"wrong prediction grows like |x|), got {out.item():.6g}. Likely mistake: probabilities clamped "
                f"to [eps, 1 − eps] before the log, so the loss saturates at −log(eps).\n  Hint: {STABLE}")
    # every combination of a confident logit and a label: right (loss ≈ 0) and wrong (loss ≈ |x|)
    big = torch.tensor([100.0, -100.0, 30.0, -30.0, 17.0, -17.0, 0.5])
    x32 = big.repeat(2)
    y32 = torch.cat([torch.ones(7), torch.zeros(7)])
    pw = torch.tensor(2.0)
    for x, y, label in ((x32, y32, "float32 logits ±100, ±30, ±17"),
                        (x32.double() * 10, y32.double(), "float64 logits ±1000, ±300, ±170")):
        what = f"bce_with_logits on {label}"
        _judge(ex, what, x, y, atol=1e-5 if x.dtype == torch.float32 else 1e-10,
               hint=f"{STABLE}; a loss that stops growing at large |x| means the probabilities were clamped")
        _judge(ex, f"{what}, pos_weight=2", x, y, pw.to(x.dtype), atol=1e-5 if x.dtype == torch.float32 else 1e-10,
               hint=STABLE)


@check(points=2)
def test_gradients(ex, rng):
    x = torch.cat([_randn(rng, 9, scale=3.0), torch.tensor([100.0, -100.0, 40.0], dtype=F64)]).reshape(3, 4)
    y = torch.cat([torch.rand(9, generator=rng, dtype=F64), torch.tensor([0.0, 1.0, 1.0], dtype=F64)]).reshape(3, 4)
    pw = torch.tensor([1.0, 2.0, 0.5, 4.0], dtype=F64)
    xg = x.clone().requires_grad_()
    _, (g,) = grad_of(ex.bce_with_logits, xg, y, pos_weight=pw)
    ref = x.clone().requires_grad_()
    F.binary_cross_entropy_with_logits(ref, y, pos_weight=pw).backward()
    if not torch.isfinite(g).all():
        raise AssertionError(f"gradient of bce_with_logits wrt logits including ±100: expected finite values, got "
                             f"{g.flatten().tolist()}. Likely mistake: {SIGMOID_LOG}.\n  Hint: {STABLE}")
    assert_close(g, ref.grad, atol=1e-10, rtol=1e-10,
                 what="gradient of bce_with_logits(logits[3,4] including ±100, soft targets, pos_weight[4]) in float64",
                 hint="the gradient is (σ(x)·(pos_weight·y + 1 − y) − pos_weight·y) / numel; build the loss from "
                      "differentiable, stable ops (logsigmoid, softplus)")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # a Python loop over the 2048 rows costs ~100x the elementwise form
    x, y = _randn(rng, 2048, 8, dtype=torch.float32), _hard(rng, 2048, 8, dtype=torch.float32)
    assert_fast(ex.bce_with_logits, ref.bce_with_logits, x, y, number=2,
                max_ratio=exercise.threshold("speed_max_ratio"), what="bce_with_logits(logits[2048,8], ...)")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    x, y = _randn(rng, 5, 4, scale=3.0), torch.rand(5, 4, generator=rng, dtype=F64)
    pw = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=F64)
    for kw in ({}, {"pos_weight": pw}):
        what = f"bce_with_logits(logits[5,4], soft targets{', pos_weight[4]' if kw else ''})"
        out = call_unchanged(ex.bce_with_logits, x, y, names=("logits", "target"), what=what, **kw)
        expect_tensor(out, shape=(), dtype=F64, what=what)
        assert_close(out, F.binary_cross_entropy_with_logits(x, y, **kw), atol=1e-10, rtol=1e-10, what=what,
                     mistakes=_mistakes(x, y, kw.get("pos_weight")))


@check(points=1)
def test_input_layouts(ex, rng):
    pw = laid_out(torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=F64), "strided")
    cases = [(_randn(rng, 4, 6, scale=3.0).t(), _hard(rng, 4, 6).t(), None, "transposed logits and target"),
             (_randn(rng, 4, 6, scale=3.0).t(), _hard(rng, 6, 4), None, "transposed logits"),
             (_randn(rng, 6, 4, scale=3.0), _hard(rng, 1, 4).expand(6, 4), pw, "expanded target, strided pos_weight"),
             (laid_out(_randn(rng, 3, 6, 4), "transposed"), laid_out(torch.rand(3, 6, 4, generator=rng, dtype=F64),
                                                                     "offset"), pw, "transposed logits, offset target")]
    for x, y, w, label in cases:
        what = f"bce_with_logits with {label}: logits {describe(x)}, target {describe(y)}"
        out = call_with_layout(ex.bce_with_logits, x, y, what=what, **({} if w is None else {"pos_weight": w}))
        expect_tensor(out, shape=(), dtype=F64, what=what)
        assert_close(out, F.binary_cross_entropy_with_logits(x, y, pos_weight=w), atol=1e-10, rtol=1e-10, what=what,
                     mistakes=_mistakes(x, y, w))


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    x, y = _randn(rng, 6, 4, dtype=torch.float32), _hard(rng, 6, 4, dtype=torch.float32)
    for kw in ({}, {"pos_weight": torch.tensor([1.0, 2.0, 3.0, 4.0])}):
        what = f"bce_with_logits(logits[6,4], target[6,4]{', pos_weight[4]' if kw else ''}) on the `meta` device"
        out = expect_device_follows(ex.bce_with_logits, x, y, what=what, **kw)
        expect_tensor(out, shape=(), dtype=torch.float32, what=what)


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    x = torch.cat([_randn(rng, 30, scale=5.0), torch.tensor([100.0, -100.0])]).reshape(8, 4)
    y, pw = _hard(rng, 8, 4), torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)
    what = "bce_with_logits on the GPU (float32 [8,4] with ±100, pos_weight[4])"
    out = _call(ex, what, x.float().to(device), y.float().to(device), pw.float().to(device))
    assert_close(out, F.binary_cross_entropy_with_logits(x, y, pos_weight=pw), atol=1e-4, rtol=1e-4,
                 what=f"{what} vs the float64 CPU oracle", hint="create every new tensor on the input's device")

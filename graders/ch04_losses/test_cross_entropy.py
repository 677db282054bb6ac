"""Grader for ch04.cross_entropy: cross_entropy(logits[N, C, ...], target[N, ...], ignore_index=-100,
label_smoothing=0.0) -> 0-d mean loss."""
import torch
import torch.nn.functional as F
from support.layouts import call_with_layout, describe, laid_out

from torchcourse.grading import (
    LearnerError,
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
OVERFLOW = "overflow for large logits: use log-sum-exp"
MEAN_IGNORED = "mean over ignored items: divide by the number of items whose target is not ignore_index"


def _randn(rng, *shape, dtype=F64, scale=1.0):
    return torch.randn(*shape, generator=rng, dtype=dtype) * scale


def _targets(rng, n_classes, *shape, ignore=None, frac=0.3):
    t = torch.randint(0, n_classes, shape, generator=rng)
    if ignore is not None:
        drop = torch.rand(shape, generator=rng) < frac
        drop.view(-1)[0] = True                  # at least one ignored item ...
        drop.view(-1)[-1] = False                # ... and at least one kept
        t = torch.where(drop, torch.full_like(t, ignore), t)
    return t


def _manual(logits, target, ignore_index=-100, eps=0.0, *, denominator="kept", smoothing="every",
            smooth_ignored=False, reduce="mean"):
    """Trusted explicit cross-entropy in float64, and what each known mistake computes instead."""
    logits = logits.double()
    n_classes = logits.shape[1]
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    keep = target != ignore_index
    nll = -logp.gather(1, target.where(keep, 0).unsqueeze(1)).squeeze(1)
    total = -logp.sum(1)                                           # −Σ_c log p_c
    if eps == 0:
        item, extra = nll, torch.zeros_like(nll)
    elif smoothing == "every":                                     # ε/C to every class (correct)
        item, extra = (1 - eps) * nll, eps * total / n_classes
    elif smoothing == "others_c_minus_1":                          # ε/(C−1) to the other classes
        item, extra = (1 - eps) * nll, eps * (total - nll) / (n_classes - 1)
    else:                                                          # ε/C to the other classes only
        item, extra = (1 - eps) * nll, eps * (total - nll) / n_classes
    loss = item * keep + (extra if smooth_ignored else extra * keep)
    if reduce == "sum":
        return loss.sum()
    count = keep.sum() if denominator == "kept" else torch.tensor(target.numel())
    return loss.sum() / count


def _mistakes(logits, target, ignore_index=-100, eps=0.0):
    m = []
    if (target == ignore_index).any():
        m.append((MEAN_IGNORED, _manual(logits, target, ignore_index, eps, denominator="all")))
    if eps:
        m += [(("label smoothing gives ε/(C−1) to the other classes; PyTorch gives ε/C to every class, the "
               "true class included"), _manual(logits, target, ignore_index, eps, smoothing="others_c_minus_1")),
              (("label smoothing gives ε/C to the other classes only; it goes to every class, the true class "
               "included"), _manual(logits, target, ignore_index, eps, smoothing="others")),
              ("label smoothing ignored", _manual(logits, target, ignore_index)),
              ("ignored items still add their label-smoothing term",
               _manual(logits, target, ignore_index, eps, smooth_ignored=True))]
    m.append(("sum instead of mean", _manual(logits, target, ignore_index, eps, reduce="sum")))
    if logits.dim() == 2 and logits.shape[0] > 1:
        logp0 = logits.double().log_softmax(0)                      # softmax over the batch axis
        keep = target != ignore_index
        nll0 = -logp0.gather(1, target.where(keep, 0).unsqueeze(1)).squeeze(1)
        m.append(("softmax over the batch axis (dim 0) instead of the class axis (dim 1)",
                  (nll0 * keep).sum() / keep.sum()))
    return m


def _call(ex, what, logits, target, hint=None, **kw):
    try:
        out = ex.cross_entropy(logits, target, **kw)
    except LearnerError as e:
        if hint and e.type in ("RuntimeError", "IndexError", "ValueError"):
            raise AssertionError(f"{what}: {e.describe()}\n  Hint: {hint}") from None
        raise
    expect_tensor(out, what=what)
    if out.dim() != 0:
        raise AssertionError(f"{what}: expected a 0-d tensor (the mean loss), got shape {tuple(out.shape)}. "
                             f"Likely mistake: the per-item losses were not reduced (sum them and divide by the "
                             f"number of non-ignored items)")
    expect_tensor(out, shape=(), dtype=logits.dtype, device=logits.device, what=what)
    return out


def _judge(ex, what, logits, target, *, atol=1e-10, hint=None, **kw):
    out = _call(ex, what, logits, target, hint, **kw)
    expected = F.cross_entropy(logits.double(), target, **kw)
    assert_close(out, expected, atol=atol, rtol=atol, what=what, hint=hint,
                 mistakes=_mistakes(logits, target, kw.get("ignore_index", -100), kw.get("label_smoothing", 0.0)))


@check(points=2)
def test_matches_builtin(ex, rng):
    for n, c in ((8, 5), (1, 3), (13, 2)):
        logits = _randn(rng, n, c, scale=2.0)
        _judge(ex, f"cross_entropy(logits[{n},{c}], target[{n}]) in float64", logits, _targets(rng, c, n),
               hint="loss_i = logsumexp(logits_i) − logits_i[target_i], averaged over the batch")


@check(points=2)
def test_large_logits(ex, rng):
    cases = (("float32 logits of size ~±300", _randn(rng, 16, 6, dtype=torch.float32, scale=300.0)),
             ("float64 logits of size ~±3000", _randn(rng, 16, 6, scale=3000.0)),
             ("float32 logits all near +1000", 1000.0 + _randn(rng, 16, 6, dtype=torch.float32)))
    for label, logits in cases:
        target = _targets(rng, 6, 16)
        target[:4] = logits[:4].argmin(1)        # some targets are the least likely class: log p ≈ −600
        what = f"cross_entropy on {label}"
        out = _call(ex, what, logits, target)
        if not torch.isfinite(out):
            raise AssertionError(
                f"{what}: expected a finite loss ({F.cross_entropy(logits.double(), target).item():.6g}), got "
                f"{out.item()}. Likely mistake: {OVERFLOW}: exp of a raw logit overflows (exp(89) is already "
                f"inf in float32) and log(softmax) underflows to log(0) = -inf; compute log p = logits − "
                f"logsumexp(logits, dim=1, keepdim=True), which subtracts the row maximum before exponentiating.")
        expected = F.cross_entropy(logits.double(), target)
        # float32 logits near 1000 carry an absolute rounding error of ~1e-4 in log p
        atol, rtol = (1e-3, 1e-5) if logits.dtype == torch.float32 else (1e-10, 1e-10)
        assert_close(out, expected, atol=atol, rtol=rtol, what=what,
                     hint="subtract the row maximum before any exp, e.g. with torch.logsumexp",
                     mistakes=_mistakes(logits, target))


@check(points=2)
def test_ignore_index(ex, rng):
    logits = _randn(rng, 12, 5)
    target = _targets(rng, 5, 12, ignore=-100)
    _judge(ex, "cross_entropy with some targets equal to -100 (the default ignore_index)", logits, target,
           hint="drop the items whose target is ignore_index from both the sum and the count")
    target = _targets(rng, 5, 12, ignore=3)
    _judge(ex, "cross_entropy(..., ignore_index=3): class 3 is ignored", logits, target, ignore_index=3,
           hint="compare the target with the ignore_index argument, not with the constant -100")


@check(points=2)
def test_label_smoothing(ex, rng):
    for eps, ignore in ((0.1, None), (0.3, -100), (1.0, -100)):
        logits = _randn(rng, 10, 4, scale=2.0)
        target = _targets(rng, 4, 10, ignore=ignore)
        _judge(ex, f"cross_entropy(..., label_smoothing={eps})" + (" with ignored items" if ignore else ""),
               logits, target, label_smoothing=eps,
               hint="loss_i = (1 − ε)·(−log p[target_i]) + ε·mean_c(−log p_c), only over non-ignored items")


@check(points=2)
def test_spatial(ex, rng):
    for shape in ((3, 5, 4, 6), (2, 4, 7)):
        n, c, rest = shape[0], shape[1], shape[2:]
        logits = _randn(rng, *shape)
        target = _targets(rng, c, n, *rest, ignore=-100)
        _judge(ex, f"cross_entropy(logits{list(shape)}, target{[n, *rest]}) with ignored items and "
                   f"label_smoothing=0.2", logits, target, label_smoothing=0.2,
               hint="the class axis is dim 1 (logsumexp over dim=1, gather along dim 1 with "
                    "target.unsqueeze(1)); the mean runs over every non-ignored position of every item")


@check(points=1)
def test_gradients(ex, rng):
    logits = _randn(rng, 4, 5, 3).requires_grad_()
    target = _targets(rng, 5, 4, 3, ignore=-100)
    _, (g,) = grad_of(ex.cross_entropy, logits, target, label_smoothing=0.1)
    ref = logits.detach().clone().requires_grad_()
    F.cross_entropy(ref, target, label_smoothing=0.1).backward()
    assert_close(g, ref.grad, atol=1e-10, rtol=1e-10,
                 what="gradient of cross_entropy(logits[4,5,3], ..., label_smoothing=0.1) in float64",
                 hint="ignored positions get a zero gradient; build the loss from differentiable tensor ops")


@check(points=1, speed=True, timeout=60)
def test_speed(ex, ref, rng, exercise):
    # a Python loop over the rows runs 2048 small logsumexps (~100x slower); the vectorised form is one pass
    logits = _randn(rng, 2048, 16, dtype=torch.float32)
    target = _targets(rng, 16, 2048, ignore=-100)
    assert_fast(ex.cross_entropy, ref.cross_entropy, logits, target, number=2,
                max_ratio=exercise.threshold("speed_max_ratio"), what="cross_entropy(logits[2048,16], target[2048])")


@check(points=1, covers=("inputs",))
def test_inputs_unchanged(ex, rng):
    logits = _randn(rng, 3, 5, 4)
    target = _targets(rng, 5, 3, 4, ignore=-100)
    what = "cross_entropy(logits[3,5,4], target[3,4] with ignored items, label_smoothing=0.1)"
    out = call_unchanged(ex.cross_entropy, logits, target, names=("logits", "target"), what=what,
                         label_smoothing=0.1)
    expect_tensor(out, shape=(), dtype=F64, what=what)
    assert_close(out, F.cross_entropy(logits, target, label_smoothing=0.1), atol=1e-10, rtol=1e-10, what=what)


@check(points=1)
def test_input_layouts(ex, rng):
    channels_last = _randn(rng, 2, 3, 4, 5).permute(0, 3, 1, 2)         # [N, C, H, W] stored as [N, H, W, C]
    cases = [(channels_last, _targets(rng, 5, 2, 3, 4, ignore=-100), "channels-last [N, C, H, W]"),
             (_randn(rng, 2, 5, 4, 3).transpose(2, 3), _targets(rng, 5, 2, 3, 4), "[N, C, H, W] with H and W swapped"),
             (_randn(rng, 6, 7).t(), _targets(rng, 6, 7), "transposed [N, C]"),
             (laid_out(_randn(rng, 7, 4), "strided"), laid_out(_targets(rng, 4, 7, ignore=-100), "strided"),
              "strided logits and target")]
    for logits, target, label in cases:
        what = f"cross_entropy on {label} logits {describe(logits)}, target {describe(target)}"
        out = call_with_layout(ex.cross_entropy, logits, target, what=what, label_smoothing=0.1)
        expect_tensor(out, shape=(), dtype=F64, what=what)
        assert_close(out, F.cross_entropy(logits, target, label_smoothing=0.1), atol=1e-10, rtol=1e-10, what=what,
                     mistakes=_mistakes(logits, target, eps=0.1))


@check(points=1, covers=("device",))
def test_device_follows(ex, rng):
    for shape in ((6, 4), (2, 4, 3, 3)):
        logits = _randn(rng, *shape, dtype=torch.float32)
        target = _targets(rng, shape[1], shape[0], *shape[2:], ignore=-100)
        what = f"cross_entropy(logits{list(shape)}, target, label_smoothing=0.1) on the `meta` device"
        out = expect_device_follows(ex.cross_entropy, logits, target, what=what, label_smoothing=0.1)
        expect_tensor(out, shape=(), dtype=torch.float32, what=what)


@check(points=1, gpu=True)
def test_gpu(ex, rng, device):
    logits = _randn(rng, 4, 6, 5, 5, scale=50.0)
    target = _targets(rng, 6, 4, 5, 5, ignore=-100)
    what = "cross_entropy on the GPU (float32 [4,6,5,5], ignored items, label_smoothing=0.1)"
    out = _call(ex, what, logits.float().to(device), target.to(device), label_smoothing=0.1)
    assert_close(out, F.cross_entropy(logits, target, label_smoothing=0.1), atol=1e-4, rtol=1e-4,
                 what=f"{what} vs the float64 CPU oracle",
                 hint="create every new tensor (masks, fills, counts) on the input's device")

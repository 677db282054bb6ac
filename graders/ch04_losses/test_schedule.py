"""Grader for ch04.schedule: warmup_cosine(step, warmup_steps, total_steps, base_lr, min_lr=0.0) -> float.

Oracle: the closed form pinned in the curriculum (base·s/W for s < W; cosine from base to min_lr over [W, T];
min_lr after T; W = 0 means no warm-up), evaluated here step by step.
"""
import math

import torch

from torchcourse.grading import LearnerError, assert_close, check

OFF_BY_ONE = "off-by-one at the end of warm-up"
HINT = ("lr = base·s/W for s < W; min_lr + (base − min_lr)·(1 + cos(π·(s − W)/(T − W)))/2 for W ≤ s ≤ T; "
        "min_lr for s > T")


def _closed(s, w, t, base, low, *, warm="s/W", cos_from="W", hold=True, use_min=True):
    """The pinned closed form, and each known mistake as a variant of it."""
    if s < w and warm != "none":
        if warm == "s/W":
            return base * s / w
        if warm == "(s+1)/W":
            return base * (s + 1) / w
        if warm == "s/(W-1)":
            return base * s / (w - 1) if w > 1 else base
    start = {"W": w, "W-1": w - 1, "0": 0, "W+1": w + 1}[cos_from]
    if s >= t and hold:
        return low
    progress = (s - start) / (t - start) if t != start else 1.0
    if not use_min:
        return base * 0.5 * (1 + math.cos(math.pi * progress))
    return low + (base - low) * 0.5 * (1 + math.cos(math.pi * progress))


def _curve(w, t, base, low, steps, **kw):
    return torch.tensor([_closed(s, w, t, base, low, **kw) for s in steps], dtype=torch.float64)


def _mistakes(w, t, base, low, steps):
    c = lambda **kw: _curve(w, t, base, low, steps, **kw)
    return [
        (f"{OFF_BY_ONE}: base·(s + 1)/W reaches base_lr at s = W − 1; the warm-up is base·s/W (0 at step 0)",
         c(warm="(s+1)/W")),
        (f"{OFF_BY_ONE}: base·s/(W − 1) reaches base_lr at s = W − 1; divide by W", c(warm="s/(W-1)")),
        (f"{OFF_BY_ONE}: the cosine starts at s = W − 1; its progress is (s − W)/(T − W)",
         c(cos_from="W-1")),
        (f"{OFF_BY_ONE}: the cosine starts at s = W + 1; its progress is (s − W)/(T − W), so lr(W) = base_lr",
         c(cos_from="W+1")),
        ("cosine measured from step 0 instead of from the end of warm-up: progress = (s − W)/(T − W), not s/T",
         c(cos_from="0")),
        ("min_lr ignored: the cosine goes from base_lr down to min_lr, not to 0", c(use_min=False)),
        ("lr not held at min_lr after total_steps: the cosine keeps going (and rises again) past T",
         c(hold=False)),
        ("no warm-up: the first W steps must rise linearly from 0", c(warm="none")),
    ]


def _lrs(ex, w, t, base, low, steps):
    out = []
    for s in steps:
        call = f"warmup_cosine({s}, {w}, {t}, {base:g}, {low:g})"
        try:
            lr = ex.warmup_cosine(s, w, t, base, low)
        except LearnerError as e:
            if e.type == "ZeroDivisionError" and w == 0:
                raise AssertionError(f"{call}: {e.describe()}\n  Likely mistake: W = 0 means no warm-up: the "
                                     f"warm-up case must not apply (use s < W, which is never true for W = 0), "
                                     f"so nothing divides by W") from None
            raise
        if isinstance(lr, torch.Tensor) or not isinstance(lr, (int, float)) or isinstance(lr, bool):
            raise AssertionError(f"{call}: expected a Python float, got {type(lr).__name__} {lr!r}"[:300]  # noqa: TRY004
                                 + " (return a number, e.g. with float(...), not a tensor)")
        out.append(float(lr))
    return torch.tensor(out, dtype=torch.float64)


def _judge(ex, w, t, base, low, steps, what):
    steps = list(steps)
    got = _lrs(ex, w, t, base, low, steps)
    expected = _curve(w, t, base, low, steps)
    assert_close(got, expected, atol=1e-12, rtol=1e-9,
                 what=f"{what}: warmup_cosine(s, W={w}, T={t}, base_lr={base:g}, min_lr={low:g}) for s = "
                      f"{steps[0]}..{steps[-1]} (index i is step {steps[0]} + i)",
                 hint=HINT, mistakes=_mistakes(w, t, base, low, steps))


@check(points=2)
def test_warmup(ex):
    _judge(ex, 10, 50, 0.1, 0.0, range(13), "the warm-up and its end")
    _judge(ex, 4, 20, 3e-4, 1e-5, range(7), "the warm-up and its end")


@check(points=2)
def test_cosine(ex):
    _judge(ex, 10, 50, 0.1, 0.0, range(8, 61), "the cosine decay and after it")
    _judge(ex, 5, 30, 1e-3, 1e-4, range(40), "the whole schedule with min_lr")


@check(points=1)
def test_no_warmup(ex):
    _judge(ex, 0, 20, 0.5, 0.05, range(25), "no warm-up (W = 0): the cosine starts at step 0")


@check(points=1)
def test_short_schedules(ex):
    _judge(ex, 1, 2, 1.0, 0.0, range(4), "a one-step warm-up")
    _judge(ex, 3, 4, 2.0, 0.5, range(6), "a one-step cosine")

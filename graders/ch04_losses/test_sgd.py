"""Grader for ch04.sgd: class SGD(torch.optim.Optimizer)(params, lr, momentum=0, weight_decay=0, nesterov=False).

The learner's optimizer runs in the worker on parameters created there; each step the grader writes the same
gradients into those parameters (``testfns.set_grads``) and into trusted copies driven by torch.optim.SGD here,
and compares the whole trajectories step by step.
"""
import torch
from support.optim_contracts import contract_checks
from support.optim_harness import (
    check_closure,
    flat,
    judge_trajectory,
    learner_trajectory,
    oracle_trajectory,
    problem,
    run_and_judge,
    worker_params,
)

from torchcourse.grading import assert_close, check, expect_raises, expect_tensor, forbidden_api_check

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
STEPS = 20
DECAY_AFTER = ("weight decay after momentum: add weight_decay·p to the gradient before it enters the momentum "
               "buffer (g = p.grad + weight_decay·p; buf = momentum·buf + g), not to the buffer's output")
NOT_FROM_FIRST = ("momentum buffer not initialised from the first gradient: it started at zeros and was updated "
                  "as momentum·buf + (1 − momentum)·g; PyTorch sets buf = g (a copy) on a parameter's first step, "
                  "then buf = momentum·buf + g")
HINT = ("per parameter: g = p.grad + wd·p; buf = g.clone() on the first step, else buf = momentum·buf + g; "
        "update = g + momentum·buf if nesterov else buf; p −= lr·update")


# ---------------------------------------------------------------- building and running

def _problem(rng, shapes, steps=STEPS, none_at=()):
    return problem(rng, shapes, steps, none_at)


def _oracle(p0, spec, kw, grads):
    """torch.optim.SGD on trusted copies with the same gradients: [steps, numel] parameter values."""
    return oracle_trajectory(torch.optim.SGD, p0, spec, kw, grads)


def _learner(ex, impl, p0, spec, kw, grads, device=None, dtype=None):
    """The learner's SGD in the worker: per step, the parameter values and the .grad it left behind."""
    return learner_trajectory(ex.SGD, impl, p0, spec, kw, grads, device, dtype)


def _simulate(p0, spec, kw, grads, *, decay_after=False, ema=False, no_state=False, group_ignored=False,
              nesterov_ignored=False, decoupled=False, no_decay=False, no_momentum=False, ascent=False):
    """SGD with one known mistake switched on (all off: torch.optim.SGD's algorithm)."""
    ps, bufs = [p.clone() for p in p0], [None] * len(p0)
    spec = spec or [{"idx": list(range(len(p0)))}]
    out = []
    for gs in grads:
        for gspec in spec:
            h = {"momentum": 0.0, "weight_decay": 0.0, "nesterov": False, **kw}
            if not group_ignored:
                h.update({k: v for k, v in gspec.items() if k != "idx"})
            lr, m, wd, nesterov = h["lr"], h["momentum"], h["weight_decay"], h["nesterov"]
            m = 0.0 if no_momentum else m
            for i in gspec["idx"]:
                if gs[i] is None:
                    continue
                p = ps[i]
                d = gs[i] + wd * p if (wd and not (decay_after or decoupled or no_decay)) else gs[i].clone()
                upd = d
                if m:
                    old = bufs[i]
                    if old is None or no_state:
                        buf = (1 - m) * d if ema else d.clone()
                    else:
                        buf = m * old + ((1 - m) * d if ema else d)
                    bufs[i] = buf
                    upd = d + m * buf if (nesterov and not nesterov_ignored) else buf
                if decay_after and wd:
                    upd = upd + wd * p
                if decoupled and wd:
                    p = p * (1 - lr * wd)
                ps[i] = p + lr * upd if ascent else p - lr * upd
        out.append(flat(ps))
    return torch.stack(out)


def _mistakes(p0, spec, kw, grads):
    sim = lambda **flag: _simulate(p0, spec, kw, grads, **flag)
    return [
        (DECAY_AFTER, sim(decay_after=True)),
        (NOT_FROM_FIRST, sim(ema=True)),
        ("momentum buffer not kept between steps: store it in self.state[p]['momentum_buffer'] and reuse it",
         sim(no_state=True)),
        ("momentum ignored", sim(no_momentum=True)),
        (("each group's own hyper-parameters ignored: the constructor's values were used for every group (read "
         "lr, momentum, weight_decay and nesterov from the group dict)"), sim(group_ignored=True)),
        ("nesterov=True ignored: the Nesterov update is g + momentum·buf", sim(nesterov_ignored=True)),
        (("decoupled weight decay (p ·= 1 − lr·wd, as in AdamW); SGD's weight decay is L2: add weight_decay·p to "
         "the gradient"), sim(decoupled=True)),
        ("weight decay ignored", sim(no_decay=True)),
        ("sign error: p + lr·update climbs the loss; SGD subtracts", sim(ascent=True)),
    ]


def _judge(values, expected, mistakes, p0, *, what, atol=1e-10, device=None, dtype=None, hint=HINT):
    judge_trajectory(values, expected, mistakes, p0, what=what, hint=hint, atol=atol, device=device, dtype=dtype)


def _run_and_judge(ex, impl, rng, shapes, spec, kw, what, none_at=()):
    run_and_judge(ex.SGD, torch.optim.SGD, impl, rng, shapes, spec, kw, what, steps=STEPS, mistakes=_mistakes,
                  hint=HINT, none_at=none_at)


# ---------------------------------------------------------------- checks

@check(points=2)
def test_plain(ex, impl, rng):
    _run_and_judge(ex, impl, rng, [(3, 4), (5,)], None, {"lr": 0.1},
                   f"SGD([p0[3,4], p1[5]], lr=0.1) over {STEPS} steps (float64)")
    p = worker_params(impl, [torch.zeros(3, dtype=F64)])
    expect_raises(TypeError, ex.SGD, p, what="SGD(params) without lr (lr is required: no default value)")


@check(points=2)
def test_momentum(ex, impl, rng):
    _run_and_judge(ex, impl, rng, [(4, 3), (6,)], None, {"lr": 0.05, "momentum": 0.9},
                   f"SGD(lr=0.05, momentum=0.9) over {STEPS} steps")


@check(points=2)
def test_weight_decay(ex, impl, rng):
    _run_and_judge(ex, impl, rng, [(4, 3), (6,)], None, {"lr": 0.05, "weight_decay": 0.1},
                   f"SGD(lr=0.05, weight_decay=0.1) over {STEPS} steps")
    _run_and_judge(ex, impl, rng, [(4, 3), (6,)], None, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1},
                   f"SGD(lr=0.05, momentum=0.9, weight_decay=0.1) over {STEPS} steps")


@check(points=1)
def test_nesterov(ex, impl, rng):
    _run_and_judge(ex, impl, rng, [(5, 2), (3,)], None,
                   {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.05, "nesterov": True},
                   f"SGD(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True) over {STEPS} steps")


@check(points=2)
def test_param_groups(ex, impl, rng):
    spec = [{"idx": [0]},
            {"idx": [1, 2], "lr": 0.01, "momentum": 0.5},
            {"idx": [3], "weight_decay": 0.2, "nesterov": True}]
    _run_and_judge(ex, impl, rng, [(3, 3), (4,), (2, 2), (5,)], spec, {"lr": 0.1, "momentum": 0.9},
                   f"SGD with three parameter groups (group 1: lr=0.01, momentum=0.5; group 2: weight_decay=0.2, "
                   f"nesterov=True; defaults lr=0.1, momentum=0.9) over {STEPS} steps")


@check(points=1)
def test_skips_params_without_grad(ex, impl, rng):
    none_at = [(0, 1), (3, 0), (4, 0), (5, 0), (9, 1), (12, 1)]
    _run_and_judge(ex, impl, rng, [(3, 2), (4,)], None, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1},
                   f"SGD(lr=0.05, momentum=0.9, weight_decay=0.1) over {STEPS} steps where some parameters "
                   f"have p.grad = None on some steps (they must not move, and their buffer must not change)",
                   none_at=none_at)


@check(points=2)
def test_grad_untouched(ex, impl, rng):
    # p0, p1 without weight decay (so g *is* p.grad), p2 with it; momentum everywhere
    spec = [{"idx": [0, 1]}, {"idx": [2], "weight_decay": 0.1}]
    kw = {"lr": 0.05, "momentum": 0.9}
    p0, grads = _problem(rng, [(3, 3), (4,), (5,)])
    values, grads_after = _learner(ex, impl, p0, spec, kw, grads)
    expected = _oracle(p0, spec, kw, grads)
    m, wd = 0.9, [0.0, 0.0, 0.1]
    for t, got in enumerate(grads_after):
        if any(g is None for g in got):
            raise AssertionError(f"p.grad after step {t + 1}: expected the gradient that was set, got None. The "
                                 f"optimizer must leave p.grad alone (zero_grad() is the caller's business)")
        for k, (g, want) in enumerate(zip(got, grads[t])):
            expect_tensor(g, shape=want.shape, what=f"p{k}.grad after step {t + 1}")
        before = p0 if t == 0 else _split(expected[t - 1], p0)
        in_place = [g + w * p for g, w, p in zip(grads[t], wd, before)]
        aliased = [g if (t == 0 or w) else 2 * m * g for g, w in zip(grads[t], wd)]
        assert_close(flat(got), flat(grads[t]), atol=1e-12, rtol=1e-12,
                     what=f"p.grad of every parameter after step {t + 1} (it must be exactly the gradient that "
                          f"was set before the step)",
                     hint="treat p.grad as read-only: build new tensors (p.grad + wd·p, not p.grad.add_(...)) and "
                          "clone the first gradient into the momentum buffer",
                     mistakes=[(("weight decay added to p.grad in place (p.grad.add_(p, alpha=weight_decay)); the "
                                "caller's gradient must not change"), flat(in_place)),
                               (("momentum buffer aliases p.grad: buf = p.grad without .clone(), so the in-place "
                                "buf.mul_(momentum).add_(g) rewrites the gradient"), flat(aliased))])
    _judge(values, expected, _mistakes(p0, spec, kw, grads), p0,
           what=f"SGD(lr=0.05, momentum=0.9) with a weight_decay=0.1 group over {STEPS} steps")


def _split(flat, like):
    out, i = [], 0
    for p in like:
        out.append(flat[i:i + p.numel()].reshape(p.shape))
        i += p.numel()
    return out


@check(points=1)
def test_closure(ex, impl, rng):
    check_closure(ex.SGD, torch.optim.SGD, impl, rng, {"lr": 0.05, "momentum": 0.9}, hint=HINT)


# the contract checks (gradients, ranks, device, speed) with hyper-parameters that run every branch; without
# weight decay the gradient itself enters the momentum buffer, so a buffer that aliases it rewrites it later
KW = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}
test_grads_unchanged, test_any_rank, test_state_device, test_speed = contract_checks(
    "SGD", torch.optim.SGD, KW, steps=STEPS, mistakes=_mistakes, hint=HINT,
    grads_kws=(KW, {**KW, "weight_decay": 0.0}), speed_kw={**KW, "nesterov": True})
# one timed step over a [64, 64] and a [64] parameter: a loop over their elements costs far more (chapter.toml)


@check(points=1, gpu=True)
def test_gpu(ex, impl, rng, device):
    spec = [{"idx": [0]}, {"idx": [1], "lr": 0.02, "weight_decay": 0.1, "nesterov": True}]
    kw = {"lr": 0.05, "momentum": 0.9}
    p0, grads = _problem(rng, [(64, 32), (32,)])
    values, _ = _learner(ex, impl, p0, spec, kw, grads, device=device, dtype=torch.float32)
    _judge(values, _oracle(p0, spec, kw, grads), [], p0, atol=1e-4, device=device, dtype=torch.float32,
           what=f"SGD on CUDA float32 parameters (two groups, momentum, nesterov, weight decay) vs the float64 "
                f"CPU oracle, over {STEPS} steps")

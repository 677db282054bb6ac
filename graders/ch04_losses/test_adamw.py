"""Grader for ch04.adamw: class AdamW(torch.optim.Optimizer)(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
weight_decay=1e-2).

The learner's optimizer runs in the worker on parameters created there; each step the grader writes the same
gradients into those parameters (``testfns.set_grads``) and into trusted copies driven by torch.optim.AdamW here,
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
)

from torchcourse.grading import assert_close, check, expect_tensor, forbidden_api_check

test_no_forbidden_api = forbidden_api_check()

F64 = torch.float64
STEPS = 25
NO_BIAS = ("no bias correction: m and v start at 0, so divide them by (1 − β1^t) and (1 − β2^t) before the "
           "update (the first step is otherwise ~3x too large)")
L2 = ("L2 added to the gradient instead of decoupled weight decay: AdamW shrinks the weights directly, "
      "p ·= 1 − lr·weight_decay, and feeds m and v the untouched p.grad")
HINT = ("per parameter, t = its own step count: p ·= 1 − lr·wd; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; "
        "p −= lr·(m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)")
DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2}


# ---------------------------------------------------------------- building and running

def _problem(rng, shapes, steps=STEPS, none_at=()):
    return problem(rng, shapes, steps, none_at)


def _oracle(p0, spec, kw, grads):
    """torch.optim.AdamW on trusted copies with the same gradients: [steps, numel] parameter values."""
    return oracle_trajectory(torch.optim.AdamW, p0, spec, kw, grads)


def _learner(ex, impl, p0, spec, kw, grads, device=None, dtype=None):
    """The learner's AdamW in the worker: per step, the parameter values and the .grad it left behind."""
    return learner_trajectory(ex.AdamW, impl, p0, spec, kw, grads, device, dtype)



def _simulate(p0, spec, kw, grads, *, bias="both", l2=False, decay="decoupled", eps_inside=False,
              count="param", group_ignored=False, **override):
    """AdamW with one known mistake switched on (defaults: torch.optim.AdamW's algorithm).

    bias: "both", "none", "m", "v"; decay: "decoupled", "no_lr", "after", "none"; count: "param" (each
    parameter's own step count), "call" (one count per step() call), "shared" (one counter bumped per update).
    """
    ps = [p.clone() for p in p0]
    ms, vs, ts = [torch.zeros_like(p) for p in p0], [torch.zeros_like(p) for p in p0], [0] * len(p0)
    spec = spec or [{"idx": list(range(len(p0)))}]
    calls = shared = 0
    out = []
    for gs in grads:
        calls += 1
        for gspec in spec:
            h = {**DEFAULTS, **kw}
            if not group_ignored:
                h.update({k: v for k, v in gspec.items() if k != "idx"})
            h.update(override)
            lr, (b1, b2), eps, wd = h["lr"], h["betas"], h["eps"], h["weight_decay"]
            for i in gspec["idx"]:
                g = grads_t = gs[i]
                if grads_t is None:
                    continue
                p = ps[i]
                ts[i] += 1
                shared += 1
                t = {"param": ts[i], "call": calls, "shared": shared}[count]
                if l2:
                    g = g + wd * p
                elif decay == "decoupled":
                    p = p * (1 - lr * wd)
                elif decay == "no_lr":
                    p = p * (1 - wd)
                ms[i] = b1 * ms[i] + (1 - b1) * g
                vs[i] = b2 * vs[i] + (1 - b2) * g * g
                m_hat = ms[i] / (1 - b1 ** t) if bias in ("both", "m") else ms[i]
                v_hat = vs[i] / (1 - b2 ** t) if bias in ("both", "v") else vs[i]
                denom = (v_hat + eps).sqrt() if eps_inside else v_hat.sqrt() + eps
                p = p - lr * m_hat / denom
                if decay == "after" and not l2:
                    p = p * (1 - lr * wd)
                ps[i] = p
        out.append(flat(ps))
    return torch.stack(out)


def _mistakes(p0, spec, kw, grads):
    sim = lambda **flag: _simulate(p0, spec, kw, grads, **flag)
    return [
        (NO_BIAS, sim(bias="none")),
        (L2, sim(l2=True)),
        ("bias correction applied to m only: v needs its own division by (1 − β2^t)", sim(bias="m")),
        ("bias correction applied to v only: m needs its own division by (1 − β1^t)", sim(bias="v")),
        ("weight decay not scaled by lr: the decoupled decay is p ·= 1 − lr·weight_decay", sim(decay="no_lr")),
        ("weight decay applied after the Adam update instead of before it", sim(decay="after")),
        ("weight decay ignored", sim(decay="none")),
        ("eps inside the square root: the denominator is sqrt(v̂) + eps", sim(eps_inside=True)),
        (("the step count t is counted per step() call, not per parameter: a parameter that had no gradient on "
         "some steps must not advance its bias correction (keep t in self.state[p])"), sim(count="call")),
        (("one step counter shared by every parameter (bumped once per parameter update): keep t per parameter "
         "in self.state[p]"), sim(count="shared")),
        (("each group's own hyper-parameters ignored: the constructor's values were used for every group (read "
         "lr, betas, eps and weight_decay from the group dict)"), sim(group_ignored=True)),
        ("weight_decay default is 0; torch.optim.AdamW's default is 1e-2", sim(weight_decay=0.0)),
    ]


def _judge(values, expected, mistakes, p0, *, what, atol=1e-10, device=None, dtype=None, hint=HINT):
    judge_trajectory(values, expected, mistakes, p0, what=what, hint=hint, atol=atol, device=device, dtype=dtype)


def _run_and_judge(ex, impl, rng, shapes, spec, kw, what, none_at=()):
    run_and_judge(ex.AdamW, torch.optim.AdamW, impl, rng, shapes, spec, kw, what, steps=STEPS, mistakes=_mistakes,
                  hint=HINT, none_at=none_at)


def _split(flat, like):
    out, i = [], 0
    for p in like:
        out.append(flat[i:i + p.numel()].reshape(p.shape))
        i += p.numel()
    return out


# ---------------------------------------------------------------- checks

@check(points=2)
def test_defaults(ex, impl, rng):
    # AdamW(params) with every default: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2
    _run_and_judge(ex, impl, rng, [(3, 4), (5,)], None, {},
                   f"AdamW([p0[3,4], p1[5]]) with the default hyper-parameters over {STEPS} steps (float64)")


@check(points=2)
def test_bias_correction(ex, impl, rng):
    _run_and_judge(ex, impl, rng, [(4, 3), (6,)], None, {"lr": 0.05, "weight_decay": 0.0},
                   f"AdamW(lr=0.05, weight_decay=0) over {STEPS} steps")
    _run_and_judge(ex, impl, rng, [(4, 3)], None, {"lr": 0.02, "betas": (0.5, 0.9), "weight_decay": 0.0},
                   f"AdamW(lr=0.02, betas=(0.5, 0.9), weight_decay=0) over {STEPS} steps")


@check(points=2)
def test_decoupled_decay(ex, impl, rng):
    _run_and_judge(ex, impl, rng, [(4, 3), (6,)], None, {"lr": 0.05, "weight_decay": 0.5},
                   f"AdamW(lr=0.05, weight_decay=0.5) over {STEPS} steps")


@check(points=2)
def test_param_groups(ex, impl, rng):
    spec = [{"idx": [0]},
            {"idx": [1, 2], "lr": 0.01, "betas": (0.8, 0.99)},
            {"idx": [3], "weight_decay": 0.0, "eps": 0.01}]
    _run_and_judge(ex, impl, rng, [(3, 3), (4,), (2, 2), (5,)], spec, {"lr": 0.05, "weight_decay": 0.1},
                   f"AdamW with three parameter groups (group 1: lr=0.01, betas=(0.8, 0.99); group 2: "
                   f"weight_decay=0, eps=0.01; defaults lr=0.05, weight_decay=0.1) over {STEPS} steps")


@check(points=1)
def test_param_without_grad(ex, impl, rng):
    none_at = [(0, 1), (1, 1), (2, 1), (6, 0), (7, 0), (10, 1)]
    _run_and_judge(ex, impl, rng, [(3, 2), (4,)], None, {"lr": 0.05, "weight_decay": 0.1},
                   f"AdamW(lr=0.05, weight_decay=0.1) over {STEPS} steps where some parameters have p.grad = None "
                   f"on some steps (they must not move, and their step count must not advance)", none_at=none_at)


@check(points=1)
def test_grad_untouched(ex, impl, rng):
    kw = {"lr": 0.05, "weight_decay": 0.1}
    p0, grads = _problem(rng, [(3, 3), (4,)])
    values, grads_after = _learner(ex, impl, p0, None, kw, grads)
    l2_path = _simulate(p0, None, kw, grads, l2=True)
    for t, got in enumerate(grads_after):
        if any(g is None for g in got):
            raise AssertionError(f"p.grad after step {t + 1}: expected the gradient that was set, got None. The "
                                 f"optimizer must leave p.grad alone (zero_grad() is the caller's business)")
        for k, (g, want) in enumerate(zip(got, grads[t])):
            expect_tensor(g, shape=want.shape, what=f"p{k}.grad after step {t + 1}")
        before = p0 if t == 0 else _split(l2_path[t - 1], p0)
        assert_close(flat(got), flat(grads[t]), atol=1e-12, rtol=1e-12,
                     what=f"p.grad of every parameter after step {t + 1} (it must be exactly the gradient that "
                          f"was set before the step)",
                     hint="treat p.grad as read-only: update m, v and p, never p.grad",
                     mistakes=[(f"{L2}; here it was even written into p.grad in place (p.grad.add_(...))",
                                flat([g + 0.1 * p for g, p in zip(grads[t], before)]))])
    _judge(values, _oracle(p0, None, kw, grads), _mistakes(p0, None, kw, grads), p0,
           what=f"AdamW(lr=0.05, weight_decay=0.1) over {STEPS} steps")


@check(points=1)
def test_closure(ex, impl, rng):
    check_closure(ex.AdamW, torch.optim.AdamW, impl, rng, {"lr": 0.05}, hint=HINT)


# the contract checks (gradients, ranks, device, speed) with hyper-parameters that run every branch
test_grads_unchanged, test_any_rank, test_state_device, test_speed = contract_checks(
    "AdamW", torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.1}, steps=STEPS, mistakes=_mistakes, hint=HINT)
# one timed step over a [64, 64] and a [64] parameter: a loop over their elements costs far more (chapter.toml)


@check(points=1, gpu=True)
def test_gpu(ex, impl, rng, device):
    spec = [{"idx": [0]}, {"idx": [1], "lr": 0.01, "weight_decay": 0.0}]
    kw = {"lr": 0.02, "weight_decay": 0.1}
    p0, grads = _problem(rng, [(64, 32), (32,)])
    values, _ = _learner(ex, impl, p0, spec, kw, grads, device=device, dtype=torch.float32)
    _judge(values, _oracle(p0, spec, kw, grads), [], p0, atol=1e-4, device=device, dtype=torch.float32,
           what=f"AdamW on CUDA float32 parameters (two groups) vs the float64 CPU oracle, over {STEPS} steps",
           hint="create the state with torch.zeros_like(p), so it lives on p's device with p's dtype")

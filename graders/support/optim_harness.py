"""Optimizers judged by whole trajectories: the same fixed gradients fed, step after step, to the learner's
optimizer in the worker and to ``torch.optim``'s in the grading process.

Used by the ch04 graders (SGD, AdamW) and any later optimizer exercise.
"""
from __future__ import annotations

import torch
from worker_support import testfns

from torchcourse.grading import assert_close, expect_tensor, put
from torchcourse.remote import LearnerError

F64 = torch.float64


def worker_params(impl, tensors) -> list:
    """Handles to nn.Parameters created in the worker: the learner's optimizer must hold the worker's objects."""
    return [put(impl, torch.nn.Parameter(t.detach().clone())) for t in tensors]


def problem(rng, shapes, steps: int, none_at=()):
    """Initial values and a fixed sequence of gradients (None where a parameter gets no gradient)."""
    p0 = [torch.randn(s, generator=rng, dtype=F64) for s in shapes]
    grads = [[torch.randn(s, generator=rng, dtype=F64) for s in shapes] for _ in range(steps)]
    for t, i in none_at:
        grads[t][i] = None
    return p0, grads


def groups(params, spec):
    """spec None: a plain list of parameters; else dicts with "idx" (which parameters) and hyper-parameters."""
    if spec is None:
        return list(params)
    return [{**{k: v for k, v in g.items() if k != "idx"}, "params": [params[i] for i in g["idx"]]} for g in spec]


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1).to("cpu", F64) for t in tensors])


def oracle_trajectory(optimizer_cls, p0, spec, kw, grads) -> torch.Tensor:
    """``optimizer_cls`` (e.g. torch.optim.SGD) on trusted copies with the same gradients: [steps, numel]."""
    ps = [torch.nn.Parameter(p.clone()) for p in p0]
    opt = optimizer_cls(groups(ps, spec), **kw)
    out = []
    for gs in grads:
        testfns.set_grads(ps, gs)
        opt.step()
        out.append(flat(ps))
    return torch.stack(out)


def learner_trajectory(optimizer_handle, impl, p0, spec, kw, grads, device=None, dtype=None):
    """The learner's optimizer class (a handle) in the worker: per step, parameter values and the .grad left."""
    tf = impl.lib("worker_support.testfns")
    ps = worker_params(impl, [p.to(device=device or p.device, dtype=dtype or p.dtype) for p in p0])
    step = optimizer_handle(groups(ps, spec), **kw).step
    values, grads_after = [], []
    for gs in grads:
        tf.set_grads(ps, gs)
        step()
        values.append(tf.param_values(ps))
        grads_after.append(tf.param_grad_values(ps))
    return values, grads_after


def judge_trajectory(values, expected, mistakes, p0, *, what, hint, atol=1e-10, device=None, dtype=None):
    """Compare step by step, so that the message names the first step that differs.

    ``mistakes``: ``[(name, simulated trajectory [steps, numel])]`` for the diagnosis.
    """
    for t, got in enumerate(values):
        if not isinstance(got, list) or len(got) != len(p0):
            raise AssertionError(f"{what}: could not read the parameters back after step {t + 1}")
        for k, (v, p) in enumerate(zip(got, p0)):
            expect_tensor(v, shape=p.shape, dtype=dtype or p.dtype, device=device,
                          what=f"{what}: parameter {k} after step {t + 1}")
        assert_close(flat(got), expected[t], atol=atol, rtol=atol,
                     what=f"{what}: the parameters (flattened, in order) after step {t + 1} of {len(values)}",
                     hint=hint, mistakes=[(name, sim[t]) for name, sim in mistakes])


def run_and_judge(learner_cls, oracle_cls, impl, rng, shapes, spec, kw, what, *, steps, mistakes, hint,
                  none_at=()):
    """One whole comparison: a fresh problem, the learner's trajectory, torch.optim's, and the judgement.

    ``mistakes(p0, spec, kw, grads)`` returns the simulated trajectories of the known mistakes.
    """
    p0, grads = problem(rng, shapes, steps, none_at)
    try:
        values, _ = learner_trajectory(learner_cls, impl, p0, spec, kw, grads)
    except LearnerError as e:
        if none_at and e.type in ("AttributeError", "TypeError"):
            raise AssertionError(f"{what}: {e.describe()}\n  Likely mistake: a parameter whose p.grad is None was "
                                 f"not skipped (`if p.grad is None: continue`)") from None
        raise
    judge_trajectory(values, oracle_trajectory(oracle_cls, p0, spec, kw, grads), mistakes(p0, spec, kw, grads),
                     p0, what=what, hint=hint)


def check_closure(learner_cls, oracle_cls, impl, rng, kw, *, hint, steps: int = 10) -> None:
    """``step(closure)`` calls the closure exactly once per step, before the update, and returns its loss;
    the parameters follow ``oracle_cls`` driven by the same quadratic closure."""
    p0 = [torch.randn(3, 2, generator=rng, dtype=F64), torch.randn(4, generator=rng, dtype=F64)]
    centres = [torch.randn_like(p) for p in p0]
    tf = impl.lib("worker_support.testfns")
    ps = worker_params(impl, p0)
    closure = tf.QuadraticClosure(ps, centres)
    opt = learner_cls(ps, **kw)
    mine = [torch.nn.Parameter(p.clone()) for p in p0]
    mine_closure = testfns.QuadraticClosure(mine, centres)
    oracle = oracle_cls(mine, **kw)
    for t in range(steps):
        loss = opt.step(closure)
        expected = oracle.step(mine_closure).detach()
        what = f"opt.step(closure) at step {t + 1} (closure: zero the grads, quadratic loss, backward, return loss)"
        if loss is None:
            raise AssertionError(f"{what}: expected the closure's loss ({expected.item():.6g}), got None. Likely "
                                 f"mistake: step() does not return the loss: `loss = closure()` ... `return loss`")
        calls = closure.calls
        if calls != t + 1:
            raise AssertionError(f"{what}: the closure was called {calls} times in {t + 1} steps; step(closure) "
                                 f"must call it exactly once per step, before the update")
        expect_tensor(loss, shape=(), what=f"the loss returned by {what}")
        assert_close(loss, expected, atol=1e-10, rtol=1e-10, what=f"the loss returned by {what}",
                     hint="call the closure once, before updating any parameter, and return what it returned")
        assert_close(flat(tf.param_values(ps)), flat(mine), atol=1e-10, rtol=1e-10,
                     what=f"the parameters after {what}", hint=hint)

"""Contracts every optimizer exercise shares, beyond its trajectory (see optim_harness.py): fast steps, state
on the parameters' device, gradients left as they were given, and parameters of any rank (0-d to 4-D).

Used by the ch04 graders (SGD, AdamW): ``contract_checks(...)`` returns the four checks ready to assign in a
grader (as ``forbidden_api_check()`` does); in the ``check_*`` functions ``optimizer_cls`` is the learner's class
(a handle) and ``kw`` its hyper-parameters.
"""
from __future__ import annotations

import torch

from support.optim_harness import problem, run_and_judge, worker_params
from torchcourse.grading import assert_fast, call_unchanged, check
from torchcourse.remote import LearnerError

__all__ = ["check_any_rank", "check_fast", "check_grads_unchanged", "check_state_device", "contract_checks"]

F64 = torch.float64
_ZEROS = ("Likely mistake: a state tensor made without device= (torch.zeros(p.shape), torch.tensor(...)): make it "
          "with torch.zeros_like(p) or p.clone(), so that it lives on p's device with p's dtype")


def _ready(optimizer_cls, impl, p0, grads, kw):
    """The optimizer on worker-side parameters whose .grad is set once: a step to time or inspect."""
    tf = impl.lib("worker_support.testfns")
    ps = worker_params(impl, p0)
    tf.set_grads(ps, grads)
    return optimizer_cls(ps, **kw), ps


def check_fast(learner_cls, reference_cls, impl, reference_impl, rng, kw, *, max_ratio: float, what: str) -> None:
    """One ``step()`` over a [64, 64] and a [64] parameter against the reference's, on the same values."""
    p0, (grads,) = problem(rng, [(64, 64), (64,)], 1)
    p0, grads = [p.float() for p in p0], [g.float() for g in grads]
    mine, _ = _ready(learner_cls, impl, p0, grads, kw)
    theirs, _ = _ready(reference_cls, reference_impl, p0, grads, kw)
    assert_fast(mine.step, theirs.step, number=2, max_ratio=max_ratio, what=what)


def check_state_device(learner_cls, impl, kw, *, what: str, steps: int = 2) -> None:
    """Steps on parameters and gradients on the ``meta`` device (a stand-in for a GPU that every machine has):
    the parameters stay there, and so does every state tensor of a parameter's shape."""
    shapes = [(4, 3), (5,)]
    opt, ps = _ready(learner_cls, impl, [torch.zeros(s, device="meta") for s in shapes],
                     [torch.zeros(s, device="meta") for s in shapes], kw)
    label = f"{what} on parameters and gradients on the `meta` device"
    for t in range(steps):
        try:
            opt.step()
        except LearnerError as e:
            if "device" in e.message:
                raise AssertionError(f"{label}, step {t + 1}: {e.describe()}\n  {_ZEROS}") from None
            raise
    probes = impl.lib("worker_support.nn_probes")
    for k, device in enumerate(probes.devices_of(ps)):
        if device != "meta":
            raise AssertionError(f"{label}: parameter {k} is on {device} after {steps} steps, expected meta. Likely "
                                 f"mistake: the parameter was replaced (p.data = ...) instead of updated in place")
    for k, state in enumerate(probes.state_devices(opt, ps)):
        for key, device in state:
            if device != "meta":
                raise AssertionError(f"{label}: self.state[p][{key!r}] of parameter {k} is on {device}, its "
                                     f"parameter on meta. {_ZEROS}")


def check_grads_unchanged(learner_cls, impl, rng, kw, *, what: str, steps: int = 3) -> None:
    """``steps`` steps where each ``p.grad`` is a tensor the grader keeps: none may change, during its own step
    or later (a momentum buffer that aliases an old gradient is caught when it is updated)."""
    p0, grads = problem(rng, [(3, 3), (4,)], steps)
    opt, ps = _ready(learner_cls, impl, p0, grads[0], kw)
    call_unchanged(impl.lib("worker_support.nn_probes").steps_with, opt, ps, grads,
                   names=("optimizer", "params", "grads"),
                   what=f"{what}: {steps} steps with p.grad = grads[step][i] (p.grad belongs to autograd and the "
                        f"caller: the optimizer reads it and never writes into it)")


def check_any_rank(learner_cls, oracle_cls, impl, rng, kw, *, what: str, steps: int, mistakes, hint) -> None:
    """The trajectory of a 0-d, a 4-D and a 1-D parameter (a learned temperature, a conv kernel, a bias)."""
    shapes = [(), (2, 3, 2, 2), (5,)]
    try:
        run_and_judge(learner_cls, oracle_cls, impl, rng, shapes, None, kw, what, steps=steps, mistakes=mistakes,
                      hint=hint)
    except LearnerError as e:
        raise AssertionError(f"{what}: {e.describe()}\n  Likely mistake: code that assumes a parameter has at least "
                             f"one axis (len(p), p.shape[0], a loop over p's rows); a parameter may be 0-d (a learned "
                             f"scale) or 4-D (a conv kernel): update it with whole-tensor operations") from None


def _label(class_name: str, kw: dict) -> str:
    return f"{class_name}({', '.join(f'{k}={v}' for k, v in kw.items())})"


def contract_checks(class_name: str, oracle_cls, kw: dict, *, steps: int, mistakes, hint: str,
                    grads_kws: tuple = (), speed_kw: dict | None = None):
    """``(test_grads_unchanged, test_any_rank, test_state_device, test_speed)`` for the optimizer class the
    exercise names ``class_name``, judged against ``oracle_cls`` (e.g. torch.optim.SGD) with hyper-parameters
    ``kw`` (choose ones that run every branch that keeps state or decays). ``grads_kws``: the hyper-parameters
    of each gradient check (default ``(kw,)``); ``speed_kw``: of the timed step (default ``kw``)."""
    label = _label(class_name, kw)

    @check(points=1, covers=("inputs",))
    def test_grads_unchanged(ex, impl, rng):
        for grads_kw in grads_kws or (kw,):
            check_grads_unchanged(getattr(ex, class_name), impl, rng, grads_kw, what=_label(class_name, grads_kw))

    @check(points=1)
    def test_any_rank(ex, impl, rng):
        check_any_rank(getattr(ex, class_name), oracle_cls, impl, rng, kw, steps=steps, mistakes=mistakes, hint=hint,
                       what=f"{label} over {steps} steps of a 0-d, a 4-D [2, 3, 2, 2] and a 1-D parameter")

    @check(points=1, covers=("device",))
    def test_state_device(ex, impl):
        check_state_device(getattr(ex, class_name), impl, kw, what=f"{label}.step()")

    @check(points=1, speed=True, timeout=60)
    def test_speed(ex, ref, impl, ref_impl, rng, exercise):
        check_fast(getattr(ex, class_name), getattr(ref, class_name), impl, ref_impl, rng, speed_kw or kw,
                   max_ratio=exercise.threshold("speed_max_ratio"),
                   what=f"{class_name}(...).step() over [64, 64] and [64]")

    return test_grads_unchanged, test_any_rank, test_state_device, test_speed

"""What a grader imports: the ``check`` decorator and the judge's helpers.

Everything here runs in the trusted grading process, on plain data that came back from the worker.
See docs/authoring.md for how a grader is written.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from torchcourse.remote import Handle, LearnerError, with_timeout
from torchcourse.static_scan import copied_source, find_forbidden

__all__ = [
    "LearnerError", "assert_close", "assert_fast", "assert_grads_close", "buffers", "check", "current_exercise",
    "diagnose", "expect_raises", "expect_tensor", "forbidden_api_check", "grad_of", "gradcheck", "load_state",
    "param_grads", "params", "put", "random_state", "speed_ratio", "threshold",
]


# ---------------------------------------------------------------- checks

@dataclass(frozen=True)
class CheckInfo:
    points: float = 1.0
    visibility: str = "visible"
    timeout: float | None = None
    speed: bool = False
    gpu: bool = False
    title: str | None = None


def check(points: float = 1.0, *, visibility: str = "visible", timeout: float | None = None,
          speed: bool = False, gpu: bool = False, title: str | None = None):
    """Declare a graded check: its weight in the exercise, visibility, per-call deadline and kind."""
    if visibility not in ("visible", "hidden"):
        raise ValueError("visibility is 'visible' or 'hidden'")
    if points <= 0:
        raise ValueError("a check's points must be positive")

    def decorate(fn):
        fn._check = CheckInfo(points, visibility, timeout, speed, gpu, title)
        if speed:
            fn = pytest.mark.speed(fn)
        if gpu:
            fn = pytest.mark.gpu(fn)
        return fn
    return decorate


class _Context:
    """The exercise whose check is running (set by the plugin around each check)."""
    exercise = None          # torchcourse.config.Exercise
    learner_file: Path | None = None


def current_exercise():
    if _Context.exercise is None:
        raise RuntimeError("no check is running")
    return _Context.exercise


def threshold(name: str) -> float:
    """A number from the running exercise's ``thresholds`` table in course.toml."""
    ex = current_exercise()
    if name not in ex.thresholds:
        raise KeyError(f"course.toml: {ex.key} has no threshold {name!r}")
    return float(ex.thresholds[name])


# ---------------------------------------------------------------- judging values

def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype}, on {value.device}"
    if isinstance(value, Handle):
        return f"an object of type {value.type_name}"
    return f"{type(value).__name__} {value!r}"[:200]


def expect_tensor(out, *, shape=None, dtype=None, device=None, what: str = "the result", hint: str | None = None):
    """Fail unless ``out`` is a plain tensor with the given shape, dtype and device type.

    ``hint`` is appended to a shape or dtype failure (e.g. the mistake that usually causes it)."""
    extra = f"\n  Hint: {hint}" if hint else ""
    if not isinstance(out, torch.Tensor):
        hint = ""
        if isinstance(out, Handle) and out.is_tensor:
            hint = " (a tensor subclass is not a tensor here: return a plain torch.Tensor)"
        elif isinstance(out, tuple):
            hint = " (a tuple: did you return more than asked for?)"
        elif type(out).__name__ == "Foreign":
            hint = " (convert with torch.from_numpy / torch.as_tensor)"
        raise AssertionError(f"{what}: expected a torch.Tensor, got {_describe(out)}{hint}")
    if shape is not None and tuple(out.shape) != tuple(shape):
        raise AssertionError(f"{what}: expected shape {tuple(shape)}, got {tuple(out.shape)}{extra}")
    if dtype is not None and out.dtype != dtype:
        raise AssertionError(f"{what}: expected dtype {dtype}, got {out.dtype}{extra}")
    if device is not None and out.device.type != torch.device(device).type:
        raise AssertionError(f"{what}: expected a tensor on {torch.device(device).type}, got one on "
                             f"{out.device.type} (create new tensors with device=x.device)")
    return out


def diagnose(actual: torch.Tensor, mistakes, *, atol: float, rtol: float) -> str | None:
    """The first named mistake whose predicted output matches ``actual``, or None."""
    for name, predicted in mistakes:
        if predicted is None or not isinstance(predicted, torch.Tensor) or predicted.shape != actual.shape:
            continue
        a, p = actual.detach().to("cpu", torch.float64), predicted.detach().to("cpu", torch.float64)
        if torch.allclose(a, p, atol=atol, rtol=rtol, equal_nan=True):
            return name
    return None


def assert_close(actual, expected: torch.Tensor, *, atol: float, rtol: float = 0.0, what: str = "the result",
                 hint: str | None = None, mistakes=()) -> None:
    """Compare against the oracle; on failure say where, by how much, at which tolerance, and why (if known).

    ``mistakes`` is a sequence of ``(name, predicted_tensor)``: what each known mistake would have returned.
    """
    expect_tensor(actual, shape=expected.shape, what=what)
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    diag = diagnose(actual, mistakes, atol=atol, rtol=rtol) if mistakes else None
    bad_finite = ~torch.isfinite(a) & torch.isfinite(e)
    if bad_finite.any():
        idx = tuple(int(i) for i in bad_finite.nonzero()[0])
        msg = (f"{what}: expected finite values, got {a[idx].item()} at index {idx} "
               f"(expected {e[idx].item():.6g}); {int(bad_finite.sum())} non-finite element(s)")
        raise AssertionError(_with_diagnosis(msg, diag, hint))
    close = torch.isclose(a, e, atol=atol, rtol=rtol, equal_nan=True)
    if close.all():
        return
    err = (a - e).abs().nan_to_num(float("inf"))
    err = torch.where(close, torch.zeros_like(err), err)
    flat = int(err.argmax())
    idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), a.shape)) if a.dim() else ()
    msg = (f"{what}: {int((~close).sum())} of {a.numel()} elements differ from the expected values "
           f"(tolerance atol={atol:g}, rtol={rtol:g}); worst at index {idx}: expected {e[idx].item():.6g}, "
           f"got {a[idx].item():.6g}")
    raise AssertionError(_with_diagnosis(msg, diag, hint))


def _with_diagnosis(msg: str, diagnosis: str | None, hint: str | None) -> str:
    if diagnosis:
        msg += f"\n  Likely mistake: {diagnosis}."
    if hint:
        msg += f"\n  Hint: {hint}"
    return msg


def expect_raises(exc_type: type[BaseException], fn: Handle, *args, what: str | None = None, **kwargs):
    """The contract demands an exception of ``exc_type`` (matched by name, as the worker reports it)."""
    label = what or f"{getattr(fn, '_type', 'the call')}"
    try:
        result = fn(*args, **kwargs)
    except LearnerError as e:
        if e.type == exc_type.__name__:
            return e
        if e.type in ("NotImplementedError", "ForbiddenAPIError", "Crash", "Timeout"):
            raise
        raise AssertionError(f"{label}: expected {exc_type.__name__}, but your code raised {e.type}: "
                             f"{e.message}") from None
    raise AssertionError(f"{label}: expected {exc_type.__name__} to be raised, but it returned "
                         f"{_describe(result)}")


# ---------------------------------------------------------------- driving the worker

def grad_of(fn: Handle, *args, grad_outputs=None, output_index: int = 0, **kwargs):
    """Call ``fn`` in the worker, backpropagate from its output, return ``(result, grads)``.

    ``grads`` holds the ``.grad`` of every argument tensor that had ``requires_grad=True``, in order.
    A result that autograd cannot reach (it went through numpy, ``.item()``, ``.detach()``, ``no_grad``)
    fails with a message that says so rather than with autograd's own error.
    """
    grad = {"output_index": output_index,
            "grad_outputs": fn._impl.encode(grad_outputs) if grad_outputs is not None else None}
    try:
        return fn._call(args, kwargs, grad=grad)
    except LearnerError as e:
        if "does not require grad" in e.message:
            raise AssertionError("d out / d x: expected a gradient, but the result is not connected to x (did "
                                 "it go through numpy, .item(), .detach() or torch.no_grad()?)") from None
        raise


def gradcheck(fn: Handle, *args, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-4, directions: int = 3,
              output_index: int = 0, generator: torch.Generator | None = None, what: str = "the gradient",
              **kwargs) -> None:
    """The learner's backward agrees with the learner's own forward (float64 finite differences).

    No oracle is needed: for random directions u and a random output weighting g, the analytic
    ``Σ <∂(g·f)/∂x_i, u_i>`` from the worker's backward must equal the central difference
    ``g · (f(x + εu) − f(x − εu)) / 2ε``, both computed from calls into the worker. Arguments that should be
    checked are float64 tensors with ``requires_grad=True``; everything else is passed as given.
    """
    gen = generator or torch.Generator().manual_seed(0)
    first = fn(*[a.detach() if isinstance(a, torch.Tensor) else a for a in args], **kwargs)
    out0 = first[output_index] if isinstance(first, tuple) else first
    expect_tensor(out0, what=f"{what}: the output")
    g = torch.randn(out0.shape, generator=gen, dtype=torch.float64)
    _, grads = grad_of(fn, *args, grad_outputs=g.to(out0.device, out0.dtype), output_index=output_index, **kwargs)
    wrt = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.requires_grad]
    for i, grad in zip(wrt, grads):
        if grad is None:
            raise AssertionError(f"{what}: no gradient reached argument {i} (is the result detached from it?)")
        expect_tensor(grad, shape=args[i].shape, what=f"{what}: the gradient of argument {i}")
    for d in range(directions):
        u = {i: torch.randn(args[i].shape, generator=gen, dtype=torch.float64) for i in wrt}

        def shifted(sign: float, u=u):
            moved = [(a.detach() + sign * eps * u[i].to(a.device, a.dtype)) if i in u else
                     (a.detach() if isinstance(a, torch.Tensor) else a) for i, a in enumerate(args)]
            res = fn(*moved, **kwargs)
            res = res[output_index] if isinstance(res, tuple) else res
            expect_tensor(res, shape=out0.shape, what=f"{what}: the output")
            return res.detach().to("cpu", torch.float64)
        numeric = float((g * (shifted(1.0) - shifted(-1.0))).sum() / (2 * eps))
        analytic = float(sum((grads[k].to("cpu", torch.float64) * u[i]).sum() for k, i in enumerate(wrt)))
        if not abs(numeric - analytic) <= atol + rtol * abs(numeric):
            raise AssertionError(
                f"{what}: the backward pass disagrees with the forward pass. Along a random direction the "
                f"directional derivative is {numeric:.8g} by central differences (ε={eps:g}) but {analytic:.8g} "
                f"from your backward (tolerance atol={atol:g}, rtol={rtol:g}, direction {d + 1} of {directions}).\n"
                f"  Likely mistake: a wrong derivative formula in backward, or gradients returned for the wrong input.")


def assert_grads_close(got: dict, expected: dict, *, atol: float, rtol: float = 0.0, what: str,
                       hint: str | None = None) -> None:
    """Every expected gradient (``name -> tensor``, from the oracle) against the learner's (``name -> tensor or
    None``, e.g. from ``param_grads``): a missing gradient is named, a wrong one compared with ``assert_close``."""
    for name, want in expected.items():
        have = got.get(name)
        if have is None:
            raise AssertionError(f"gradient of {name} ({what}): expected a tensor, got None (is {name} used in "
                                 f"forward, or the result detached from it?)")
        assert_close(have, want, atol=atol, rtol=rtol, what=f"gradient of {name} ({what})", hint=hint)


def random_state(module: torch.nn.Module, generator: torch.Generator, scale: float = 1.0) -> dict:
    """A state dict for ``module`` with every entry random (biases, norms, running statistics too), so that no
    default value can hide a mistake: ``scale·N(0, 1)``, running variances in [0.5, 1.5), counters kept."""
    state = {}
    for name, value in module.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = value
        elif name.endswith("running_var"):
            state[name] = 0.5 + torch.rand(value.shape, generator=generator, dtype=value.dtype)
        else:
            state[name] = scale * torch.randn(value.shape, generator=generator, dtype=value.dtype)
    return state


def params(module: Handle) -> dict:
    reply = module._impl.request({"op": "params", "obj": module._ref()})
    return {name: module._impl.decode(value) for name, value, _ in reply["result"]}


def param_grads(module: Handle) -> dict:
    reply = module._impl.request({"op": "params", "obj": module._ref()})
    return {name: None if grad is None else module._impl.decode(grad) for name, _, grad in reply["result"]}


def buffers(module: Handle) -> dict:
    reply = module._impl.request({"op": "buffers", "obj": module._ref()})
    return {name: module._impl.decode(value) for name, value in reply["result"]}


def load_state(module: Handle, state_dict: dict) -> None:
    """``module.load_state_dict(state_dict)`` (strict) with a message that lists what did not match."""
    try:
        module.load_state_dict({k: v.detach() for k, v in state_dict.items()})
    except LearnerError as e:
        if e.type == "RuntimeError" and "state_dict" in e.message:
            raise AssertionError(f"the parameters do not have the expected names and shapes:\n  {e.message}\n"
                                 f"  expected: {sorted((k, tuple(v.shape)) for k, v in state_dict.items())}") \
                from None
        raise


# ---------------------------------------------------------------- speed

def speed_ratio(learner_fn: Handle, reference_fn: Handle, *args, repeat: int = 7, number: int = 1,
                timeout: float | None = None, **kwargs) -> tuple[float, float, float]:
    """Best wall time of the learner's call over the reference's, both timed here, in this process.

    Inputs are sent once and kept in each worker; each timed request runs the call and returns nothing, so
    transfer costs stay out of the measurement. Calls alternate between the two workers so that a busy
    machine slows both alike, and the minimum of ``repeat`` samples (each the mean of ``number`` round trips)
    is kept: scheduling delays only ever add time, so the minimum is the least noisy estimate (as timeit
    advises). Returns ``(ratio, learner_s, reference_s)``.
    """
    sides = []
    for fn in (learner_fn, reference_fn):
        stored_args = [_store(fn, a) for a in args]
        stored_kwargs = {k: _store(fn, v) for k, v in kwargs.items()}
        sides.append((with_timeout(fn, timeout) if timeout else fn, stored_args, stored_kwargs))
    for fn, a, kw in sides:                       # warm-up: first-call costs (allocation, caches)
        fn._call(a, kw, discard=True)
    samples = ([], [])
    for _ in range(repeat):
        for side, (fn, a, kw) in enumerate(sides):
            start = time.perf_counter()
            for _ in range(number):
                fn._call(a, kw, discard=True)
            samples[side].append((time.perf_counter() - start) / number)
    learner_s, reference_s = min(samples[0]), min(samples[1])
    return learner_s / reference_s, learner_s, reference_s


def put(impl, value) -> Handle:
    """Send ``value`` to the worker once and keep it there: a handle to a worker-side tensor, Parameter
    (``torch.nn.Parameter(t)`` here arrives as a Parameter there), list or dict, to pass to learner code or to
    call methods on (``h.add_(1)``, ``h.grad``)."""
    reply = impl.request({"op": "put", "value": impl.encode(value)})
    return impl.decode(reply["result"])


def _store(fn: Handle, value):
    """Keep a tensor argument in fn's worker (a handle), so that timed calls do not ship it again."""
    return put(fn._impl, value) if isinstance(value, torch.Tensor) else value


def assert_fast(learner_fn: Handle, reference_fn: Handle, *args, max_ratio: float | None = None,
                what: str = "your implementation", **kwargs) -> None:
    """Fail when the learner's call is more than ``max_ratio`` times slower than the reference's."""
    limit = max_ratio if max_ratio is not None else threshold("speed_max_ratio")
    ratio, mine, ref = speed_ratio(learner_fn, reference_fn, *args, **kwargs)
    if ratio > limit:
        raise AssertionError(
            f"{what} took {mine * 1e3:.2f} ms per call, {ratio:.1f}x the vectorised reference "
            f"({ref * 1e3:.2f} ms); the limit is {limit:g}x. Likely mistake: a Python loop over elements, "
            f"rows or positions; express it with whole-tensor operations (broadcasting, matmul, indexing).")


# ---------------------------------------------------------------- forbidden APIs

def forbidden_api_check(points: float = 1.0):
    """A ready-made check: the learner's file must not name the exercise's forbidden APIs."""

    @check(points=points, title="does not use the API it re-implements")
    def test_no_forbidden_api(learner_file, ex):     # `ex`: a module that cannot even be imported earns nothing
        ex = current_exercise()
        if not ex.forbidden:
            return
        try:     # the bytes the worker imported, copied before any learner code ran; not the file as it is now
            source = copied_source(learner_file) or learner_file.read_text(encoding="utf-8")
        except OSError as e:
            raise AssertionError(f"cannot read {learner_file}: {e}") from None
        try:
            findings = find_forbidden(source, ex.forbidden)
        except SyntaxError as e:
            raise AssertionError(f"{learner_file}, line {e.lineno}: SyntaxError: {e.msg}") from None
        if findings:
            lines = "\n".join(f"  line {f.line}: {f.code}   <- {f.api}" for f in findings)
            raise AssertionError(f"forbidden API used in {learner_file.name} (this exercise is about building "
                                 f"it yourself):\n{lines}")
        stub_left = "NotImplementedError" in source and "not implemented yet" in source
        if stub_left:
            raise AssertionError("not implemented yet: nothing to scan")
    return test_no_forbidden_api

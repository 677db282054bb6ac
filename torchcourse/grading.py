"""What a grader imports: the ``check`` decorator and the judge's helpers.

Everything here runs in the trusted grading process, on plain data that came back from the worker.
See docs/authoring.md for how a grader is written.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

import pytest
import torch

from torchcourse import protocol
from torchcourse.devices import expect_device_follows
from torchcourse.inputs import call_unchanged
from torchcourse.remote import Handle, LearnerError
from torchcourse.static_scan import copied_source, find_forbidden

__all__ = [
    "LearnerError", "assert_close", "assert_fast", "assert_grads_close", "buffers", "call_unchanged", "check",
    "diagnose", "expect_device_follows", "expect_raises", "expect_tensor", "forbidden_api_check", "grad_of",
    "gradcheck", "load_state", "param_grads", "params", "put", "random_state", "speed_ratio",
]


# ---------------------------------------------------------------- checks

COVERS = ("device", "inputs")     # what a check can declare it proves, beyond its values (see `covers`)


@dataclass(frozen=True)
class CheckInfo:
    points: float = 1.0
    visibility: str = "visible"
    timeout: float | None = None
    speed: bool = False
    gpu: bool = False
    title: str | None = None
    covers: tuple[str, ...] = ()


def check(points: float = 1.0, *, visibility: str = "visible", timeout: float | None = None,
          speed: bool = False, gpu: bool = False, title: str | None = None, covers: tuple[str, ...] = ()):
    """Declare a graded check: its weight in the exercise, visibility, per-call deadline and kind.

    ``covers`` names the contracts it proves besides values, which the author's gate requires of every
    exercise: ``"device"`` (new tensors follow the inputs' device, checked without a GPU too) and ``"inputs"``
    (the caller's tensors come back unchanged). Speed checks are ``speed=True``.
    """
    if visibility not in ("visible", "hidden"):
        raise ValueError("visibility is 'visible' or 'hidden'")
    if points <= 0:
        raise ValueError("a check's points must be positive")
    if any(c not in COVERS for c in covers):
        raise ValueError(f"covers: choose among {', '.join(COVERS)}")

    def decorate(fn):
        fn._check = CheckInfo(points, visibility, timeout, speed, gpu, title, tuple(covers))
        if speed:
            fn = pytest.mark.speed(fn)
        if gpu:
            fn = pytest.mark.gpu(fn)
        return fn
    return decorate


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

    The message reads like ``torch.testing.assert_close``'s: how many elements differ (and what share), the
    greatest absolute and relative differences with their indices, and the tolerance, then the first matching
    ``mistakes`` entry — ``(name, predicted_tensor)``: what each known mistake would have returned — and ``hint``.
    ``actual`` may be None (a gradient that never arrived): that is explained, not compared.
    """
    if actual is None:
        raise AssertionError(_with_diagnosis(
            f"{what}: expected a tensor of shape {tuple(expected.shape)}, got None. For a gradient this means none "
            f"flowed back: the result is not connected to this input (it went through numpy, .item(), .detach() or "
            f"torch.no_grad(), or the input is not used at all)", None, hint))
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
    n_bad, n = int((~close).sum()), a.numel()
    abs_err = torch.where(close, torch.zeros_like(a), (a - e).abs().nan_to_num(float("inf")))
    rel_err = abs_err / e.abs().clamp_min(torch.finfo(torch.float64).tiny)
    worst, worst_rel = _index_of_max(abs_err), _index_of_max(rel_err)
    msg = (f"{what}: {n_bad} of {n} elements differ from the expected values ({100 * n_bad / n:.1f}%; "
           f"tolerance atol={atol:g}, rtol={rtol:g}); worst at index {worst}: expected {e[worst].item():.6g}, "
           f"got {a[worst].item():.6g}\n"
           f"  Greatest absolute difference: {abs_err[worst].item():.3g} at index {worst}\n"
           f"  Greatest relative difference: {rel_err[worst_rel].item():.3g} at index {worst_rel}")
    raise AssertionError(_with_diagnosis(msg, diag, hint))


def _index_of_max(t: torch.Tensor) -> tuple:
    flat = int(t.reshape(-1).argmax())
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), t.shape)) if t.dim() else ()


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

def grad_of(fn: Handle, *args, grad_outputs=None, output_index: int = 0, names: tuple[str, ...] | None = None,
            what: str = "out", **kwargs):
    """Call ``fn`` in the worker, backpropagate from its output, return ``(result, grads)``.

    ``grads`` holds the ``.grad`` of every argument tensor that had ``requires_grad=True``, in order.
    With ``names`` (one per such argument, e.g. ``("q", "k", "v")``) a gradient that never arrived fails
    here, naming the input, so graders need not check for None themselves.
    A result that autograd cannot reach (it went through numpy, ``.item()``, ``.detach()``, ``no_grad``)
    fails with a message that says so rather than with autograd's own error.
    """
    grad = {"output_index": output_index,
            "grad_outputs": fn._impl.encode(grad_outputs) if grad_outputs is not None else None}
    try:
        result, grads = fn._call(args, kwargs, grad=grad)
    except LearnerError as e:
        if "does not require grad" in e.message:
            inputs = " or ".join(names) if names else "x"
            raise AssertionError(f"d {what} / d {inputs}: expected a gradient, but the result is not connected to "
                                 f"{inputs} (did it go through numpy, .item(), .detach() or torch.no_grad()?)") \
                from None
        raise
    for name, g in zip(names or (), grads):
        if g is None:
            raise AssertionError(f"d {what} / d {name}: expected a gradient, got None: no gradient flowed back to "
                                 f"{name} (is the result detached from it, e.g. through numpy, .item(), .detach() "
                                 f"or torch.no_grad(), or is {name} not used?)")
    return result, grads


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
                timeout: float | None = None, inputs=None, verify: bool = True, what: str = "your implementation",
                **kwargs) -> tuple[float, float, float]:
    """Best wall time of the learner's call over the reference's, both timed here, in this process.

    Every timed call is an ordinary call, the very request a checked call sends, so nothing in the worker can
    tell that it is timed; each carries its own inputs, which arrive as new tensors (never the same objects or
    versions twice), and its result comes back. ``inputs(i) -> (args, kwargs)`` makes the inputs of call ``i``
    (0 is the warm-up); by default call ``i`` gets ``*args, **kwargs`` with every floating-point tensor scaled by
    ``1 + i/256`` (``_fresh``), so that no two calls share values either: a result cached on identity (ids are
    reused once an input is freed), version or values is then a stale result, caught by the verification
    below. Pass ``inputs`` where scaling would make an input invalid (probabilities that must sum to one).
    Only the round trips are timed: requests are encoded before the clock starts and replies decoded after.
    Calls alternate between the two workers so that a busy machine slows both alike, and the minimum of
    ``repeat`` samples (each the mean of ``number`` round trips) is kept: scheduling delays only ever add
    time, so the minimum is the least noisy estimate (as timeit advises).

    With ``verify`` (the default) every learner result is then compared with the reference's for the same
    inputs, loosely (``_same_result``): a timed call that returns something else fails here, whatever its
    speed. Returns ``(ratio, learner_s, reference_s)``.
    """
    make = inputs if inputs is not None else (lambda i: (_fresh(args, i), _fresh(kwargs, i)))
    calls = [make(i) for i in range(1 + repeat * number)]
    sides = [(fn, [fn._call_message(list(a), dict(kw)) for a, kw in calls]) for fn in (learner_fn, reference_fn)]
    results: tuple[list, list] = ([], [])
    samples: tuple[list, list] = ([], [])
    for side, (fn, messages) in enumerate(sides):          # warm-up: first-call costs (allocation, caches)
        results[side].append(fn._call_result(fn._impl.request(messages[0], timeout or fn._timeout)))
    for r in range(repeat):
        for side, (fn, messages) in enumerate(sides):
            batch = messages[1 + r * number:1 + (r + 1) * number]
            start = time.perf_counter()
            replies = [fn._impl.request(message, timeout or fn._timeout) for message in batch]
            samples[side].append((time.perf_counter() - start) / number)
            results[side].extend(fn._call_result(reply) for reply in replies)
    if verify:
        for i, (mine, theirs) in enumerate(zip(*results)):
            problem = _same_result(mine, theirs)
            if problem:
                raise AssertionError(
                    f"{what}: your timed calls returned different results from the reference's on the same "
                    f"inputs (call {i + 1} of {len(calls)}: {problem}). A call must return the same thing whether "
                    f"or not it is timed; likely mistake: a result cached from an earlier call, or state kept "
                    f"between calls.")
    learner_s, reference_s = min(samples[0]), min(samples[1])
    return learner_s / reference_s, learner_s, reference_s


def _fresh(value, i: int):
    """``value`` for timed call ``i``: floating-point tensors (at any depth) scaled by ``1 + i/256``, each a new
    tensor with the same layout and ``requires_grad``; everything else as given."""
    def scaled(t: torch.Tensor):
        if not t.is_floating_point() or t.device.type == "meta":
            return t
        return t.detach().clone().mul_(1 + i / 256).requires_grad_(t.requires_grad)
    return protocol.map_tensors(scaled, value)


def _same_result(mine, theirs, rtol: float = 1e-3, atol: float = 1e-3) -> str | None:
    """None when ``mine`` matches ``theirs`` loosely (tensors: shape, then values within ``rtol`` and ``atol``
    scaled by the largest expected magnitude; containers item by item; worker objects are not compared), else
    what differs."""
    if isinstance(theirs, Handle) and isinstance(mine, Handle):
        return None
    if isinstance(theirs, torch.Tensor):
        if not isinstance(mine, torch.Tensor):
            return f"expected {_describe(theirs)}, got {_describe(mine)}"
        if mine.shape != theirs.shape:
            return f"expected shape {tuple(theirs.shape)}, got {tuple(mine.shape)}"
        if "meta" in (mine.device.type, theirs.device.type):
            return None
        a, e = mine.detach().to("cpu", torch.float64), theirs.detach().to("cpu", torch.float64)
        scale = float(e.abs().nan_to_num(0, 0, 0).max()) if e.numel() else 0.0
        if not torch.allclose(a, e, rtol=rtol, atol=atol * max(1.0, scale), equal_nan=True):
            return "the values differ"
        return None
    if isinstance(theirs, (tuple, list)):
        if type(mine) is not type(theirs) or len(mine) != len(theirs):
            return f"expected {_describe(theirs)}, got {_describe(mine)}"
        return next((f"item {k}: {p}" for k, p in ((k, _same_result(m, t)) for k, (m, t) in
                                                  enumerate(zip(mine, theirs))) if p), None)
    if isinstance(theirs, dict):
        if not isinstance(mine, dict) or mine.keys() != theirs.keys():
            return f"expected {_describe(theirs)}, got {_describe(mine)}"
        return next((f"[{k!r}]: {p}" for k, p in ((k, _same_result(mine[k], theirs[k])) for k in theirs) if p), None)
    if isinstance(theirs, float) and isinstance(mine, (int, float)) and not isinstance(mine, bool):
        close = math.isclose(mine, theirs, rel_tol=rtol, abs_tol=atol) or (mine != mine and theirs != theirs)
        return None if close else f"expected {theirs!r}, got {mine!r}"
    return None if type(mine) is type(theirs) and mine == theirs else f"expected {_describe(theirs)}, got " \
        f"{_describe(mine)}"


def put(impl, value) -> Handle:
    """Send ``value`` to the worker once and keep it there: a handle to a worker-side tensor, Parameter
    (``torch.nn.Parameter(t)`` here arrives as a Parameter there), list or dict, to pass to learner code or to
    call methods on (``h.add_(1)``, ``h.grad``)."""
    reply = impl.request({"op": "put", "value": impl.encode(value)})
    return impl.decode(reply["result"])


def assert_fast(learner_fn: Handle, reference_fn: Handle, *args, max_ratio: float,
                what: str = "your implementation", **kwargs) -> None:
    """Fail when the learner's call is more than ``max_ratio`` times slower than the reference's
    (``max_ratio=exercise.threshold("speed_max_ratio")``: declared with the exercise, measured), or when its
    timed calls return something other than the reference's results (see ``speed_ratio``)."""
    limit = max_ratio
    ratio, mine, ref = speed_ratio(learner_fn, reference_fn, *args, what=what, **kwargs)
    if ratio > limit:
        raise AssertionError(
            f"{what} took {mine * 1e3:.2f} ms per call, {ratio:.1f}x the vectorised reference "
            f"({ref * 1e3:.2f} ms); the limit is {limit:g}x. Likely mistake: a Python loop over elements, "
            f"rows or positions; express it with whole-tensor operations (broadcasting, matmul, indexing).")


# ---------------------------------------------------------------- forbidden APIs

def forbidden_api_check(points: float = 1.0):
    """A ready-made check: the learner's file must not name the exercise's forbidden APIs."""

    @check(points=points, title="does not use the API it re-implements")
    def test_no_forbidden_api(exercise, learner_file, ex):   # `ex`: a module that cannot be imported earns nothing
        if not exercise.forbidden:
            return
        try:     # the bytes the worker imported, copied before any learner code ran; not the file as it is now
            source = copied_source(learner_file) or learner_file.read_text(encoding="utf-8")
        except OSError as e:
            raise AssertionError(f"cannot read {learner_file}: {e}") from None
        try:
            findings = find_forbidden(source, exercise.forbidden)
        except SyntaxError as e:
            raise AssertionError(f"{learner_file}, line {e.lineno}: SyntaxError: {e.msg}") from None
        if findings:
            lines = "\n".join(f"  line {f.line}: {f.code}   <- {f.api}" for f in findings)
            raise AssertionError(f"forbidden API used in {learner_file.name} (this exercise is about building "
                                 f"it yourself):\n{lines}")
        # a stub (ours, or nbgrader's bare `raise NotImplementedError()`) uses nothing: it earns nothing here
        if re.search(r"^\s*raise\s+NotImplementedError\b", source, re.M):
            raise AssertionError("not implemented yet: nothing to scan")
    return test_no_forbidden_api

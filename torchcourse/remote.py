"""The trusted side's view of learner code: an Implementation (a folder of learner files served by a
worker) and Handles (objects living in the worker).

Calling a handle sends a request; what comes back is rebuilt here from plain data: tensors are new
``torch.Tensor`` objects made from bytes, so no learner object, subclass or patched method ever reaches
the judge.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import torch

from torchcourse import protocol, sandbox, zygote
from torchcourse.sandbox import Limits, WorkerDied, WorkerProcess, WorkerTimeout

DEFAULT_TIMEOUT = 20.0


def check_budget(call_timeout: float) -> float:
    """Default wall-clock budget of one check's learner calls together: one and a half calls at the check's
    per-call timeout (ch05's ``fit`` trains for up to 45 s in one call of a 90 s timeout: 135 s)."""
    return 1.5 * call_timeout


def exercise_budget(call_timeout: float) -> float:
    """Default wall-clock budget of one exercise's learner calls, all its checks together: three calls at
    the exercise's per-call timeout (ch10, 20 s per call: 60 s per exercise, where the reference needs about
    1 s; ch04's optimizers: 180 s; ch05's ``fit``: 270 s). Enough that correct but slow code, or one
    accidental infinite loop, still earns the exercise's other checks."""
    return 3.0 * call_timeout


class Budget:
    """Wall-clock budgets for the learner's calls: one per check and one per exercise.

    Each call gets ``min(its own timeout, what is left of the check's budget, what is left of the
    exercise's)``, and the time it took is charged to both, so code that sleeps just under every deadline
    cannot keep a run going: once an exercise's budget is spent its remaining checks fail at once. Only
    time spent waiting for the learner's worker counts (never the judge's or the reference's). Unlimited
    until ``start_check`` is called.
    """

    def __init__(self):
        self.check: tuple[str, float] | None = None     # (what, seconds) of the running check's budget
        self.check_left = float("inf")
        self.exercise: tuple[str, float] | None = None
        self.exercise_left: dict[str, float] = {}

    def start_check(self, seconds: float, exercise: str, exercise_seconds: float) -> None:
        self.check, self.check_left = ("this check's", seconds), seconds
        self.exercise = (exercise, exercise_seconds)
        self.exercise_left.setdefault(exercise, exercise_seconds)

    def allow(self, timeout: float) -> tuple[float, str | None]:
        """The timeout for the next call, and the budget that set it (None: the call's own timeout)."""
        left, which = timeout, None
        if self.check is not None and self.check_left < left:
            left, which = self.check_left, f"{self.check[0]} time budget ({self.check[1]:g} s for all its calls)"
        if self.exercise is not None:
            name, seconds = self.exercise
            if self.exercise_left[name] < left:
                left, which = self.exercise_left[name], f"the time budget of {name} ({seconds:g} s for all its checks)"
        return max(left, 0.0), which

    def spend(self, seconds: float) -> None:
        self.check_left -= seconds
        if self.exercise is not None:
            self.exercise_left[self.exercise[0]] -= seconds


class LearnerError(AssertionError):
    """Learner code raised an exception (or crashed, or hung) while a check was running it."""

    def __init__(self, type_name: str, message: str, where: dict | None = None, traceback: str = "",
                 output: str = ""):
        self.type = type_name
        self.message = message
        self.where = where
        self.traceback = traceback
        self.output = output
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.type == "NotImplementedError" and self.message.endswith("not implemented yet"):
            text = f"not implemented yet: {self.message.removesuffix(': not implemented yet')}"
            return text + (f" in {_shown(self.where['file'])}, line {self.where['line']}" if self.where else "")
        if self.type in ("ForbiddenAPIError", "StaleHandle"):
            text = self.message
        else:
            text = f"your code raised {self.type}: {self.message}"
        if self.where:
            text += f"\n  at {_shown(self.where['file'])}, line {self.where['line']}"
            if self.where.get("code"):
                text += f": {self.where['code']}"
        return text


def _shown(path: str) -> str:
    """A learner's path as they would type it: relative to the current folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


class LearnerCrash(LearnerError):
    """The worker died or timed out: the check fails, and the next check gets a fresh worker."""

    def __init__(self, reason: str, output: str = "", timed_out: bool = False):
        self.timed_out = timed_out
        super().__init__("Timeout" if timed_out else "Crash", reason, None, "", output)

    def describe(self) -> str:
        text = self.message[:1].upper() + self.message[1:] + "."
        if self.output.strip():
            text += "\n  last output:\n    " + "\n    ".join(self.output.strip().splitlines()[-8:])
        return text


class BudgetSpent(LearnerCrash):
    """The check's or the exercise's time budget is used up: the call was not even sent."""

    def __init__(self, budget: str):
        super().__init__(f"not run: your code already used up {budget}", timed_out=True)


class ImportFailed(LearnerError):
    """The learner's module could not be imported; recorded once and reported by every check that needs it."""

    def describe(self) -> str:
        where = ""
        if self.where:
            where = f" ({_shown(self.where['file'])}, line {self.where['line']}"
            where += f": {self.where['code']})" if self.where.get("code") else ")"
        return f"your module could not be imported: {self.type}: {self.message}{where}"


class Foreign:
    """A value the worker described but could not send as data (e.g. a numpy array)."""

    def __init__(self, record: dict):
        self.type = record.get("type", "?")
        self.record = record

    def __repr__(self) -> str:
        return f"<{self.type} from your code>"


class Implementation:
    """A folder of learner (or reference) files, served by one worker that is restarted after a crash."""

    def __init__(self, root: Path, *, label: str = "learner", limits: Limits = Limits(),
                 support: Path | None = None, preload: tuple[str, ...] = ()):
        """``support``: a package of worker-side helpers the graders hand to this code (e.g.
        ``graders/worker_support``); a copy is importable in the worker under its folder name.
        ``preload``: library modules (``torch._dynamo``) the zygote imports once before forking the worker."""
        self.root = Path(root)
        self.support = Path(support) if support is not None else None
        self.preload = tuple(preload)
        self.label = label
        self.limits = limits
        self.worker: WorkerProcess | None = None
        self.generation = 1         # bumped each time a worker is lost: its handles die with it
        self.import_errors: dict[str, LearnerError] = {}
        self.modules: dict[tuple[str, tuple], Handle] = {}
        self.lock = threading.Lock()
        self.default_timeout = DEFAULT_TIMEOUT    # per call; the plugin sets each check's own
        self._shared: str | None = None           # see shared_folder
        self.budget = Budget()                    # the plugin starts each check's (see Budget)

    def start(self) -> Implementation:
        """Have a live worker (forked from the zygote in milliseconds, or started as a new process)."""
        if self.worker is not None and not self.worker.alive:
            self._lose_worker()
        if self.worker is None:
            zygote.start()          # first use in this process: fork the zygote before anything is graded
            if self._shared is None:
                self._shared = sandbox.private_tempdir("shared")
                sandbox.hand_to_worker(self._shared)
            self.worker = WorkerProcess(self.root, limits=self.limits, label=self.label, support=self.support,
                                        preload=self.preload, shared_dir=self._shared)
        return self

    def shared_folder(self, name: str) -> Path:
        """A new, empty folder that this implementation's workers can write and the grading process can read
        (a grader's ``tmp_path``: the worker's own ``/tmp`` is private to it). Removed by ``close``."""
        self.start()
        path = Path(tempfile.mkdtemp(prefix=f"{name[:40]}-", dir=self._shared))
        sandbox.hand_to_worker(str(path))
        return path

    def _lose_worker(self) -> None:
        self.worker.close()
        self.worker = None
        self.generation += 1

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None
        if self._shared is not None:
            # what the worker's last processes write while their namespace dies can make one pass fail
            deadline = time.monotonic() + 5
            while os.path.exists(self._shared) and time.monotonic() < deadline:
                shutil.rmtree(self._shared, ignore_errors=True)
                if os.path.exists(self._shared):
                    time.sleep(0.05)
            self._shared = None

    def request(self, message: dict, timeout: float | None = None, *, budgeted: bool = True) -> dict:
        """Send one request and wait for its reply; ``budgeted=False`` (imports): the call's own timeout even
        when the budget is spent, its time still charged, so that checks that only need the module (the
        static scan) keep their honest verdict. (An import runs once per worker, and a spent budget sends
        no more calls that could time out and restart one.)"""
        timeout = timeout or self.default_timeout
        timeout, budget = self.budget.allow(timeout) if budgeted else (timeout, None)
        if timeout <= 0:
            raise BudgetSpent(budget)
        with self.lock:
            self.start()
            started = time.monotonic()
            try:
                reply = self.worker.request(message, timeout)
            except WorkerDied as e:
                self._lose_worker()
                reason = e.reason
                if isinstance(e, WorkerTimeout) and budget:
                    reason = f"{reason.split(' (')[0]}: that was all that was left of {budget}"
                raise LearnerCrash(reason, e.output_tail, isinstance(e, WorkerTimeout)) from None
            finally:
                self.budget.spend(time.monotonic() - started)
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {"message": str(reply["error"])}
            raise LearnerError(str(err.get("type", "Error")), str(err.get("message", "")), err.get("where"),
                               str(err.get("traceback", "")), self.worker.output_tail() if self.worker else "")
        return reply

    def module(self, name: str, *, forbid: tuple[str, ...] = (), timeout: float | None = None) -> Handle:
        """Import ``name`` in the worker (once); a failed or hung import is remembered, not retried."""
        if name in self.import_errors:
            raise self.import_errors[name]
        key = (name, tuple(forbid))
        if key in self.modules and self.modules[key]._generation == self.generation:
            return self.modules[key]
        try:
            reply = self.request({"op": "import", "module": name, "forbid": list(forbid)}, timeout, budgeted=False)
        except LearnerCrash as e:
            self.import_errors[name] = ImportFailed(e.type, e.message, None, "", e.output)
            raise self.import_errors[name] from None
        except LearnerError as e:
            self.import_errors[name] = ImportFailed(e.type, e.message, e.where, e.traceback, e.output)
            raise self.import_errors[name] from None
        handle = self.decode(reply["result"], forbid=tuple(forbid))
        handle._module_name = name
        self.modules[key] = handle
        return handle

    def lib(self, name: str) -> Handle:
        """A library module (``torch.nn``, ``torch.utils.data`` …) inside the worker, to build objects there."""
        return self.module(name)

    # ------------------------------------------------------------ values

    def encode(self, value, depth: int = 0):
        kind = type(value)
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return protocol.encode_float(value)
        if isinstance(value, torch.Tensor):
            return protocol.encode_tensor(value, kind="Parameter" if isinstance(value, torch.nn.Parameter)
                                          else "Tensor")
        if isinstance(value, Handle):
            if value._impl is not self:
                raise TypeError(f"{value!r} lives in another worker (the {value._impl.label}'s): each worker "
                                f"can only be sent its own objects")
            if value._generation != self.generation:
                raise LearnerCrash("an object from before the worker restarted was used again")
            return {"__t__": "handle", "id": value._id}
        if depth > 16:
            raise TypeError("argument nested too deeply")
        if kind is list:
            return [self.encode(v, depth + 1) for v in value]
        if isinstance(value, tuple):
            return {"__t__": "tuple", "v": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            return {"__t__": "dict", "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                               for k, v in value.items()]}
        if isinstance(value, torch.dtype):
            return {"__t__": "dtype", "v": str(value).removeprefix("torch.")}
        if isinstance(value, torch.device):
            return {"__t__": "device", "v": str(value)}
        if isinstance(value, slice):
            return {"__t__": "slice", "v": [value.start, value.stop, value.step]}
        raise TypeError(f"cannot send a {kind.__name__} to the worker")

    def decode(self, value, *, forbid: tuple[str, ...] = (), depth: int = 0):
        if depth > protocol.MAX_DEPTH:
            raise protocol.ProtocolError(f"a reply nested more than {protocol.MAX_DEPTH} deep")
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value
        if isinstance(value, list):
            return [self.decode(v, forbid=forbid, depth=depth + 1) for v in value]
        if not isinstance(value, dict):
            raise protocol.ProtocolError(f"unexpected value {type(value).__name__}")
        tag = value.get("__t__")
        if tag == "tensor":
            # results are plain data to the judge: values, not autograd graph members
            return protocol.decode_tensor(value, device_ok=device_available).detach()
        if tag == "float":
            return protocol.decode_float(value)
        if tag == "tuple":
            return tuple(self.decode(v, forbid=forbid, depth=depth + 1) for v in value.get("v", []))
        if tag == "dict":
            return {_hashable(self.decode(k, forbid=forbid, depth=depth + 1)):
                    self.decode(v, forbid=forbid, depth=depth + 1) for k, v in value.get("items", [])}
        if tag == "dtype":
            dtype = getattr(torch, str(value.get("v")), None)
            if not isinstance(dtype, torch.dtype):
                raise protocol.ProtocolError(f"unknown dtype {value.get('v')!r}")
            return dtype
        if tag == "device":
            return torch.device(str(value.get("v")))
        if tag == "handle":
            handle = Handle(self, int(value["id"]), str(value.get("type", "?")), bool(value.get("callable")), forbid)
            handle.is_tensor = bool(value.get("is_tensor"))
            return handle
        if tag == "foreign":
            return Foreign(value)
        raise protocol.ProtocolError(f"unknown record {tag!r}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def device_available(device: str) -> bool:
    """Whether a tensor that comes back on ``device`` may be placed there in the grading process (else: CPU)."""
    return device.startswith("cuda") and torch.cuda.is_available()


class Handle:
    """An object that lives in the worker. Attribute access and calls are requests; results come back
    as data or as further handles. Calls through a handle carry its exercise's forbidden APIs."""

    __slots__ = ("_impl", "_id", "_type", "_callable", "_forbid", "_generation", "_timeout", "_module_name",
                 "is_tensor")

    def __init__(self, impl: Implementation, handle_id: int, type_name: str, is_callable: bool,
                 forbid: tuple[str, ...] = ()):
        self._impl = impl
        self._id = handle_id
        self._type = type_name
        self._callable = is_callable
        self._forbid = forbid
        self._generation = impl.generation
        self._timeout = None        # None: the implementation's current default
        self._module_name = None    # a module handle is re-imported after a restart; other objects are lost
        self.is_tensor = False      # the worker says it is a tensor (a subclass: plain tensors arrive as data)

    @property
    def type_name(self) -> str:
        return self._type

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        reply = self._impl.request({"op": "getattr", "obj": self._ref(), "name": name}, self._timeout)
        return self._impl.decode(reply["result"], forbid=self._forbid)

    def __call__(self, *args, **kwargs):
        return self._call(args, kwargs)

    def __len__(self) -> int:
        return self._impl.request({"op": "len", "obj": self._ref()}, self._timeout)["result"]

    def __getitem__(self, key):
        reply = self._impl.request({"op": "getitem", "obj": self._ref(), "key": self._impl.encode(key)},
                                   self._timeout)
        return self._impl.decode(reply["result"], forbid=self._forbid)

    def attr(self, name: str):
        """Any attribute, dunders included (``h.attr("__version__")``); plain ``h.name`` refuses dunders so
        that Python's own protocol look-ups never turn into requests."""
        reply = self._impl.request({"op": "getattr", "obj": self._ref(), "name": name}, self._timeout)
        return self._impl.decode(reply["result"], forbid=self._forbid)

    def _call(self, args, kwargs, *, grad: dict | None = None, timeout: float | None = None,
              default_device: str | None = None):
        reply = self._impl.request(self._call_message(args, kwargs, grad, default_device), timeout or self._timeout)
        return self._call_result(reply, grad)

    def _call_message(self, args, kwargs, grad: dict | None = None, default_device: str | None = None) -> dict:
        """The request for ``self(*args, **kwargs)``: one form for every call, checked or timed, so that
        nothing in the worker can tell them apart (``grad``: backward too; ``default_device``: the device that
        factory functions without ``device=`` use during the call, for device checks)."""
        impl = self._impl
        message = {"op": "call", "obj": self._ref(), "args": impl.encode(list(args)),
                   "kwargs": impl.encode(dict(kwargs)), "forbid": list(self._forbid)}
        if grad is not None:
            message["grad"] = grad
        if default_device is not None:
            message["default_device"] = default_device
        return message

    def _call_result(self, reply: dict, grad: dict | None = None):
        result = self._impl.decode(reply["result"], forbid=self._forbid)
        if grad is not None:
            return result, [self._impl.decode(g) for g in reply.get("grads", [])]
        return result

    def _ref(self) -> int:
        if self._impl.worker is not None and not self._impl.worker.alive:
            self._impl.start()      # a worker that exited since the last call is replaced before ids are sent
        if self._generation != self._impl.generation and self._module_name is not None:
            fresh = self._impl.module(self._module_name, forbid=self._forbid)
            self._id, self._generation = fresh._id, fresh._generation
        if self._generation != self._impl.generation:
            raise LearnerCrash("this object was lost when the worker restarted after an earlier failure")
        return self._id

    def __repr__(self) -> str:
        return f"<{self._type} in the {self._impl.label} worker>"


def with_timeout(handle: Handle, seconds: float) -> Handle:
    """The same remote object, with another deadline for its calls."""
    copy = Handle(handle._impl, handle._id, handle._type, handle._callable, handle._forbid)
    copy._generation = handle._generation
    copy._module_name = handle._module_name
    copy._timeout = seconds
    return copy

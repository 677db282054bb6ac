"""Forbidden APIs: what each declared name stands for, and the guard that refuses it wherever it is reached.

An exercise declares the public APIs it asks the learner to re-implement (``forbidden = ["torch.cdist"]`` in
the course declarations). ``RULES`` maps each to what actually computes it, in two kinds of target:

* **operators** (``ops``): aten operator names, ``fnmatch`` patterns allowed. Every Python callable bound to a
  matching operator is refused by identity: the ``torch.*`` / ``torch._C._nn.*`` / ``torch._C._special.*``
  builtins, the ``Tensor`` methods, and ``torch.ops.aten.<op>`` with all its overloads. Which Python name,
  private module, dictionary lookup or ``gc`` trick produced the object makes no difference: the call itself
  is intercepted by a ``TorchFunctionMode``.
* **Python code** (``python``): dotted functions or classes written in Python (``torch.cdist``'s wrapper,
  ``F.multi_head_attention_forward``, the optimizers' step functions, ``nn.init``). Their ``__code__`` is
  replaced, process-wide, by a trampoline that asks the guard before running the original body, so every
  thread, alias, subclass (``super().forward()``) and object fished back from ``gc`` meets the same check.
  A class stands for every method defined along its MRO, down to ``nn.Module`` / ``Optimizer``.

A name without a rule stands for itself (``python=(name,)``): a Python function or class as above, a builtin
by identity together with its ``torch.ops.aten`` packet — ``torch.add`` then, but not ``Tensor.add`` or ``+``
(which reach the same kernel and report themselves as ``Tensor.add``): a rule's ``ops`` name kernels, so a
rule must never list one that an operator such as ``+`` or ``@`` reaches.

**The learner's call or the library's own.** A refused target is refused only when the learner asked for it.
The guard walks the Python stack outward from the call: frames of code that existed before the guard was armed
(torch, the standard library, this engine — learner modules excepted) are the library's own and are passed;
the first frame of any other code (the learner's modules, code they compiled or rebuilt) means the learner
asked, and the call is refused; a stack of library frames only (the worker's own backward, a grader helper)
is allowed. A rule's ``carriers`` name library modules through which a *permitted* API legitimately uses the
target on the learner's behalf: passing a frame from one of them makes the call the library's own (building
an ``nn.Linear`` runs ``nn.init.kaiming_uniform_`` even where ``nn.init`` is forbidden). The tables list only
targets that compute the forbidden thing itself, never shared building blocks (``mm``, ``softmax``,
``addmm``), so a permitted API reaches a target only when it computes the forbidden thing, and is then refused
for the same reason (``nn.MultiheadAttention`` where ``scaled_dot_product_attention`` is forbidden).

**Armed for the worker's whole life.** ``Guard.arm`` runs before the first learner code of an exercise with
forbidden APIs and is never undone: the trampolines are process-wide, the function mode is pushed in the
main thread and, through the wrapped ``_thread.start_new_thread``, in every thread started afterwards. What is
refused at a given moment is the current request's set, and between requests the union of every set seen so
far. ``Guard.tampering`` reports a popped mode, a restored ``__code__``, a thread that was not armed or an
unwrapped thread start; the worker then fails the request and re-arms.

An audit hook (which cannot be removed) refuses putting a guarded function's original code back.

What stays reachable (stated, not hidden): a thread started through the raw C ``start_new_thread`` fished
from ``gc`` has no function mode; while it lives it is reported at the end of the request (which then fails),
but one that starts and ends inside a single request is not seen, and can call a forbidden *builtin* (the
trampolined Python targets are refused in every thread). Code the learner created before the guard was armed
(an earlier exercise without forbidden APIs, in the same worker) counts as the library's own. Editing the
guard's own objects is detected for the obvious cases (its state, its methods), not for every one; ``ctypes``
can do anything in-process. The grade never rests on the guard alone: the judge checks the values.
"""
from __future__ import annotations

import _thread
import fnmatch
import gc
import importlib
import inspect
import sys
import threading
import types
from dataclasses import dataclass

import torch
from torch._ops import OpOverload, OpOverloadPacket
from torch.overrides import TorchFunctionMode
from torch.utils._device import DeviceContext  # torch.set_default_device's mode (see _mode_in_place)

__all__ = ["RULES", "ForbiddenAPIError", "Guard", "Rule", "Targets", "resolve"]


class ForbiddenAPIError(RuntimeError):
    """Raised when learner code calls an API the exercise asks them to re-implement."""


@dataclass(frozen=True)
class Rule:
    ops: tuple[str, ...] = ()        # aten operator names or fnmatch patterns ("_foreach_*")
    python: tuple[str, ...] = ()     # dotted Python functions or classes whose code is guarded
    carriers: tuple[str, ...] = ()   # module prefixes through which permitted APIs use it on the learner's behalf


def _optimizer(module: str, cls: str, *extra_ops: str) -> Rule:
    """An optimizer: its class, its functional form and the single/multi-tensor and fused step bodies."""
    base = f"torch.optim.{module}"
    return Rule(ops=(f"_fused_{module}*", "_foreach_*", *extra_ops),
                python=(f"torch.optim.{cls}", f"{base}.{module}", f"{base}._single_tensor_{module}",
                        f"{base}._multi_tensor_{module}", f"{base}._fused_{module}"))


_AUTOGRAD = Rule(python=("torch.autograd.graph._engine_run_backward", "torch.autograd.grad",
                         "torch.autograd.backward", "torch.Tensor.backward"))
_SIGMOID = Rule(ops=("sigmoid", "sigmoid_", "special_expit"), python=("torch.nn.functional.sigmoid",))
_ATTENTION = Rule(ops=("*attention*", "_native_multi_head_attention", "_transformer_encoder_layer_fwd"),
                  python=("torch.nn.functional.scaled_dot_product_attention",
                          "torch.nn.functional.multi_head_attention_forward"))
_CONVOLUTION = Rule(ops=("convolution*", "_convolution*", "conv1d", "conv2d", "conv3d", "conv_transpose*",
                         "conv_tbc", "_conv_depthwise2d", "conv_depthwise3d", "cudnn_convolution*",
                         "mkldnn_convolution", "miopen_*convolution*", "slow_conv*", "thnn_conv2d",
                         "_slow_conv2d_forward", "_nnpack_spatial_convolution", "_mps_convolution*"))
_CROSS_ENTROPY = Rule(ops=("cross_entropy_loss", "log_softmax", "_log_softmax", "special_log_softmax",
                           "nll_loss*", "nll_loss2d*"),
                      python=("torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss",
                              "torch.nn.functional.log_softmax", "torch.nn.CrossEntropyLoss",
                              "torch.nn.NLLLoss", "torch.nn.LogSoftmax"))
_BCE = Rule(ops=("binary_cross_entropy", "binary_cross_entropy_with_logits"),
            python=("torch.nn.functional.binary_cross_entropy", "torch.nn.functional.binary_cross_entropy_with_logits",
                    "torch.nn.BCELoss", "torch.nn.BCEWithLogitsLoss"))
_LINEAR = Rule(ops=("linear",), python=("torch.nn.Linear", "torch.nn.functional.linear_cross_entropy",
                                         "torch.nn.functional.multi_head_attention_forward"))
_NN_INIT = ("torch.nn.modules",)      # modules initialise their parameters with nn.init when they are built
_RECURRENT = Rule(ops=("lstm*", "gru*", "rnn_tanh*", "rnn_relu*", "_thnn_fused_lstm_cell*", "_thnn_fused_gru_cell*",
                       "quantized_lstm*", "quantized_gru*", "quantized_rnn*", "_cudnn_rnn*", "miopen_rnn*",
                       "mkldnn_rnn*", "_lstm_mps"),
                  python=("torch.nn.RNNBase", "torch.nn.LSTMCell", "torch.nn.GRUCell", "torch.nn.RNNCell"))

#: public API -> what computes it. Several names may share one rule: they are the same computation.
RULES: dict[str, Rule] = {
    # ch01
    "torch.cdist": Rule(ops=("cdist", "_cdist_forward", "_euclidean_dist"), python=("torch.functional.cdist",)),
    "torch.nn.functional.one_hot": Rule(ops=("one_hot",)),
    "torch.Tensor.unfold": Rule(ops=("unfold",)),
    "torch.nn.functional.unfold": Rule(ops=("im2col",), python=("torch.nn.functional.unfold",)),
    "torch.nn.functional.normalize": Rule(python=("torch.nn.functional.normalize",)),
    # ch02: autograd, sigmoid, torch.func
    "torch.autograd.grad": _AUTOGRAD, "torch.autograd.backward": _AUTOGRAD, "torch.Tensor.backward": _AUTOGRAD,
    "torch.sigmoid": _SIGMOID, "torch.Tensor.sigmoid": _SIGMOID, "torch.nn.functional.sigmoid": _SIGMOID,
    "torch.special.expit": _SIGMOID,
    "torch.func.grad": Rule(python=("torch._functorch.eager_transforms.grad_impl", "torch.func.grad")),
    "torch.func.grad_and_value": Rule(python=("torch._functorch.eager_transforms.grad_and_value_impl",
                                              "torch.func.grad_and_value")),
    "torch.func.vjp": Rule(python=("torch._functorch.eager_transforms._vjp_with_argnums", "torch.func.vjp")),
    # ch03: linear layers, initialisation, optimizers written by hand
    "torch.nn.functional.linear": _LINEAR, "torch.nn.Linear": _LINEAR,
    "torch.optim.SGD": _optimizer("sgd", "SGD"),
    "torch.optim.Adam": _optimizer("adam", "Adam"),
    "torch.optim.AdamW": Rule(ops=("_fused_adam*", "_foreach_*"),
                              python=("torch.optim.AdamW", *_optimizer("adam", "Adam").python)),
    "torch.optim.RMSprop": _optimizer("rmsprop", "RMSprop"),
    "torch.optim.Adagrad": _optimizer("adagrad", "Adagrad"),
    "torch.optim.LBFGS": Rule(python=("torch.optim.LBFGS",)),
    # ch04: losses
    "torch.nn.functional.cross_entropy": _CROSS_ENTROPY, "torch.nn.functional.nll_loss": _CROSS_ENTROPY,
    "torch.nn.functional.log_softmax": _CROSS_ENTROPY, "torch.log_softmax": _CROSS_ENTROPY,
    "torch.Tensor.log_softmax": _CROSS_ENTROPY, "torch.nn.CrossEntropyLoss": _CROSS_ENTROPY,
    "torch.nn.functional.binary_cross_entropy": _BCE, "torch.nn.functional.binary_cross_entropy_with_logits": _BCE,
    "torch.binary_cross_entropy_with_logits": _BCE, "torch.nn.BCELoss": _BCE, "torch.nn.BCEWithLogitsLoss": _BCE,
    # ch06 (and ch07): padding, convolution, pooling
    "torch.nn.utils.rnn.pad_sequence": Rule(ops=("pad_sequence",), python=("torch.nn.utils.rnn.pad_sequence",)),
    "torch.nn.functional.conv2d": _CONVOLUTION, "torch.conv2d": _CONVOLUTION, "torch.nn.Conv2d": _CONVOLUTION,
    "torch.nn.functional.conv1d": _CONVOLUTION, "torch.nn.functional.conv3d": _CONVOLUTION,
    "torch.nn.functional.max_pool2d": Rule(ops=("max_pool2d*", "mkldnn_max_pool2d*", "quantized_max_pool2d"),
                                           python=("torch.nn.functional._max_pool2d",
                                                   "torch.nn.functional.max_pool2d_with_indices")),
    # ch08, ch09: recurrent layers, normalisation, clipping
    "torch.nn.LSTM": _RECURRENT, "torch.nn.GRU": _RECURRENT, "torch.nn.RNN": _RECURRENT,
    "torch.lstm": _RECURRENT, "torch.gru": _RECURRENT, "torch.rnn_tanh": _RECURRENT,
    "torch.nn.functional.layer_norm": Rule(ops=("layer_norm", "native_layer_norm"),
                                           python=("torch.nn.functional.layer_norm", "torch.nn.LayerNorm")),
    "torch.nn.functional.rms_norm": Rule(ops=("rms_norm", "_fused_rms_norm"),
                                         python=("torch.nn.functional.rms_norm", "torch.nn.RMSNorm")),
    "torch.nn.utils.clip_grad_norm_": Rule(python=("torch.nn.utils.clip_grad.clip_grad_norm_",
                                                   "torch.nn.utils.clip_grad._clip_grads_with_norm_")),
    # ch10: attention
    "torch.nn.functional.scaled_dot_product_attention": _ATTENTION,
    "torch.nn.functional.multi_head_attention_forward": _ATTENTION,
    "torch.nn.MultiheadAttention": Rule(ops=_ATTENTION.ops,
                                        python=("torch.nn.MultiheadAttention", *_ATTENTION.python)),
    "torch.nn.TransformerEncoderLayer": Rule(ops=_ATTENTION.ops, python=(
        "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerEncoder", *_ATTENTION.python)),
}
for _name in ("kaiming_normal_", "kaiming_uniform_", "xavier_uniform_", "xavier_normal_", "calculate_gain",
              "_calculate_fan_in_and_fan_out", "_calculate_correct_fan", "normal_", "uniform_", "trunc_normal_"):
    RULES[f"torch.nn.init.{_name}"] = Rule(python=(f"torch.nn.init.{_name}",), carriers=_NN_INIT)

_BUILTIN_NAMESPACES = ("_VariableFunctions", "_nn", "_special", "_linalg", "_fft", "TensorBase")
_NOT_GUARDED_BASES = ("torch.nn.modules.module.Module", "torch.optim.optimizer.Optimizer", "builtins.object")


@dataclass
class Targets:
    """What one set of declared names resolves to: callables refused by identity, operator names, code."""
    apis: frozenset[str]
    callables: dict[int, str]       # id(builtin or Tensor method) -> the declared API it stands for
    ops: dict[str, str]             # "aten::name" -> API
    functions: dict[int, str]       # id(Python function whose __code__ is guarded) -> API
    carriers: dict[str, tuple[str, ...]]   # API -> module prefixes
    keep: list                      # the objects behind the ids, kept alive so that no id is reused

    def api_of(self, func) -> str | None:
        """The declared API a builtin, Tensor method or ``torch.ops`` operator stands for, if any."""
        api = self.callables.get(id(func))
        if api is None and type(func) in _OP_TYPES:
            api = self.ops.get(func._qualified_op_name if type(func) is OpOverloadPacket else func._name)
        return api

    def size(self) -> tuple[int, ...]:
        return len(self.callables), len(self.ops), len(self.functions), len(self.carriers)


def resolve(apis) -> Targets:
    """The targets behind the declared public names (unknown or missing names resolve to nothing)."""
    targets = Targets(frozenset(apis), {}, {}, {}, {}, [])
    all_ops = sorted({name.removeprefix("aten::").split(".")[0] for name in torch._C._dispatch_get_all_op_names()
                      if name.startswith("aten::")})     # overloads ("add.Tensor") share the packet's name
    for api in sorted(targets.apis):
        rule = RULES.get(api) or Rule(python=(api,))
        targets.carriers[api] = rule.carriers
        for pattern in rule.ops:
            for op in fnmatch.filter(all_ops, pattern):
                targets.ops.setdefault(f"aten::{op}", api)
                for namespace in _BUILTIN_NAMESPACES:
                    found = getattr(getattr(torch._C, namespace), op, None)
                    if found is not None:
                        targets.callables.setdefault(id(found), api)
                        targets.keep.append(found)
        for dotted in rule.python:
            obj = _lookup(dotted)
            if isinstance(obj, (types.BuiltinFunctionType, types.MethodDescriptorType)):
                targets.callables.setdefault(id(obj), api)      # this builtin exactly, and its torch.ops packet
                targets.keep.append(obj)
                targets.ops.setdefault(f"aten::{obj.__name__}", api)
            for fn in _functions_of(obj):
                targets.functions.setdefault(id(fn), api)
                targets.keep.append(fn)
    return targets


def _lookup(dotted: str):
    """The object a dotted name refers to, importing the longest module prefix; None when there is none."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except AttributeError:
            return None
        return obj
    return None


def _functions_of(obj) -> list[types.FunctionType]:
    """The Python functions behind a function or class: decorators unwrapped, methods along the MRO."""
    found = []

    def add(value):
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        elif isinstance(value, property):
            return
        while isinstance(value, types.FunctionType):
            found.append(value)
            value = getattr(value, "__wrapped__", None)

    if isinstance(obj, type):
        for cls in obj.__mro__:
            if f"{cls.__module__}.{cls.__qualname__}" in _NOT_GUARDED_BASES:
                break
            for value in vars(cls).values():
                add(value)
    else:
        add(obj)
    return found


class Guard:
    """The worker's forbidden-API guard: one per process, armed once, refusing the current set."""

    def __init__(self):
        self.armed = False
        self.root = ""
        self.active = resolve(())
        self.standing: set[str] = set()      # every API declared so far: what is refused between requests
        self.library_code: dict[int, tuple[types.CodeType, str]] = {}   # id(code) before learner code -> module
        self.trampolines: dict[int, tuple[types.FunctionType, types.CodeType]] = {}
        self.armed_threads: set[int] = set()
        self.main_thread = threading.get_ident()
        self.mode = None
        self._active_key: frozenset = frozenset()
        self._start_thread = _thread.start_new_thread
        self._resolved: dict[frozenset, Targets] = {}
        self._sizes: dict[frozenset, tuple[int, ...]] = {}

    # ------------------------------------------------------------ arming

    def prepare(self) -> None:
        """Take the inventory of library code now (for a zygote, before it forks workers: each armed worker
        then skips the ``gc`` walk, about 0.15 s). Must run before any learner code exists in the process."""
        if not self.library_code:
            self.library_code = self._library_code()

    def arm(self, root: str) -> None:
        """Arm for the rest of the process: trampolines installed lazily, modes pushed, threads wrapped."""
        if self.armed:
            return
        self.root = root
        self.main_thread = threading.get_ident()      # the worker's request loop (a fork keeps the forker's)
        self.mode = _FunctionGuard(self)
        self.mode.__enter__()
        self.armed_threads.add(self.main_thread)
        self._wrap_thread_start()
        sys.addaudithook(self._audit)          # cannot be removed: guards the trampolines from now on
        if self.library_code:                  # prepared before the fork: drop what the learner's folder holds
            self.library_code = {k: v for k, v in self.library_code.items()
                                 if not (root and v[0].co_filename.startswith(root))}
        else:
            self.library_code = self._library_code()
        self.armed = True

    def _audit(self, event: str, args: tuple) -> None:
        """Refuse putting a guarded function's original code back (``fn.__code__ = ...``)."""
        if event == "object.__setattr__" and len(args) == 3 and args[1] == "__code__":
            installed = self.trampolines.get(id(args[0]))
            if installed is not None and installed[0] is args[0] and args[2] is not installed[1]:
                raise ForbiddenAPIError(f"{args[0].__qualname__} is guarded: its code cannot be replaced")

    def _library_code(self) -> dict[int, tuple[types.CodeType, str]]:
        """Every code object of a Python function that exists now, except the learner's own modules."""
        codes: dict[int, tuple[types.CodeType, str]] = {}

        def add(code, module):
            if id(code) in codes or (self.root and code.co_filename.startswith(self.root)):
                return
            codes[id(code)] = (code, module)
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    add(const, module)

        for obj in gc.get_objects():
            if type(obj) is types.FunctionType:
                add(obj.__code__, str(obj.__module__))
        for _fn, tramp in self.trampolines.values():
            codes[id(tramp)] = (tramp, __name__)
        return codes

    def _wrap_thread_start(self) -> None:
        guard, start = self, self._start_thread

        def start_new_thread(function, args, kwargs=None):
            def armed(*a, **k):
                guard.arm_thread()
                try:
                    return function(*a, **k)
                finally:
                    guard.armed_threads.discard(threading.get_ident())
            return start(armed, args, kwargs or {})

        self._thread_start = start_new_thread
        _thread.start_new_thread = _thread.start_new = threading._start_new_thread = start_new_thread

    def arm_thread(self) -> None:
        """Push the function mode in the calling thread (threads have their own mode stacks)."""
        _FunctionGuard(self).__enter__()
        self.armed_threads.add(threading.get_ident())

    def targets(self, apis) -> Targets:
        key = frozenset(apis)
        if key not in self._resolved:
            targets = self._resolved[key] = resolve(key)
            for fn in targets.keep:
                if type(fn) is types.FunctionType:
                    self._install(fn)
            self._sizes[key] = targets.size()
        return self._resolved[key]

    def _install(self, fn: types.FunctionType) -> None:
        """Replace fn's code by a trampoline into ``self.call`` (same free variables, original kept aside)."""
        if id(fn) in self.trampolines:
            return
        original = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
        original.__kwdefaults__ = fn.__kwdefaults__
        original.__qualname__ = fn.__qualname__
        try:
            fn.__signature__ = inspect.signature(fn)
        except (TypeError, ValueError):
            pass
        tramp = _trampoline(fn.__code__, id(fn))
        _ORIGINALS[id(fn)] = (fn, original)
        fn.__globals__[_TRAMPOLINE_GLOBAL] = self.call
        fn.__code__ = tramp
        self.trampolines[id(fn)] = (fn, tramp)
        self.library_code[id(tramp)] = (tramp, __name__)

    # ------------------------------------------------------------ per request

    def use(self, apis) -> None:
        """Refuse ``apis`` from now on (the current request's set); ``rest`` returns to the standing set."""
        self.standing |= set(apis)
        self._active_key = frozenset(apis)
        self.active = self.targets(self._active_key)

    def rest(self) -> None:
        """Between requests: refuse everything any request declared so far."""
        self._active_key = frozenset(self.standing)
        self.active = self.targets(self._active_key)

    def tampering(self) -> list[str]:
        """What learner code switched off since arming (empty when the guard is whole); re-arms what it can."""
        if not self.armed:
            return []
        found = []
        if self.active is not self._resolved.get(self._active_key) or \
                self.active.size() != self._sizes.get(self._active_key) or _METHODS != _methods():
            found.append("the guard's own state was changed")
            Guard.call, Guard.asked_by_learner, Guard.tampering, Targets.api_of, \
                _FunctionGuard.__torch_function__ = _METHODS
            self._resolved, self._sizes = {}, {}
            self.active = self.targets(self._active_key)
        if not self._mode_in_place():
            found.append("the TorchFunctionMode guard was popped")
            while torch._C._len_torch_function_stack():
                torch._C._pop_torch_function_stack()
            self.mode = _FunctionGuard(self)
            self.mode.__enter__()
        for fn, tramp in self.trampolines.values():
            if fn.__code__ is not tramp:
                found.append(f"{fn.__qualname__}.__code__ was restored")
                fn.__code__ = tramp
        if not (_thread.start_new_thread is _thread.start_new is threading._start_new_thread is self._thread_start):
            found.append("thread start was unwrapped")
            _thread.start_new_thread = _thread.start_new = threading._start_new_thread = self._thread_start
        unarmed = set(sys._current_frames()) - self.armed_threads
        if unarmed:
            found.append(f"{len(unarmed)} thread(s) run without the guard")
        return found

    def _mode_in_place(self) -> bool:
        """The guard's mode is the bottom of the function-mode stack, or right above the global default-device
        modes (``torch.set_default_device`` puts its ``DeviceContext`` at the very bottom, and it only fills in
        ``device=`` before passing every call on, so the guard still sees them all)."""
        for i in range(torch._C._len_torch_function_stack()):
            mode = torch._C._get_function_stack_at(i)
            if mode is self.mode:
                return True
            if type(mode) is not DeviceContext:
                return False
        return False

    # ------------------------------------------------------------ refusing

    def call(self, fn_id: int, args, kwargs):
        """What a trampoline runs: refuse when the learner asked for a forbidden function, else the original."""
        fn, original = _ORIGINALS[fn_id]
        api = self.active.functions.get(fn_id)
        if api is not None and self.asked_by_learner(sys._getframe(2), api):
            raise ForbiddenAPIError(_message(api, fn.__qualname__))
        return original(*args, **kwargs)

    def asked_by_learner(self, frame, api: str) -> bool:
        """Walk outward from ``frame``: a carrier module means the library's own, code created after arming
        (the learner's) means the learner asked, library frames only mean the engine asked."""
        carriers = self.active.carriers.get(api, ())
        library = self.library_code
        while frame is not None:
            known = library.get(id(frame.f_code))
            if known is None or known[0] is not frame.f_code:
                return True
            if carriers and known[1].startswith(carriers):
                return False
            frame = frame.f_back
        return False


_TRAMPOLINE_GLOBAL = "__torchcourse_forbidden_guard__"
_ORIGINALS: dict[int, tuple[types.FunctionType, types.FunctionType]] = {}


def _trampoline(code: types.CodeType, key: int) -> types.CodeType:
    """A code object with ``code``'s free variables whose body is ``return GUARD(key, args, kwargs)``."""
    free = code.co_freevars
    lines = ["def _outer():"]
    lines += [f"    {name} = None" for name in free]
    lines += [f"    def {code.co_name}(*args, **kwargs):"]
    lines += [f"        {name}" for name in free]
    lines += [f"        return {_TRAMPOLINE_GLOBAL}({key}, args, kwargs)", f"    return {code.co_name}"]
    namespace: dict = {}
    exec(compile("\n".join(lines), code.co_filename, "exec"), namespace)   # noqa: S102 — our own text
    tramp = namespace["_outer"]().__code__
    if tramp.co_freevars != free:          # the compiler orders free variables; keep the original's order
        raise RuntimeError(f"cannot guard {code.co_qualname}: free variables {free} vs {tramp.co_freevars}")
    return tramp.replace(co_qualname=code.co_qualname, co_firstlineno=code.co_firstlineno)


def _message(api: str, reached: str) -> str:
    via = "" if reached.split(".")[-1] == api.split(".")[-1] else f" (reached through {reached})"
    return (f"{api} is forbidden in this exercise{via}: the point is to build it yourself from simpler ops, "
            f"and every route to it (other names, private modules, torch.ops, subclasses) is refused.")


def _name_of(func) -> str:
    """How the learner would recognise what they called: torch.ops.aten.x, Tensor.x, torch.x, module.f."""
    if type(func) in _OP_TYPES:
        return f"torch.ops.{func}"
    name = getattr(func, "__name__", str(func))
    if isinstance(func, types.MethodDescriptorType):
        return f"Tensor.{name}"
    if isinstance(func, types.BuiltinFunctionType):
        return f"{getattr(func, '__module__', None) or 'torch'}.{name}"
    return f"{func.__module__}.{func.__qualname__}"


class _FunctionGuard(TorchFunctionMode):
    """The per-thread half: sees every call of a torch builtin, Tensor method or ``torch.ops`` operator."""

    def __init__(self, guard: Guard):
        super().__init__()
        self.guard = guard

    def __torch_function__(self, func, types, args=(), kwargs=None):
        guard = self.guard
        api = guard.active.api_of(func)
        if api is not None and guard.asked_by_learner(sys._getframe(1), api):
            raise ForbiddenAPIError(_message(api, _name_of(func)))
        return func(*args, **(kwargs or {}))


_OP_TYPES = (OpOverload, OpOverloadPacket)


def _methods() -> tuple:
    return (Guard.call, Guard.asked_by_learner, Guard.tampering, Targets.api_of, _FunctionGuard.__torch_function__)


_METHODS = _methods()
GUARD = Guard()

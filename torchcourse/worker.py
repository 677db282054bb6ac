"""The worker: the only process in which learner code runs.

It imports the learner's modules, keeps the objects they create in a table, and answers requests from
the grading process with plain data (see protocol.py). Nothing here is trusted by the grader: whatever
this process sends back is checked by the judge against its own oracle, so a worker that lies gains
nothing but numbers it had to compute anyway.

Run as ``python -I -m torchcourse.worker --root DIR --display-root PATH --fds R,W``.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import resource
import sys
import traceback

from torchcourse import protocol
from torchcourse.forbidden import GUARD, ForbiddenAPIError

__all__ = ["ForbiddenAPIError", "Worker", "describe_exception", "guarded", "main", "serve", "set_limits"]

FILE_LIMIT_MB = 16      # set from --file-mb at start
_BACKWARD = [None]      # torch.autograd.backward, taken before any learner code runs


class Worker:
    def __init__(self, root: str, display_root: str):
        self.root = root
        self.display_root = display_root
        self.objects: dict[int, object] = {}
        self.next_id = 1

    # ------------------------------------------------------------ values

    def decode(self, value):
        import torch

        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        tag = value.get("__t__")
        if tag == "tensor":
            t = protocol.decode_tensor(value, device_ok=lambda d: True)
            return torch.nn.Parameter(t, requires_grad=t.requires_grad) if value.get("kind") == "Parameter" else t
        if tag == "float":
            return protocol.decode_float(value)
        if tag == "tuple":
            return tuple(self.decode(v) for v in value["v"])
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in value["items"]}
        if tag == "handle":
            return self.lookup(value["id"])
        if tag == "dtype":
            return getattr(torch, value["v"])
        if tag == "device":
            return torch.device(value["v"])
        if tag == "slice":
            return slice(*value["v"])
        raise protocol.ProtocolError(f"unknown record {tag!r}")

    def encode(self, value, depth: int = 0):
        import torch

        kind = type(value)
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return protocol.encode_float(value)
        if kind is torch.Tensor or kind is torch.nn.Parameter:
            return protocol.encode_tensor(value, kind=kind.__name__)
        if depth < 8:
            if kind is list:
                return [self.encode(v, depth + 1) for v in value]
            if isinstance(value, tuple) and kind.__module__ in ("builtins", "torch.return_types") or (
                    isinstance(value, tuple) and hasattr(value, "_fields")):
                return {"__t__": "tuple", "v": [self.encode(v, depth + 1) for v in value]}
            if kind is dict or kind.__name__ == "OrderedDict":
                return {"__t__": "dict", "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                                   for k, v in value.items()]}
        if kind is torch.dtype:
            return {"__t__": "dtype", "v": str(value).removeprefix("torch.")}
        if kind is torch.device:
            return {"__t__": "device", "v": str(value)}
        if kind is torch.Size:
            return {"__t__": "tuple", "v": list(value)}
        if kind.__module__ == "numpy" and kind.__name__ == "ndarray":
            return {"__t__": "foreign", "type": "numpy.ndarray", "shape": list(value.shape),
                    "dtype": str(value.dtype)}
        return self.new_handle(value)

    def lookup(self, handle_id):
        """The object behind a handle id; an id this worker never gave out is a protocol error, not a KeyError
        from the learner's code (it comes from a handle made by an earlier worker, before a restart)."""
        try:
            return self.objects[handle_id]
        except (KeyError, TypeError):
            raise protocol.StaleHandle(
                f"object #{handle_id} is not in this worker: it belonged to the worker that ran your code before "
                f"it exited or was stopped (an earlier crash, exit or timeout), and objects made there are lost"
            ) from None

    def new_handle(self, value) -> dict:
        handle_id = self.next_id
        self.next_id += 1
        self.objects[handle_id] = value
        kind = type(value)
        return {"__t__": "handle", "id": handle_id, "type": f"{kind.__module__}.{kind.__qualname__}",
                "callable": callable(value), "is_tensor": isinstance(value, sys.modules["torch"].Tensor)}

    # ------------------------------------------------------------ requests

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        method = getattr(self, f"op_{op}", None)
        if method is None:
            raise protocol.ProtocolError(f"unknown op {op!r}")
        return method(request)

    def op_import(self, request):
        name = request["module"]
        module = importlib.import_module(name)
        return {"result": self.new_handle(module)}

    def op_getattr(self, request):
        obj = self.lookup(request["obj"])
        return {"result": self.encode(getattr(obj, request["name"]))}

    def op_len(self, request):
        return {"result": int(len(self.lookup(request["obj"])))}

    def op_getitem(self, request):
        return {"result": self.encode(self.lookup(request["obj"])[self.decode(request["key"])])}

    def op_setattr(self, request):
        setattr(self.lookup(request["obj"]), request["name"], self.decode(request["value"]))
        return {"result": None}

    def op_put(self, request):
        return {"result": self.new_handle(self.decode(request["value"]))}

    def op_release(self, request):
        for handle_id in request["ids"]:
            self.objects.pop(handle_id, None)
        return {"result": None}

    def op_call(self, request):
        import torch

        fn = self.lookup(request["obj"])
        args = self.decode(request.get("args", []))
        kwargs = self.decode(request.get("kwargs", {"__t__": "dict", "items": []}))
        grad = request.get("grad")
        leaves = [a for a in protocol.tensors_in((args, kwargs)) if a.requires_grad and a.is_leaf]
        default_device = request.get("default_device")     # a device check's trap (see devices.py)
        with torch.device(default_device) if default_device else contextlib.nullcontext():
            result = fn(*args, **kwargs)
        if grad is not None:
            outputs = result
            if isinstance(result, tuple):
                outputs = result[grad.get("output_index", 0)]
            if type(outputs) is not torch.Tensor:
                raise TypeError(f"expected a tensor to differentiate, got {type(outputs).__name__}")
            grad_outputs = self.decode(grad["grad_outputs"]) if grad.get("grad_outputs") else \
                torch.ones_like(outputs)     # d(sum of outputs)
            _BACKWARD[0](outputs, grad_outputs)   # the engine's own call: allowed where the public one is not
        reply = {"result": self.encode(result)}
        if grad is not None:
            reply["grads"] = [self.encode(a.grad) for a in leaves]
        return reply

    def op_inspect(self, request):
        """A worker-side tensor as it is now, layout included, and its version counter (which every in-place
        operation bumps, even one that leaves the values equal): for checks that inputs come back unchanged."""
        import torch

        t = self.lookup(request["obj"])
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"object #{request['obj']} is a {type(t).__name__}, not a tensor")
        return {"result": {"tensor": protocol.encode_tensor(t), "version": int(t._version)}}

    def op_params(self, request):
        module = self.lookup(request["obj"])
        out = []
        for name, p in module.named_parameters():
            out.append([name, protocol.encode_tensor(p, kind="Parameter"),
                        None if p.grad is None else protocol.encode_tensor(p.grad)])
        return {"result": out}

    def op_buffers(self, request):
        module = self.lookup(request["obj"])
        return {"result": [[name, protocol.encode_tensor(b)] for name, b in module.named_buffers()
                           if b is not None]}


def guarded(guard, request: dict, handle) -> dict:
    """Answer one request under the forbidden-API guard: armed (for good) by the first request that declares
    forbidden APIs, refusing this request's set while it runs, failing it when learner code disarmed it."""
    forbid = request.get("forbid") or []
    if forbid:
        guard.arm(guard.root)
    guard.use(forbid)
    try:
        return handle(request)
    finally:
        guard.rest()
        tampered = guard.tampering()
        if tampered:     # replaces whatever the request raised: this is the failure to report
            raise ForbiddenAPIError("the forbidden-API guard was switched off by your code (" + "; ".join(tampered)
                                    + "): this request counts as failed, and the guard is armed again.")


def describe_exception(exc: BaseException, root: str, display_root: str) -> dict:
    """Type, message and the learner's part of the traceback, with sandbox paths shown as the learner's."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if f.filename.startswith(root)]
    where = None
    if mine:
        last = mine[-1]
        where = {"file": last.filename.replace(root, display_root, 1), "line": last.lineno,
                 "code": (last.line or "").strip()}
    elif isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(root):
        where = {"file": exc.filename.replace(root, display_root, 1), "line": exc.lineno,
                 "code": (exc.text or "").strip()}
    lines = traceback.format_list(mine[-6:]) if mine else []
    lines += traceback.format_exception_only(type(exc), exc)
    text = "".join(lines).replace(root, display_root)
    message = str(exc)
    if isinstance(exc, SyntaxError):
        message = f"{exc.msg}"
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        message += f" (the sandbox allows {FILE_LIMIT_MB} MiB per file, printed output included)"
    return {"type": type(exc).__name__, "message": message[:4000].replace(root, display_root),
            "where": where, "traceback": text[-6000:]}


def _fix_malloc() -> None:
    """Fixed mmap/trim thresholds (a forked worker inherits malloc's state; the env vars act only at exec)."""
    with contextlib.suppress(Exception):
        import ctypes
        libc = ctypes.CDLL(None)
        libc.mallopt(-1, 512 * 1024 * 1024)    # M_TRIM_THRESHOLD
        libc.mallopt(-3, 256 * 1024 * 1024)    # M_MMAP_THRESHOLD


def set_limits(memory_mb: int, cpu_seconds: int, file_mb: int, processes: int) -> None:
    limits = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_FSIZE, file_mb * 1024 * 1024),
        (resource.RLIMIT_NOFILE, 256),
    ]
    if processes:
        limits.append((resource.RLIMIT_NPROC, processes))   # enforced when the worker is not root
    if memory_mb:
        # RLIMIT_DATA, not RLIMIT_AS: importing torch alone reserves about 3 GiB of address space.
        limits.append((resource.RLIMIT_DATA, memory_mb * 1024 * 1024))
    for which, value in limits:
        with contextlib.suppress(ValueError, OSError):
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))


def serve(root: str, display_root: str, read_fd: int, write_fd: int, *, threads: int = 1, memory_mb: int = 4096,
          cpu_seconds: int = 900, file_mb: int = 16, processes: int = 0) -> None:
    """Set the limits, then answer requests until the grading process closes the pipe. Never returns."""
    import torch

    global FILE_LIMIT_MB
    _BACKWARD[0] = torch.autograd.backward
    torch.set_num_threads(threads)
    _fix_malloc()
    set_limits(memory_mb, cpu_seconds, file_mb, processes)
    FILE_LIMIT_MB = file_mb
    sys.path.insert(0, root)
    GUARD.root = root
    worker = Worker(root, display_root)
    protocol.send(write_fd, {"ready": True, "torch": torch.__version__, "pid": os.getpid()})
    while True:
        try:
            request = protocol.recv(read_fd)
        except EOFError:
            os._exit(0)
        try:
            reply = guarded(GUARD, request, worker.handle)
        except BaseException as exc:   # SystemExit, KeyboardInterrupt, pytest's Skipped: all are failures
            reply = {"error": describe_exception(exc, root, display_root)}
        try:
            protocol.send(write_fd, reply)
        except (TypeError, ValueError) as exc:
            protocol.send(write_fd, {"error": {"type": "ProtocolError", "message": f"unsendable result: {exc}",
                                               "where": None, "traceback": ""}})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--display-root", required=True)
    parser.add_argument("--fds", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--cpu-seconds", type=int, default=900)
    parser.add_argument("--file-mb", type=int, default=16)
    parser.add_argument("--processes", type=int, default=0)
    args = parser.parse_args(argv)
    read_fd, write_fd = (int(x) for x in args.fds.split(","))
    serve(args.root, args.display_root, read_fd, write_fd, threads=args.threads, memory_mb=args.memory_mb,
          cpu_seconds=args.cpu_seconds, file_mb=args.file_mb, processes=args.processes)


if __name__ == "__main__":
    main()

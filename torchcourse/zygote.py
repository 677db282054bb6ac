"""Workers in milliseconds: fork them from a zygote rather than start Python and import torch each time.

The zygote is forked from the grading process as soon as the engine is imported — before any grader, oracle
or learner result exists in that process, so there is nothing in its memory worth stealing — and it does
nothing but fork workers on request. Each worker is set up in its child before any learner code runs:

    zygote ──fork──▶ monitor (own session; new PID + network namespaces where allowed)
                         └─fork──▶ init (PID 1 of the namespace: reaps, reports the worker's exit status)
                                      └─fork──▶ worker (limits, scrubbed env, private folder, output file)

The grading process receives three pipes (requests, replies, exit status) and the session id to kill. When
the worker ends, the namespace's init reports how and exits, and the kernel kills everything the learner's
code left behind in the namespace.
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import select
import signal
import socket
import struct
import sys
import threading

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 1 << 14, 1 << 18


class ForkedProcess:
    """The grading process's view of a forked worker, shaped like ``subprocess.Popen`` where it is used."""

    def __init__(self, pgid: int, status_fd: int):
        self.pid = pgid
        self.status_fd = status_fd
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.status_fd], [], [], 0)[0]:
            self._read_status()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            ready = select.select([self.status_fd], [], [], timeout)[0]
            if not ready:
                import subprocess
                raise subprocess.TimeoutExpired("worker", timeout)
            self._read_status()
        return self.returncode

    def _read_status(self) -> None:
        try:
            data = os.read(self.status_fd, 4096)
            status = json.loads(data) if data else {"signal": signal.SIGKILL}
        except (OSError, ValueError):
            status = {"signal": signal.SIGKILL}
        self.returncode = -int(status["signal"]) if status.get("signal") else int(status.get("exit") or 0)

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass

    def close(self) -> None:
        try:
            os.close(self.status_fd)
        except OSError:
            pass


class Zygote:
    def __init__(self):
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lock = threading.Lock()
        pid = os.fork()
        if pid == 0:                                    # the zygote
            try:
                parent.close()
                _serve(child)
            finally:
                os._exit(0)
        child.close()
        self.pid, self.sock = pid, parent

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def spawn(self, spec: dict) -> tuple[ForkedProcess, int, int]:
        """Fork a worker; returns (process, fd to send requests, fd to read replies)."""
        data = json.dumps(spec).encode()
        with self.lock:
            self.sock.sendall(struct.pack("!I", len(data)) + data)
            message, fds, _, _ = socket.recv_fds(self.sock, 65536, 3)
        if not message:
            raise OSError("the zygote is gone")
        reply = json.loads(message)
        if "error" in reply or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            raise OSError(reply.get("error", "bad reply from the zygote"))
        request_fd, reply_fd, status_fd = fds
        return ForkedProcess(reply["pgid"], status_fd), request_fd, reply_fd


# ---------------------------------------------------------------- inside the zygote and its children

def _serve(sock: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)       # monitors are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)        # Ctrl-C is for the grading process
    _warm_up()
    while True:
        header = _recv_exact(sock, 4)
        if header is None:
            return
        spec = json.loads(_recv_exact(sock, struct.unpack("!I", header)[0]))
        _preload(spec.get("preload", ()))
        to_worker = os.pipe()
        from_worker = os.pipe()
        status = os.pipe()
        try:
            pid = os.fork()
        except OSError as e:
            for fd in (*to_worker, *from_worker, *status):
                os.close(fd)
            sock.sendall(json.dumps({"error": str(e)}).encode())
            continue
        if pid == 0:
            try:
                sock.close()
                os.close(to_worker[1])
                os.close(from_worker[0])
                os.close(status[0])
                _monitor(spec, to_worker[0], from_worker[1], status[1])
            finally:
                os._exit(70)
        for fd in (to_worker[0], from_worker[1], status[1]):
            os.close(fd)
        socket.send_fds(sock, [json.dumps({"pgid": pid}).encode()], [to_worker[1], from_worker[0], status[0]])
        for fd in (to_worker[1], from_worker[0], status[0]):
            os.close(fd)


def _warm_up() -> None:
    """Pay once, here, what every worker would otherwise pay on its first backward pass (lazy imports)."""
    try:
        import torch
        x = torch.ones(2, dtype=torch.float64, requires_grad=True)
        (x * x).sum().backward()
        # a non-scalar output with explicit grad_outputs (what grad_of does) first imports sympy through the
        # shape checks: ~490 modules, 2.5 s in every worker otherwise
        y = x * 2
        torch.autograd.backward(y, torch.ones_like(y))
        _inventory()
    except Exception:   # noqa: BLE001 — a warm-up that fails costs nothing but time later
        pass


def _preload(modules) -> None:
    """Import library modules here, once, so that every later worker inherits them (``torch._dynamo``, which
    the first optimizer in a process imports, costs about 3 s). Only torch modules: nothing of the course."""
    fresh = False
    for name in modules:
        if isinstance(name, str) and (name == "torch" or name.startswith("torch.")) and name not in sys.modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
                fresh = True
    if fresh:
        with contextlib.suppress(Exception):
            _inventory(again=True)


def _inventory(again: bool = False) -> None:
    """The forbidden-API guard's inventory of library code, taken here once (no learner code exists in the
    zygote), so that an armed worker skips its own gc walk; again after a preload brought new library code."""
    from torchcourse.forbidden import GUARD
    if again:
        GUARD.library_code = {}
    GUARD.prepare()


def _monitor(spec: dict, request_fd: int, reply_fd: int, status_fd: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    isolated = spec.get("namespaces", True) and _unshare()
    if isolated:
        _hide(spec.get("hidden_paths", []))
        if spec.get("scratch_mb"):   # writes to the current folder, HOME or TMPDIR cannot fill the disk
            _mount(b"tmpfs", spec["home"].encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                   f"size={int(spec['scratch_mb'])}m,mode=0700".encode())
    child = os.fork()
    if child == 0:
        if isolated:        # PID 1 of the new namespace: run the worker as PID 2, reap, report
            _mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)   # only this namespace's processes
            worker = os.fork()
            if worker == 0:
                _worker(spec, request_fd, reply_fd, status_fd)
            _report(status_fd, _reap_until(worker), request_fd, reply_fd)
        _worker(spec, request_fd, reply_fd, status_fd)
    if isolated:
        os.close(status_fd)
        _reap_until(child)
        os._exit(0)
    _report(status_fd, _reap_until(child), request_fd, reply_fd)


def _report(status_fd: int, status: dict, *close_fds: int) -> None:
    for fd in close_fds:
        os.close(fd)
    try:
        os.write(status_fd, json.dumps(status).encode())
    finally:
        os._exit(0)


def _reap_until(pid: int) -> dict:
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return {"exit": None}
        except InterruptedError:
            continue
        if done == pid:
            if os.WIFSIGNALED(status):
                return {"signal": os.WTERMSIG(status)}
            return {"exit": os.WEXITSTATUS(status)}


def _unshare() -> bool:
    """New PID, network and mount namespaces: as root directly, otherwise inside a new user namespace."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    if os.geteuid() == 0 and libc.unshare(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS) == 0:
        return True
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS) != 0:
        return False
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError:
        pass
    return True


def _mount(source: bytes, target: bytes, fstype: bytes | None, flags: int, data: bytes | None = None) -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).mount(source, target, fstype, flags, data) == 0
    except OSError:
        return False


def _hide(paths: list[str]) -> None:
    """In this mount namespace only, cover the course's private folders (graders, solutions, tests, other
    students' submissions) with an empty read-only tmpfs: the learner's code cannot even read them."""
    if not _mount(b"none", b"/", None, MS_REC | MS_PRIVATE):
        return
    for path in paths:
        if os.path.isdir(path):
            _mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k")


def _worker(spec: dict, request_fd: int, reply_fd: int, status_fd: int) -> None:
    try:
        os.close(status_fd)
        out = os.open(spec["output"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        keep = {0, 1, 2, request_fd, reply_fd}
        for fd in _open_fds():
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        for sig in (signal.SIGTERM, signal.SIGALRM, signal.SIGCHLD, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(spec["home"])
        os.environ.clear()
        os.environ.update(spec["env"])
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
        sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")
        sys.argv = ["worker"]
        _forget_course_modules(spec["course_paths"])
        from torchcourse import worker
        worker.serve(spec["code_root"], spec["display_root"], request_fd, reply_fd, **spec["limits"])
    finally:
        os._exit(1)


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 256))


def _forget_course_modules(course_roots: list[str]) -> None:
    """Only libraries stay importable: neither the course folder itself (as a sys.path entry) nor any module
    of its graders, solutions or tests. (A virtual environment inside the course folder stays usable.)"""
    private = [os.path.join(root, name) for root in course_roots for name in ("graders", "solutions", "tests")]

    def is_private(path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in private)

    sys.path[:] = [p for p in sys.path
                   if p and os.path.abspath(p) not in course_roots and not is_private(os.path.abspath(p))]
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file and is_private(os.path.abspath(file)):
            del sys.modules[name]


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


# ---------------------------------------------------------------- the one zygote of this process

_zygote: Zygote | None = None
_zygote_lock = threading.Lock()


def start() -> Zygote | None:
    """Fork the zygote now (call this before grading anything); None where fork is not available."""
    global _zygote
    with _zygote_lock:
        if _zygote is None and hasattr(os, "fork") and sys.platform.startswith("linux") \
                and not os.environ.get("TORCHCOURSE_NO_ZYGOTE"):
            try:
                import torch  # noqa: F401 — the point: workers inherit it already imported

                import torchcourse.worker  # noqa: F401
                _zygote = Zygote()
            except OSError:
                _zygote = None
        return _zygote


def get() -> Zygote | None:
    """The zygote if it is alive. It is never re-forked later: this process may hold grading data by then."""
    return _zygote if _zygote is not None and _zygote.alive() else None

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

Where namespaces are available the worker never holds the grading process's privileges. The monitor, still
privileged, builds the worker's view of the filesystem in its own mount namespace (``_confine``): every
mount read-only, the course's private folders covered by empty tmpfs, an empty size-capped tmpfs over the
shared temporary folder and ``/dev/shm`` (they die with the namespace), and in it only this worker's code
(bound read-only) and scratch folder. Then the worker gives up its privileges (``_drop_privileges``): as
root it becomes ``nobody``; under an unprivileged user namespace it enters a nested one with no capability.
Either way it holds no capability in the user namespace that owns the mounts, so it cannot unmount or
remount them (a namespace it creates itself inherits them locked), and ``no_new_privs`` closes setuid
programs. The first frame on the reply pipe says which of these protections the worker got.
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import threading

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = \
    0x00020000, 0x08000000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = \
    1, 2, 4, 8, 32, 4096, 1 << 14, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 24, 38
NOBODY = 65534                  # the uid and gid a worker started by root runs as
SHM_MB = 64                     # the worker's private /dev/shm
# per-mount flags a read-only remount keeps (statvfs f_flag bit -> mount flag): a user namespace may not clear them
_KEPT_FLAGS = ((2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, 1024), (2048, 2048), (4096, 1 << 21))


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
    _prctl(PR_SET_DUMPABLE, 0)          # nothing that runs later as the worker's uid may ptrace this process
    output_fd = os.open(spec["output"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # before /tmp is covered
    mode = _unshare() if spec.get("namespaces", True) else None
    protections = {"namespaces": mode is not None, "filesystem": False, "unprivileged": False}
    if mode is not None:
        protections["filesystem"] = _confine(spec, worker_uid=NOBODY if mode == "root" else None)
    child = os.fork()
    if child == 0:
        if mode is not None:    # PID 1 of the new namespace: run the worker as PID 2, reap, report
            _mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)   # only this namespace's processes
            worker = os.fork()
            if worker == 0:
                _worker(spec, request_fd, reply_fd, status_fd, output_fd, mode, protections)
            _report(status_fd, _reap_until(worker), request_fd, reply_fd, output_fd)
        _worker(spec, request_fd, reply_fd, status_fd, output_fd, mode, protections)
    if mode is not None:
        os.close(status_fd)
        _reap_until(child)
        os._exit(0)
    _report(status_fd, _reap_until(child), request_fd, reply_fd, output_fd)


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


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> bool:
    try:
        return _libc().prctl(option, value, 0, 0, 0) == 0
    except OSError:
        return False


def _unshare() -> str | None:
    """New PID, network, IPC and mount namespaces: as root directly ("root"), otherwise inside a new user
    namespace mapping this uid to its root ("user"); None where neither is allowed."""
    try:
        libc = _libc()
    except OSError:
        return None
    flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS
    if os.geteuid() == 0 and libc.unshare(flags) == 0:
        return "root" if _nobody_exists() else "user"     # root of a user namespace without nobody: as a user
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | flags) != 0:
        return None
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError:
        pass
    return "user"


def _nobody_exists() -> bool:
    """Whether uid and gid ``NOBODY`` are mapped in this user namespace (always, outside containers)."""
    def mapped(kind: str) -> bool:
        try:
            with open(f"/proc/self/{kind}_map") as f:
                ranges = [tuple(map(int, line.split())) for line in f if line.strip()]
        except (OSError, ValueError):
            return False
        return any(inside <= NOBODY < inside + count for inside, _, count in ranges)
    return mapped("uid") and mapped("gid")


def _mount(source: bytes | None, target: bytes, fstype: bytes | None, flags: int, data: bytes | None = None) -> bool:
    try:
        return _libc().mount(source, target, fstype, flags, data) == 0
    except OSError:
        return False


def _confine(spec: dict, worker_uid: int | None) -> bool:
    """Build the worker's filesystem in this (new, still privileged) mount namespace; True when all of it held.

    Order matters: the learner's code folder is opened before the shared temporary folder is covered (it
    lives there), everything that exists is made read-only before the worker's own writable tmpfs are
    mounted, and the code is bound back in, read-only, at the same path.
    """
    if not _mount(b"none", b"/", None, MS_REC | MS_PRIVATE):
        return False
    code = os.open(spec["code_root"], os.O_PATH | os.O_DIRECTORY)
    shared = os.open(spec["shared_dir"], os.O_PATH | os.O_DIRECTORY) if spec.get("shared_dir") else None
    for point in _mount_points():       # a mount that cannot be made read-only shows in the check at the end
        if point != "/proc" and not point.startswith("/proc/"):
            _mount(None, point.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | _kept_flags(point))
    ok = True
    for path in spec.get("hidden_paths", []):
        if os.path.isdir(path):
            ok &= _mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k")
    size = int(spec.get("scratch_mb") or 256)
    temps = ((spec["temp_dir"], size), *([("/tmp", size)] if spec["temp_dir"] != "/tmp" else []), ("/dev/shm", SHM_MB))
    # what the worker reads may live in a temporary folder (a course cloned into /tmp, its venv inside it): opened
    # now, after the hiding mounts (so what they hide stays hidden), and bound back read-only below
    kept = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in _outermost(spec.get("readable_paths", []))
            if any(p.startswith(folder.rstrip("/") + "/") for folder, _ in temps)]
    for folder, mb in temps:
        if os.path.isdir(folder) and folder != "/":
            ok &= _mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, f"size={mb}m,mode=1777".encode())
    for path, fd in kept:
        os.makedirs(path, mode=0o755, exist_ok=True)
        ok &= _mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC)
        ok &= _mount(None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    # the folders leading to them (the course's own, when it lives in /tmp) are new, writable ones on that
    # tmpfs: each protected one becomes a read-only bind of itself, the bound folders inside carried along
    if kept:
        for path in _outermost([p for p in spec.get("protected_paths", []) if any(
                p.startswith(folder.rstrip("/") + "/") for folder, _ in temps)]):
            if os.path.isdir(path) and not _read_only(path):
                ok &= _mount(path.encode(), path.encode(), None, MS_BIND | MS_REC)
                ok &= _mount(None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.makedirs(spec["code_root"], exist_ok=True)
    os.makedirs(spec["home"], mode=0o700, exist_ok=True)
    ok &= _mount(f"/proc/self/fd/{code}".encode(), spec["code_root"].encode(), None, MS_BIND)
    ok &= _mount(None, spec["code_root"].encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.close(code)
    if shared is not None:      # the one folder the grading process reads too (files the grader asked for)
        os.makedirs(spec["shared_dir"], exist_ok=True)
        ok &= _mount(f"/proc/self/fd/{shared}".encode(), spec["shared_dir"].encode(), None, MS_BIND)
        ok &= _mount(None, spec["shared_dir"].encode(), None,
                     MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        os.close(shared)
    if worker_uid is not None:
        _give_scratch(spec, worker_uid)
        ok &= _reach(spec.get("readable_paths", []))
    return bool(ok) and all(_read_only(path) for path in spec.get("protected_paths", []))


def _reach(paths: list[str]) -> bool:
    """Let an unprivileged worker read what it needs (Python, the engine, the data) where a folder above
    it is closed to others (Python installed under ``/root``): that folder is covered by an empty
    read-only tmpfs into which only the needed folders are bound, read-only, at their own paths."""
    closed: dict[str, list[str]] = {}
    for path in _outermost(paths):
        top = next((a for a in _ancestors(path) if not os.stat(a).st_mode & 0o001), None)
        if top is not None:
            closed.setdefault(top, []).append(path)
    ok = True
    for top, inside in sorted(closed.items(), key=lambda item: item[0].count("/")):
        fds = [os.open(path, os.O_PATH | os.O_DIRECTORY) for path in inside]
        ok &= _mount(b"tmpfs", top.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64k,mode=0755")
        for path, fd in zip(inside, fds):
            os.makedirs(path, mode=0o755, exist_ok=True)
            ok &= _mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC)
            ok &= _mount(None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | _kept_flags(path))
            os.close(fd)
        ok &= _mount(None, top.encode(), None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return bool(ok)


def _others_can_read(paths: list[str]) -> bool:
    """Whether a user other than the owner can reach and read every folder in ``paths``."""
    try:
        return all(os.stat(a).st_mode & 0o001 for p in _outermost(paths) for a in _ancestors(p)) and \
            all(os.stat(p).st_mode & 0o005 == 0o005 for p in _outermost(paths))
    except OSError:
        return False


def _outermost(paths: list[str]) -> list[str]:
    """The existing folders among ``paths`` that are not inside another one of them."""
    real = sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)})
    return [p for p in real if not any(p.startswith(q.rstrip("/") + "/") for q in real if q != p)]


def _ancestors(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/a", "/a/b"]``: the folders above ``path``, outermost first."""
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _read_only(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & 1)        # ST_RDONLY
    except OSError:
        return True                                     # hidden, or gone: not writable either


def _mount_points() -> list[str]:
    """Every mount point of this namespace, parents before children."""
    try:
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
    except OSError:
        return ["/"]
    unescaped = {re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), p) for p in points}
    return sorted(unescaped, key=lambda p: p.count("/"))


def _kept_flags(point: str) -> int:
    try:
        have = os.statvfs(point).f_flag
    except OSError:
        return 0
    return sum(flag for bit, flag in _KEPT_FLAGS if have & bit)


def _drop_privileges(mode: str | None) -> bool:
    """Give up every privilege before learner code runs; True when the worker holds none of the grading
    process's privileges.

    Under an unprivileged user namespace (``mode`` "user"): enter a nested user namespace and clear the
    capabilities it grants, so that none is held where the mounts are owned. As root (with namespaces or
    without): become ``nobody``, which clears every capability. ``no_new_privs`` and an empty bounding set
    either way, so no setuid program can give any of it back. A non-root worker without namespaces keeps
    the grading process's uid: False.
    """
    libc = _libc()
    ok = _prctl(PR_SET_NO_NEW_PRIVS, 1)
    if mode == "user":
        ok &= libc.unshare(CLONE_NEWUSER) == 0
    for cap in range(64):
        _prctl(PR_CAPBSET_DROP, cap)
    if mode == "user":
        ok &= _clear_capabilities(libc)
    elif os.geteuid() == 0:
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
        except OSError:
            return False
    else:
        ok = False
    _prctl(PR_SET_DUMPABLE, 1)                  # its own /proc/self stays readable to it
    return bool(ok)


def _give_scratch(spec: dict, uid: int) -> None:
    """The worker, running as ``uid``, owns its scratch folder and can reach its code (read-only)."""
    os.chown(spec["home"], uid, uid)
    if spec.get("shared_dir"):
        os.chown(spec["shared_dir"], uid, uid)
    for parent in {os.path.dirname(spec["home"]), os.path.dirname(spec["code_root"])}:
        os.chmod(parent, 0o711)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _clear_capabilities(libc) -> bool:
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()     # _LINUX_CAPABILITY_VERSION_3: all zero
    return libc.capset(ctypes.byref(header), data) == 0


def _worker(spec: dict, request_fd: int, reply_fd: int, status_fd: int, out: int, mode: str | None,
            protections: dict) -> None:
    try:
        os.close(status_fd)
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
        if mode is None and os.geteuid() == 0 and not (_nobody_exists() and
                                                       _others_can_read(spec.get("readable_paths", []))):
            protections["unprivileged"] = False     # without a mount namespace, nobody could not even import
        else:
            if mode is None and os.geteuid() == 0:
                _give_scratch(spec, NOBODY)
            protections["unprivileged"] = _drop_privileges(mode)
        os.chdir(spec["home"])
        os.environ.clear()
        os.environ.update(spec["env"])
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
        sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")
        sys.argv = ["worker"]
        _forget_course_modules(spec["course_paths"])
        from torchcourse import protocol, worker
        protocol.send(reply_fd, {"protections": protections})   # before any learner code: this frame is ours
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
                import_engine()
                _zygote = Zygote()
            except OSError:
                _zygote = None
        return _zygote


def import_engine() -> list[str]:
    """Import every module of the engine now, before any worker exists: what the grading process runs after
    grading (the CLI's state, reports, classroom exports) is then already in memory, and a file changed
    later (by anyone) cannot change this process. Returns the modules that could not be imported (an
    optional dependency missing)."""
    import importlib
    import pkgutil

    import torchcourse
    failed = []
    for info in pkgutil.walk_packages(torchcourse.__path__, "torchcourse."):
        try:
            importlib.import_module(info.name)
        except Exception:   # noqa: BLE001 — e.g. a classroom extra not installed: that module is never used
            failed.append(info.name)
    return failed


def get() -> Zygote | None:
    """The zygote if it is alive. It is never re-forked later: this process may hold grading data by then."""
    return _zygote if _zygote is not None and _zygote.alive() else None

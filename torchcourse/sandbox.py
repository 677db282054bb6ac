"""Starting, talking to and killing worker processes, from the trusted side.

A worker gets: a private temporary directory holding a copy of the learner's Python files (and nothing
else of the project), a scrubbed environment, resource limits, its own session (process group), and two
pipes that are not its stdin/stdout. Its output goes to a capped file. Deadlines are enforced here, by
the wall clock, and a worker that overstays is killed with its whole process group.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from torchcourse import protocol, static_scan, zygote

# `python -I` ignores PYTHONPATH and the user's site; the package's own folder is added by hand.
_BOOT = "import sys; sys.path.insert(0, sys.argv.pop(1)); from torchcourse.worker import main; main()"
STARTUP_TIMEOUT = 120.0       # import torch on a cold, busy machine can take tens of seconds


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 4096       # RLIMIT_DATA of the worker
    cpu_seconds: int = 900      # RLIMIT_CPU over the worker's life (a backstop; deadlines are wall clock)
    file_mb: int = 16           # largest file the worker may write, its captured output included
    threads: int = 1            # torch.set_num_threads: timings are fair and a busy core cannot skew them
    processes: int = 512        # RLIMIT_NPROC (threads count too); not enforced for root
    hidden: tuple[str, ...] = ()  # more folders to hide from the worker (batch grading: the submissions)
    scratch_mb: int = 256       # the worker's current folder, HOME and TMPDIR: a tmpfs of this size where allowed


class WorkerDied(Exception):
    """The worker exited, was killed, or broke the protocol; ``reason`` says which, in plain words."""

    def __init__(self, reason: str, output_tail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.output_tail = output_tail


class WorkerTimeout(WorkerDied):
    pass


def _become_subreaper() -> None:
    """Adopt orphaned descendants (a learner's double fork or setsid) so they can be found and killed."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER


_become_subreaper()
_live_workers: set[int] = set()


def kill_orphans(rounds: int = 5) -> None:
    """Kill every child of this process that is not a live worker: what a killed worker left behind.

    The grading process spawns nothing but workers, and as a subreaper it inherits whatever their
    descendants left running (a double fork, a ``setsid`` fork bomb); a few rounds catch the stragglers.
    """
    me = os.getpid()
    for _ in range(rounds):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) in _live_workers or \
                (zygote.get() is not None and int(entry.name) == zygote.get().pid):
                continue
            pid = int(entry.name)
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) != me:
                continue
            found = True
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
        if not found:
            return


@functools.cache
def _isolation_prefix() -> tuple[str, ...]:
    """Run the worker in its own PID and network namespaces where the platform allows.

    Inside, the worker sees no process of ours to signal, has no network, and everything it starts dies
    with it (`--kill-child`, and the namespace's init exiting). A small shell is the namespace's init so
    that the worker is an ordinary process (signals and limits behave as usual). Without `unshare`
    (macOS, locked-down kernels) the worker still runs, in its own session, with the same limits.
    """
    exe = shutil.which("unshare")
    if not exe or os.environ.get("TORCHCOURSE_NO_NAMESPACES"):
        return ()
    variants = [("--pid", "--fork", "--kill-child", "--net")] if os.geteuid() == 0 else []
    variants.append(("--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--net"))
    for flags in variants:
        try:
            subprocess.run([exe, *flags, "--", "true"], capture_output=True, timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            continue
        return (exe, *flags, "--", "/bin/sh", "-c", '"$@"; exit $?', "sh")
    return ()


PROTECTIONS = {      # what a worker can be given, and what its absence lets learner code do
    "namespaces": ("own PID, network and IPC namespaces",
                   "learner code can see and signal other processes, and reach the network"),
    "filesystem": ("a read-only filesystem with the course's folders hidden and a private /tmp and /dev/shm",
                   "learner code can read the reference solutions and graders, and change the course, its "
                   "engine or the Python environment for later runs"),
    "unprivileged": ("an unprivileged user (nobody, or a user namespace without capabilities)",
                     "learner code runs with the grading process's own user and rights"),
}
_last_protections: dict[str, bool] = {}


def protections() -> dict[str, bool]:
    """Which protections the most recently started worker of this process got (empty before the first)."""
    return dict(_last_protections)


def missing_protections(got: dict[str, bool] | None = None) -> list[str]:
    """The names of the protections a worker did not get (``got``: default, the last worker's)."""
    got = protections() if got is None else got
    return [name for name in PROTECTIONS if not got.get(name)]


def isolation() -> str:
    """How workers are isolated on this machine, in words (for `course doctor`); start one worker first."""
    got = protections()
    if not got:
        return "unknown (no worker started yet)"
    have = [PROTECTIONS[name][0] for name in PROTECTIONS if got.get(name)]
    return "; ".join(have + ["own session and resource limits"])


def probe_protections() -> dict[str, bool]:
    """Start one worker (it runs no learner code) to learn which protections workers get on this machine."""
    with tempfile.TemporaryDirectory(prefix=f"{HOME_PREFIX}{os.getpid()}-probe-") as empty:
        zygote.start()
        worker = WorkerProcess(Path(empty), label="probe")
        try:
            worker.wait_ready()
            return dict(worker.protections)
        finally:
            worker.close()


class Unprotected(Exception):
    """Workers here lack protections that grading other people's code needs (batch or classroom grading)."""


def require_protection(unprotected: bool | None = None) -> list[str]:
    """Refuse (``Unprotected``) to grade other people's code where workers lack a protection, unless the
    instructor asked for it explicitly: ``unprotected`` True, or None and ``TORCHCOURSE_UNPROTECTED=1`` set
    (``course grade --unprotected``). Returns the protections that are missing (graded without them)."""
    missing = missing_protections(probe_protections())
    if unprotected is None:
        unprotected = os.environ.get("TORCHCOURSE_UNPROTECTED") == "1"
    if missing and not unprotected:
        lines = "\n".join(f"  - {PROTECTIONS[name][0]}: without it, {PROTECTIONS[name][1]}" for name in missing)
        raise Unprotected(f"refusing to grade submissions: the workers on this machine lack\n{lines}\n"
                          f"Run as root or where user namespaces are allowed (`course doctor` shows what is missing), "
                          f"or pass --unprotected (TORCHCOURSE_UNPROTECTED=1) to grade anyway.")
    return missing


def _record_protections(got: dict) -> None:
    _last_protections.clear()
    _last_protections.update({name: bool(got.get(name)) for name in PROTECTIONS})


def _course_paths() -> list[str]:
    """Folders of the course itself (graders, solutions, tests live there): hidden from forked workers."""
    here = Path(__file__).resolve().parent.parent
    return [str(here)] if (here / "course.toml").is_file() else []


def _hidden_paths(extra: tuple[str, ...], home: str) -> list[str]:
    """What a worker must not read: the course's graders, references and tests, the learner's state, and
    the ``extra`` folders — except any that holds what the worker needs (Python, its own folder, data)."""
    paths = [os.path.join(root, name) for root in _course_paths()
             for name in ("graders", "solutions", "tests", ".course", ".git")]
    needed = [home, sys.prefix, sys.base_prefix, *(os.path.join(r, "datasets") for r in _course_paths())]

    def holds_needed(path: str) -> bool:
        return any(n == path or n.startswith(path.rstrip("/") + "/") for n in needed)
    return paths + [p for p in (str(Path(e).resolve()) for e in extra) if not holds_needed(p)]


def _protected_paths() -> list[str]:
    """What a worker must not be able to write: the course, the engine, and the Python installation."""
    import site
    import sysconfig
    paths = [*_course_paths(), str(Path(__file__).resolve().parent), sys.prefix, sys.base_prefix,
             *(sysconfig.get_paths()[key] for key in ("purelib", "platlib", "stdlib"))]
    with contextlib.suppress(Exception):
        paths += site.getsitepackages()
    return sorted({p for p in paths if os.path.isdir(p)})


def _readable_paths() -> list[str]:
    """What a worker reads (Python and its libraries, the engine, the course's data): reachable even where
    a folder above them is closed to other users."""
    paths = [*sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(__file__).resolve().parent),
             *(os.path.join(root, "datasets") for root in _course_paths()),
             *os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep)]
    return sorted({p for p in paths if p and os.path.isabs(p) and os.path.isdir(p)})


HOME_PREFIX = "torchcourse-"


def private_tempdir(kind: str) -> str:
    """A new private folder in the shared temporary folder, named for this process so that a later run can
    tell a leftover (its process is gone) from a folder in use: ``torchcourse-<pid>-<kind>-XXXX``."""
    return tempfile.mkdtemp(prefix=f"{HOME_PREFIX}{os.getpid()}-{kind}-")


def sweep_stale_homes() -> list[str]:
    """Remove what killed runs left in the shared temporary folder (workers' homes and code copies, batch
    staging): every ``torchcourse-<pid>-*`` of ours whose process is gone. Returns the folders removed."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            if not entry.name.startswith(HOME_PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            pid = entry.name[len(HOME_PREFIX):].split("-", 1)[0]
            if not pid.isdigit() or os.path.exists(f"/proc/{pid}") or entry.stat().st_uid != os.geteuid():
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


def hand_to_worker(folder: str) -> None:
    """Let a worker that runs as ``nobody`` (the grading process is root) write into ``folder``."""
    if os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.chown(folder, zygote.NOBODY, zygote.NOBODY)


@functools.cache
def _sweep_once() -> None:
    sweep_stale_homes()


def _scrubbed_env(home: str) -> dict:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        # glibc's dynamic mmap threshold makes some processes page-fault on every large temporary, which
        # made the same call 10x slower in one worker than in the next: fix the thresholds instead
        "MALLOC_MMAP_THRESHOLD_": str(256 * 1024 * 1024),
        "MALLOC_TRIM_THRESHOLD_": str(512 * 1024 * 1024),
    }
    for key in ("CUDA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def copy_python_tree(src: Path, dst: Path) -> None:
    """Copy only the ``.py`` files under src: no conftest, no pytest.ini, no data the worker should not see."""
    for path in src.rglob("*.py"):
        rel = path.relative_to(src)
        if path.name == "conftest.py" or any(part.startswith(".") for part in rel.parts):
            continue
        if path.stat().st_size > 2 * 1024 * 1024:
            continue
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()         # read once: the static scan sees exactly what the worker imports
        (dst / rel).write_bytes(data)
        static_scan.record_copy(path, data)


class WorkerProcess:
    """One running worker over a copy of ``root``; ``request`` sends a message and waits for the reply."""

    def __init__(self, root: Path, *, limits: Limits = Limits(), label: str = "worker",
                 support: Path | None = None, preload: tuple[str, ...] = (), shared_dir: str | None = None):
        self.display_root = str(root)
        self.preload = list(preload)
        self.shared_dir = shared_dir        # a folder of the grading process the worker may write (see remote)
        self.limits = limits
        self.label = label
        _sweep_once()
        self.home = private_tempdir(label)
        self.code_root = os.path.join(self.home, "code")
        os.makedirs(self.code_root)
        if root.is_dir():
            copy_python_tree(root, Path(self.code_root))
        if support is not None and support.is_dir():     # the graders' worker-side helpers, as a package
            copy_python_tree(support, Path(self.code_root) / support.name)
        # the worker's runtime (this package, and only it) is reached through a link in its own directory
        self.lib_root = os.path.join(self.home, "lib")
        os.makedirs(self.lib_root)
        os.symlink(Path(__file__).resolve().parent, os.path.join(self.lib_root, "torchcourse"))
        self.output_path = os.path.join(self.home, "output.log")
        self.scratch = os.path.join(self.home, "scratch")       # where the learner's code writes
        os.makedirs(self.scratch)
        self.proc: subprocess.Popen | None = None
        self.ready = False
        # a new process gets PID and network namespaces at most (the `unshare` prefix), nothing else
        self.protections = {"namespaces": bool(_isolation_prefix())}
        self._start()

    def _start(self) -> None:
        if self._start_forked():
            return
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output = open(self.output_path, "ab")
        cmd = [*_isolation_prefix(), sys.executable, "-I", "-c", _BOOT, self.lib_root,
               "--root", self.code_root, "--display-root", self.display_root,
               "--fds", f"{to_worker_r},{from_worker_w}",
               "--threads", str(self.limits.threads), "--memory-mb", str(self.limits.memory_mb),
               "--cpu-seconds", str(self.limits.cpu_seconds), "--file-mb", str(self.limits.file_mb),
               "--processes", str(self.limits.processes)]
        env = _scrubbed_env(self.scratch)
        self.proc = subprocess.Popen(
            cmd, cwd=self.scratch, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            pass_fds=(to_worker_r, from_worker_w), start_new_session=True, close_fds=True)
        output.close()
        os.close(to_worker_r)
        os.close(from_worker_w)
        self.write_fd, self.read_fd = to_worker_w, from_worker_r
        _live_workers.add(self.proc.pid)

    def _start_forked(self) -> bool:
        """Fork the worker from the zygote (milliseconds); False where there is none (then: a new process)."""
        zyg = zygote.get()
        if zyg is None:
            return False
        spec = {
            "code_root": self.code_root, "display_root": self.display_root, "home": self.scratch,
            "preload": self.preload,
            "scratch_mb": self.limits.scratch_mb, "temp_dir": str(Path(tempfile.gettempdir()).resolve()),
            "protected_paths": _protected_paths(), "readable_paths": _readable_paths(),
            "shared_dir": self.shared_dir,
            "namespaces": not os.environ.get("TORCHCOURSE_NO_NAMESPACES"),
            "output": self.output_path, "env": _scrubbed_env(self.scratch), "course_paths": _course_paths(),
            "hidden_paths": _hidden_paths(self.limits.hidden, self.home),
            "limits": {"threads": self.limits.threads, "memory_mb": self.limits.memory_mb,
                       "cpu_seconds": self.limits.cpu_seconds, "file_mb": self.limits.file_mb,
                       "processes": self.limits.processes},
        }
        try:
            self.proc, self.write_fd, self.read_fd = zyg.spawn(spec)
        except OSError:
            return False
        return True

    def wait_ready(self) -> None:
        if not self.ready:
            hello = self._receive(STARTUP_TIMEOUT, "starting the worker (import torch)")
            if "protections" in hello:          # sent by the zygote's child before any learner code ran
                self.protections = {k: bool(v) for k, v in dict(hello["protections"]).items()}
                hello = self._receive(STARTUP_TIMEOUT, "starting the worker (import torch)")
            _record_protections(self.protections)
            if not hello.get("ready"):
                self.kill()
                raise WorkerDied("the worker did not start properly", self.output_tail())
            self.ready = True

    def request(self, message: dict, timeout: float) -> dict:
        self.wait_ready()
        try:
            protocol.send(self.write_fd, message)
        except OSError:
            raise self._died("while sending a request") from None
        return self._receive(timeout, "running your code")

    def _receive(self, timeout: float, doing: str) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise WorkerTimeout(
                    f"timed out after {timeout:g} s while {doing} (an infinite loop, or far too slow?)",
                    self.output_tail())
            readable, _, _ = select.select([self.read_fd], [], [], min(left, 1.0))
            if readable:
                break
            if self.proc.poll() is not None:
                raise self._died(f"while {doing}")
        try:
            return protocol.recv(self.read_fd)
        except EOFError:
            raise self._died(f"while {doing}") from None
        except protocol.ProtocolError as e:
            self.kill()
            raise WorkerDied(f"the worker broke the grading protocol ({e}); was stdout's pipe written to "
                             f"directly?", self.output_tail()) from None

    def _died(self, doing: str) -> WorkerDied:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if code is not None and code > 128 and _isolation_prefix() and code - 128 in signal.Signals._value2member_map_:
            code = -(code - 128)                 # the namespace's shell reports a signal as 128 + N
        if code is None:
            what = "stopped answering"
        elif code < 0:
            sig = signal.Signals(-code)
            what = {
                signal.SIGSEGV: "crashed with a segmentation fault",
                signal.SIGXFSZ: f"wrote more than {self.limits.file_mb} MiB (output or files) and was stopped",
                signal.SIGXCPU: f"used more than {self.limits.cpu_seconds} s of CPU time and was stopped",
                signal.SIGKILL: "was killed (out of memory, or by another process)",
            }.get(sig, f"was killed by {sig.name}")
        else:
            what = f"exited with status {code} (did your code call sys.exit(), exit() or os._exit()?)"
        when = "" if doing == "while running your code" else f" {doing}"
        return WorkerDied(f"the process running your code {what}{when}", self.output_tail())

    def output_tail(self, limit: int = 1500) -> str:
        try:
            with open(self.output_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - limit))
                tail = f.read().decode(errors="replace")
        except OSError:
            return ""
        return ("…" if size > limit else "") + tail.replace(self.code_root, self.display_root)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        _live_workers.discard(self.proc.pid)
        for fd in (self.write_fd, self.read_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.write_fd = self.read_fd = -1
        if isinstance(self.proc, zygote.ForkedProcess):
            self.proc.close()
        kill_orphans()      # without a PID namespace, what the learner's code left behind comes to us

    def close(self) -> None:
        """Stop the worker and remove its directory."""
        self.kill()
        shutil.rmtree(self.home, ignore_errors=True)

"""Batch grading: every student folder of a submissions directory, in isolation and in parallel.

``course grade SUBMISSIONS --chapter ch10 --jobs N``

* A student folder holds the chapter's files as ``<chapter_dir>/*.py``, as ``<chapter id>/*.py`` (an
  nbgrader ``submitted/<student>/<assignment>/`` layout) or flat, or one nbgrader notebook per exercise
  (the solution cells are extracted by grade id, whatever the notebook is called).
* Submissions are only read. Each one is staged into a private temporary implementation folder (only the
  exercise files, plus the course's own package ``__init__.py``), and graded there.
* N long-lived trusted processes (``torchcourse.classroom.batch_worker``) import torch once and grade many
  submissions each, sharing one reference worker per process for speed checks. pytest is not thread-safe,
  so parallelism is by process. A crash or a timeout is that submission's error, never the batch's end.
* The gradebook: ``gradebook.csv`` (a row per student: per-exercise scores, total, max, status) and
  ``gradebook.json`` (every check, file hashes, the versions of the course, Python, torch and CUDA), and
  with ``gradescope=True`` a Gradescope ``results.json`` per student.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from torchcourse import __version__, sandbox
from torchcourse.classroom import notebooks as nbs
from torchcourse.files import atomic_write_text
from torchcourse.results import CheckResult, ExerciseResult, RunResult, gradescope_dict, now

MAX_SOURCE_BYTES = 2 * 1024 * 1024
WORKER_START_TIMEOUT = 240.0


class BatchError(Exception):
    """The batch itself cannot run (the grading processes do not start): nothing was graded."""


@dataclass
class Submission:
    student: str
    folder: Path
    sources: dict[str, str] = field(default_factory=dict)      # exercise id -> code to grade
    origins: dict[str, str] = field(default_factory=dict)      # exercise id -> where it came from
    files: list[dict] = field(default_factory=list)            # every file read: path (relative), sha256
    notes: list[str] = field(default_factory=list)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path, sub: Submission) -> bytes | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        if path.stat().st_size > MAX_SOURCE_BYTES:
            sub.notes.append(f"{path.relative_to(sub.folder)}: larger than {MAX_SOURCE_BYTES // 1024} KiB, ignored")
            return None
        data = path.read_bytes()
    except OSError as e:
        sub.notes.append(f"{path.relative_to(sub.folder)}: cannot be read ({e.strerror})")
        return None
    sub.files.append({"path": str(path.relative_to(sub.folder)), "sha256": _sha256(data)})
    return data


def collect(folder: Path, course, chapter, exercises, student: str | None = None) -> Submission:
    """Find the learner's code for every exercise in one student folder (read only)."""
    folder = Path(folder)
    sub = Submission(student or folder.name, folder)
    bases = [b for b in (folder / chapter.dir, folder / chapter.id, folder) if b.is_dir() and not b.is_symlink()]
    notebooks = None
    for ex in exercises:
        for base in bases:
            data = _read(base / ex.file, sub) if (base / ex.file).exists() else None
            if data is not None:
                sub.sources[ex.id] = data.decode("utf-8", errors="replace")
                sub.origins[ex.id] = str((base / ex.file).relative_to(folder))
                break
        else:
            if notebooks is None:
                notebooks = []
                for path in sorted(folder.rglob("*.ipynb")):
                    if ".ipynb_checkpoints" in path.parts or path.is_symlink():
                        continue
                    data = _read(path, sub)
                    nb = nbs.read_notebook(path) if data is not None else None
                    if nb is None and data is not None:
                        sub.notes.append(f"{path.relative_to(folder)}: not a readable notebook")
                    if nb is not None:
                        notebooks.append((str(path.relative_to(folder)), nb))
            names = nbs.public_names(ex.path_in(course.solutions_dir).read_text(encoding="utf-8"))
            # the notebook carrying this exercise's grade id wins, wherever it is and whatever its name
            found = None
            for label, nb in notebooks:
                got = nbs.extract(nb, ex, names, label)
                if got is not None and "by content" not in got.origin:
                    found = got
                    break
                found = found or got
            if found is None:
                sub.notes.append(f"{ex.id}: no {ex.file} and no notebook with its solution cell: graded as missing")
                continue
            sub.sources[ex.id] = found.code
            sub.origins[ex.id] = found.origin
            sub.notes.extend(found.notes)
            expected = f"{ex.id}.ipynb"
            if not found.origin.split("#")[0].split(" ")[0].endswith(expected):
                sub.notes.append(f"{ex.id}: found in {found.origin.split('#')[0]} (expected {expected}); graded anyway")
    return sub


def discover(root: Path, course, chapter, exercises) -> list[Submission]:
    """One Submission per student folder (every non-hidden sub-folder of ``root``)."""
    root = Path(root)
    subs = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith((".", "__")) or not entry.is_dir() or entry.is_symlink():
            continue
        subs.append(collect(entry, course, chapter, exercises))
    return subs


def stage(sub: Submission, course, chapter, dest: Path) -> Path:
    """Write the submission's code into a fresh implementation folder ``dest`` (never into the submission)."""
    pkg = Path(dest) / chapter.dir
    pkg.mkdir(parents=True, exist_ok=True)
    init = course.exercises_dir / chapter.dir / "__init__.py"
    (pkg / "__init__.py").write_text(init.read_text(encoding="utf-8") if init.is_file() else "", encoding="utf-8")
    for ex in chapter.exercises:
        if ex.id in sub.sources:
            (pkg / ex.file).write_text(sub.sources[ex.id], encoding="utf-8")
    return Path(dest)


# ---------------------------------------------------------------- the pool of grading processes

class _Process:
    """One batch_worker subprocess and a thread reading its reply lines."""

    def __init__(self, course, chapter, log_dir: Path, index: int):
        self.log_path = Path(log_dir) / f"grader-{index}.log"
        env = dict(os.environ)
        package_parent = str(Path(__file__).resolve().parent.parent.parent)
        env["PYTHONPATH"] = package_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("OMP_NUM_THREADS", "1")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "torchcourse.classroom.batch_worker", str(course.root), chapter.id],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True, bufsize=1,
                cwd=tempfile.gettempdir())
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.environment: dict = {}

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)                              # EOF: the process ended

    def wait_ready(self, timeout: float) -> None:
        msg = self.receive(timeout)
        if msg is None or not msg.get("ready"):
            self.kill()
            why = (msg or {}).get("error") or "it exited or did not answer"
            raise BatchError(f"a grading process could not start ({why}):\n{self.log_tail()}")
        self.environment = msg.get("environment", {})

    def receive(self, timeout: float) -> dict | None:
        try:
            line = self.lines.get(timeout=max(timeout, 0.01))
        except queue.Empty:
            return None
        if line is None:
            return None
        try:
            return json.loads(line)
        except ValueError:
            return {"error": f"unreadable reply from a grading process: {line[:200]!r}"}

    def send(self, message: dict) -> bool:
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def kill(self, grace: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()                 # the worker cleans up its sandboxed workers on SIGTERM
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except Exception:                     # noqa: BLE001
                pass

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:                         # noqa: BLE001
            pass
        self.kill()


@dataclass
class Job:
    student: str
    impl_root: Path
    exercises: list[str]
    hidden: tuple[str, ...] = ()        # folders the worker must not read: every submission, every staged copy


def run_jobs(course, chapter, jobs: list[Job], *, workers: int = 1, timeout: float = 900.0,
             on_done=None) -> dict[str, dict]:
    """Grade every job on ``workers`` processes; returns student -> reply (``result`` or ``error``)."""
    log_dir = Path(sandbox.private_tempdir("batch-logs"))
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    replies: dict[str, dict] = {}
    fatal: list[BaseException] = []
    lock = threading.Lock()
    workers = max(1, min(workers, len(jobs)))

    def serve(index: int) -> None:
        proc = None
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                if fatal:
                    return
                if proc is None or proc.proc.poll() is not None:
                    proc = _Process(course, chapter, log_dir, index)
                    proc.wait_ready(WORKER_START_TIMEOUT)
                sent = proc.send({"id": job.student, "impl_root": str(job.impl_root), "exercises": job.exercises,
                                  "hidden": list(job.hidden)})
                reply = proc.receive(timeout) if sent else None
                if reply is None:
                    alive = proc.proc.poll() is None
                    proc.kill()
                    reply = {"error": (f"grading this submission took longer than {timeout:g} s and was stopped"
                                       if alive else "the grading process died while grading this submission")
                             + f"\n{proc.log_tail(800)}"}
                    proc = None
                reply.setdefault("environment", proc.environment if proc else {})
                with lock:
                    replies[job.student] = reply
                if on_done:
                    on_done(job.student, reply)
        except BaseException as e:                # noqa: BLE001 — a process that cannot start stops the batch
            fatal.append(e)
        finally:
            if proc is not None:
                proc.close()

    threads = [threading.Thread(target=serve, args=(i,), daemon=True) for i in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    shutil.rmtree(log_dir, ignore_errors=True)
    if fatal:
        raise fatal[0] if isinstance(fatal[0], BatchError) else BatchError(str(fatal[0]))
    return replies


# ---------------------------------------------------------------- results

def run_from_dict(data: dict) -> RunResult:
    exercises = []
    for e in data["exercises"]:
        ex = ExerciseResult(e["id"], e["title"], e["file"], e.get("sha256"), 0.0)
        ex.checks = [CheckResult(**c) for c in e["checks"]]
        ex.max_points = sum(c.max_points for c in ex.checks)
        exercises.append(ex)
    run = RunResult(data["chapter"], data["implementation"], exercises, data.get("environment", {}),
                    data.get("started", ""))
    run.duration = data.get("duration_s", 0.0)
    return run


def error_run(chapter, exercises, message: str, environment: dict | None = None) -> RunResult:
    """A submission that could not be graded: every exercise fails one check that says why (score 0, loud)."""
    out = []
    for ex in exercises:
        er = ExerciseResult(ex.key, ex.title_in(), "", None, ex.points)
        er.checks.append(CheckResult("graded", "submission graded", "failed", 1.0, 0.0, ex.points,
                                     f"grading error, not a verdict on your code: {message}", kind="meta"))
        out.append(er)
    return RunResult(chapter.id, "", out, environment or {}, now())


def record(sub: Submission, chapter, exercises, reply: dict) -> dict:
    """One gradebook entry: scores, every check, what was graded (hashes), the environment."""
    if "result" in reply:
        run, status, error = run_from_dict(reply["result"]), "graded", None
    else:
        error = reply.get("error", "unknown error")
        run, status = error_run(chapter, exercises, error.splitlines()[0], reply.get("environment")), "error"
    data = run.to_dict()
    for ex_data, ex in zip(data["exercises"], exercises):
        ex_data["file"] = sub.origins.get(ex.id)          # where in the submission, not the staging folder
    data["environment"] = reply.get("environment") or data.get("environment") or {}
    return {"student": sub.student, "status": status, "error": error, "score": run.score, "max_score": run.possible,
            "duration_s": reply.get("duration_s", 0.0), "files": sub.files, "notes": sub.notes, "run": data,
            "_run": run}


def write_gradebook(records: list[dict], out_dir: Path, chapter, exercises, *, gradescope: bool = False,
                    meta: dict | None = None) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["student", "status", *[ex.id for ex in exercises], "score", "max_score", "notes"])
    for r in records:
        scores = {e["id"].split(".", 1)[1]: e["score"] for e in r["run"]["exercises"]}
        w.writerow([r["student"], r["status"], *[scores.get(ex.id, 0.0) for ex in exercises], r["score"],
                    r["max_score"], "; ".join(([r["error"].splitlines()[0]] if r["error"] else []) + r["notes"])])
    written = [out_dir / "gradebook.csv", out_dir / "gradebook.json"]
    atomic_write_text(written[0], buf.getvalue())
    doc = {"schema": "torchcourse.gradebook/1", "course_engine": __version__, "chapter": chapter.id,
           "exercises": [{"id": ex.key, "file": f"{chapter.dir}/{ex.file}", "points": ex.points} for ex in exercises],
           "created": now(), **(meta or {}),
           "students": [{k: v for k, v in r.items() if not k.startswith("_")} for r in records]}
    atomic_write_text(written[1], json.dumps(doc, indent=2, ensure_ascii=False))
    if gradescope:
        for r in records:
            path = out_dir / "gradescope" / r["student"] / "results.json"
            atomic_write_text(path, json.dumps(gradescope_dict([r["_run"]]), indent=2, ensure_ascii=False))
            written.append(path)
    return written


# ---------------------------------------------------------------- the whole job

class _Progress:
    """A rich progress bar on a terminal, one plain line per submission elsewhere."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stderr
        self.total, self.done = total, 0
        self.bar = None
        if self.stream.isatty() and not os.environ.get("NO_COLOR"):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("{task.description}"), console=Console(file=self.stream))
            self.task = self.bar.add_task("", total=total)
            self.bar.start()
        self.lock = threading.Lock()

    def update(self, student: str, reply: dict) -> None:
        with self.lock:
            self.done += 1
            if "result" in reply:
                what = f"{reply['result']['score']:g}/{reply['result']['max_score']:g}"
            else:
                what = "ERROR " + reply.get("error", "").splitlines()[0][:80]
            line = f"[{self.done}/{self.total}] {student}: {what} ({reply.get('duration_s', 0):.1f} s)"
            if self.bar is not None:
                self.bar.update(self.task, advance=1, description=line)
            else:
                print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def grade_submissions(course, chapter, submissions: list[Submission], *, exercises=None, jobs: int = 1,
                      timeout: float = 900.0, progress: bool = True,
                      unprotected: bool | None = None) -> tuple[list[dict], float]:
    """Stage, grade and record every submission; returns (records, wall seconds).

    Refuses (``BatchError``) where workers lack a protection (see ``sandbox.require_protection``) unless
    ``unprotected`` (or ``TORCHCOURSE_UNPROTECTED=1``); what was missing is then noted in every record."""
    exercises = exercises or chapter.exercises
    try:
        missing = sandbox.require_protection(unprotected)
    except sandbox.Unprotected as e:
        raise BatchError(str(e)) from None
    t0 = time.perf_counter()
    staging = Path(sandbox.private_tempdir("batch"))
    try:
        work = []
        # a student's code must not read the others': hide every submission folder and the staging area
        hidden = tuple(sorted({str(sub.folder.resolve().parent) for sub in submissions} | {str(staging)}))
        for i, sub in enumerate(submissions):
            root = stage(sub, course, chapter, staging / f"s{i:04d}")
            work.append(Job(sub.student, root, [ex.id for ex in exercises], hidden))
        bar = _Progress(len(work)) if progress else None
        try:
            replies = run_jobs(course, chapter, work, workers=jobs, timeout=timeout,
                               on_done=bar.update if bar else None)
        finally:
            if bar:
                bar.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    records = [record(sub, chapter, exercises, replies.get(sub.student, {"error": "not graded"}))
               for sub in submissions]
    for r in records:
        r["notes"] += [f"graded without protection: {sandbox.PROTECTIONS[name][0]}" for name in missing]
    return records, time.perf_counter() - t0


def check_outside(out_dir: Path, submissions_dir: Path) -> None:
    out, subs = Path(out_dir).resolve(), Path(submissions_dir).resolve()
    if out == subs or subs in out.parents:
        raise ValueError(f"the gradebook folder {out_dir} is inside the submissions folder {submissions_dir}: "
                         f"batch grading never writes there; choose another --out")

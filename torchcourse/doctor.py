"""``course doctor``: what this machine has, what is missing, and the command that fixes each gap."""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import tempfile
import time
from pathlib import Path

from torchcourse import config as course_config


def _version(name: str):
    try:
        importlib.import_module(name)
    except Exception:    # noqa: BLE001 — any failure to import means "missing" here
        return None
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "installed"


def doctor(args, out) -> int:
    rows, problems = [], 0

    def row(ok: bool | None, what: str, detail: str, fix: str = "") -> None:
        nonlocal problems
        mark = {True: "[green]ok[/green]", False: "[red]missing[/red]", None: "[yellow]note[/yellow]"}[ok]
        problems += ok is False
        rows.append((mark, what, detail, fix))

    row(True, "Python", platform.python_version())
    for name, required, fix in (
            ("torch", True, "pip install -e ."), ("torchvision", True, "pip install -e ."),
            ("numpy", True, "pip install -e ."), ("pytest", True, "pip install -e ."),
            ("rich", True, "pip install -e ."), ("nbgrader", False, "pip install -e '.[classroom]' (instructors)")):
        version = _version(name)
        status = True if version else (False if required else None)
        row(status, name, version or "not installed", "" if version else fix)
    torch = importlib.import_module("torch") if _version("torch") else None
    if torch is not None:
        if torch.cuda.is_available():
            row(True, "CUDA", f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda}): GPU checks will run")
        else:
            row(None, "CUDA", "no GPU: GPU checks are skipped (they say so); everything else runs on the CPU")
    try:
        root = Path(args.root).resolve() if args.root else course_config.find_root()
        course = course_config.load(root)
        row(True, "course.toml", f"{root / 'course.toml'}: {len(course.chapters)} chapters, "
                                 f"{len(course.all_exercises())} exercises")
        missing = [ex.key for ex in course.all_exercises() if not ex.path_in(course.exercises_dir).is_file()]
        row(not missing, "exercises/", "all exercise files present" if not missing else
            f"missing: {', '.join(missing)}", "course reset CHAPTER EXERCISE restores a stub" if missing else "")
        writable = os.access(course.root, os.W_OK)
        row(writable, "progress folder", str(course.root / ".course") if writable else "course folder not writable",
            "" if writable else "run the course from a folder you can write to")
        from torchcourse.datasets_check import dataset_rows
        for ok, what, detail, fix in dataset_rows(course.root, {ch.id for ch in course.chapters}):
            row(ok, what, detail, fix)
    except course_config.ConfigError as e:
        row(False, "course.toml", str(e), "run from the course folder or set COURSE_ROOT")
    if torch is not None:
        from torchcourse.remote import Implementation
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            impl = Implementation(Path(tmp), label="doctor")
            try:
                version = impl.lib("builtins").str(impl.module("torch").attr("__version__"))
                from torchcourse import zygote
                from torchcourse.sandbox import PROTECTIONS, isolation, missing_protections
                how = "forked from a zygote" if zygote.get() else "a new process per worker"
                row(True, "sandbox", f"a worker started and answered in {time.perf_counter() - start:.1f} s "
                                     f"(torch {version}; {how}; {isolation()})")
                for name in missing_protections():
                    row(None, "protection", f"missing: {PROTECTIONS[name][0]}; without it, {PROTECTIONS[name][1]}. "
                        f"Fine for your own code; `course grade` refuses other people's without --unprotected",
                        "run as root, or allow user namespaces (sysctl kernel.unprivileged_userns_clone=1)")
            except Exception as e:   # noqa: BLE001
                row(False, "sandbox", f"the worker process did not start: {e}", "course --debug doctor")
            finally:
                impl.close()
    from rich.markup import escape
    from rich.table import Table
    table = Table(box=None, header_style="bold")
    for col in ("", "what", "found", "fix"):
        table.add_column(col)
    for r in rows:
        table.add_row(r[0], *(escape(str(x)) for x in r[1:]))
    out.print(table)
    out.print("[green]everything needed is here[/green]" if not problems else f"[red]{problems} problem(s)[/red]")
    return 0 if not problems else 4

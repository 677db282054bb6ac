"""What the hidden test cell of an nbgrader notebook runs inside the notebook's kernel.

The score of record never comes from here: `course nbgrader autograde` grades the notebook's extracted code
in an isolated process and writes the scores into nbgrader's gradebook (the kernel runs learner code and
cannot be trusted). When it drives nbgrader it sets ``TORCHCOURSE_GRADED_OUTSIDE=1`` and this cell only says
so. Under a plain ``nbgrader autograde`` (or ``nbgrader validate`` on the source notebook) it runs the same
graders as ``course check``, in a fresh process, on the code of the cell that defines the exercise, and fails
loudly when the graders themselves cannot run.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


class GradersUnavailable(RuntimeError):
    """The course's graders could not be run: not a verdict on the learner's code."""


def _code_from_history(history, names: list[str]) -> str | None:
    for text in reversed(list(history or [])):
        if not isinstance(text, str) or "check_in_kernel" in text:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        if defined & set(names):
            return text
    return None


def check_in_kernel(key: str, history=None) -> None:
    if os.environ.get("TORCHCOURSE_GRADED_OUTSIDE") == "1":
        print(f"{key}: graded outside this notebook, in an isolated process, by `course nbgrader autograde`.")
        return
    from torchcourse import config
    from torchcourse.classroom.notebooks import public_names
    try:
        course = config.load(config.find_root())
        ex = course.exercise(key)
    except Exception as e:                        # noqa: BLE001
        raise GradersUnavailable(f"the course's graders are not available here ({e}); set COURSE_ROOT to the "
                                 f"course folder") from None
    names = public_names(ex.path_in(course.solutions_dir).read_text(encoding="utf-8"))
    code = _code_from_history(history, names)
    if code is None:
        raise AssertionError(f"{key}: no executed cell defines {', '.join(names)}: run the solution cell first")
    with tempfile.TemporaryDirectory(prefix="torchcourse-kernel-") as tmp:
        pkg = Path(tmp, "impl", ex.chapter.dir)
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / ex.file).write_text(code, encoding="utf-8")
        report = Path(tmp, "result.json")
        try:
            proc = subprocess.run([sys.executable, "-m", "torchcourse.cli", "--root", str(course.root), "check",
                                   ex.chapter.id, ex.id, "--impl", str(pkg.parent), "--json", str(report)],
                                  capture_output=True, text=True, timeout=900, cwd=tmp)
        except (OSError, subprocess.SubprocessError) as e:
            raise GradersUnavailable(f"the course's graders could not be started: {e}") from None
        if proc.returncode not in (0, 1) or not report.is_file():
            raise GradersUnavailable(f"the course's graders could not be run (exit {proc.returncode}):\n"
                                     f"{(proc.stderr or proc.stdout)[-2000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    (exercise,) = data["runs"][0]["exercises"]
    lines = [f"{key}: {exercise['score']:g}/{exercise['max_score']:g} points"]
    for c in exercise["checks"]:
        if c["outcome"] == "failed":
            lines.append(f"  FAIL {c['title']}: {c['message']}")
    print("\n".join(lines))
    if exercise["status"] != "passed":
        raise AssertionError("\n".join(lines))

"""Grade one chapter (or some of its exercises) of one implementation folder: pytest in this process,
learner code in workers, verdicts into a RunResult."""
from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

import pytest

from torchcourse import config as course_config
from torchcourse.plugin import GradingPlugin, Subject
from torchcourse.remote import Implementation
from torchcourse.results import (
    FAILED,
    PASSED,
    SKIPPED,
    CheckResult,
    ExerciseResult,
    RunResult,
    environment,
    now,
    sha256_of,
)
from torchcourse.sandbox import Limits

_INI = Path(__file__).with_name("graders.ini")


def grade(course: course_config.Course, chapter: course_config.Chapter, impl_root: Path, *,
          exercises: list[course_config.Exercise] | None = None, limits: Limits = Limits(),
          label: str = "learner", quiet: bool = True, only_checks: set[str] | None = None,
          reference: Implementation | None = None, speed_only: bool = False, gpu: bool = True,
          progress=None) -> RunResult:
    """Grade ``exercises`` (default: the whole chapter) of the implementation in ``impl_root``.

    ``progress(done, total, exercise_key, check_name)`` is called as each check starts and ends (live display).

    ``reference``: an already running reference Implementation to reuse for speed checks (batch grading);
    by default one is started when a speed check needs it.
    """
    subject = Subject(label, Path(impl_root).resolve(), only_checks)
    return grade_subjects(course, chapter, [subject], exercises=exercises, limits=limits, quiet=quiet,
                          reference=reference, speed_only=speed_only, gpu=gpu, progress=progress)[0]


def grade_subjects(course: course_config.Course, chapter: course_config.Chapter, subjects: list[Subject], *,
                   exercises: list[course_config.Exercise] | None = None, limits: Limits = Limits(),
                   quiet: bool = True, reference: Implementation | None = None, speed_only: bool = False,
                   gpu: bool = True, progress=None) -> list[RunResult]:
    """Grade several implementations of one chapter in one pytest session: the graders are collected once
    and one reference worker serves them all; each subject runs in its own worker. One RunResult each."""
    exercises = exercises or chapter.exercises
    started, t0 = now(), time.perf_counter()
    files = []
    for ex in exercises:
        path = ex.grader_path(course.graders_dir)
        if not path.is_file():
            raise course_config.ConfigError(f"{ex.key}: grader {path} is missing")
        files.append(str(path))
    preload = tuple(sorted({m for ex in exercises for m in ex.preload}))
    plugin = GradingPlugin(course, limits=limits, reference=reference, speed_only=speed_only, gpu=gpu,
                           subjects=subjects, preload=preload, progress=progress)   # starts the zygote first
    graders_path = str(course.graders_dir)
    added = graders_path not in sys.path    # graders import their shared helpers: support, worker_support
    if added:
        sys.path.insert(0, graders_path)
    # no conftest.py and no auto-loaded plugins: only our graders and our plugin decide anything
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = [*files, "-c", str(_INI), "--rootdir", str(course.graders_dir), "-p", "no:cacheprovider",
            "--noconftest", "--import-mode=importlib", "-q"]
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
            code = pytest.main(args, plugins=[plugin])
    finally:
        plugin.close()
        _forget_graders(files)
        if added:
            sys.path.remove(graders_path)
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR) or (
            code == pytest.ExitCode.INTERRUPTED and not any(s.verdicts for s in subjects)):
        raise RuntimeError(f"the graders could not be run (pytest exit code {int(code)}):\n{sink.getvalue()[-3000:]}")
    duration = time.perf_counter() - t0
    results = []
    for subject in subjects:
        wanted = [ex for ex in exercises if subject.exercises is None or ex.key in subject.exercises]
        result = RunResult(chapter.id, str(subject.root),
                           [_exercise_result(ex, subject, plugin.collection_errors) for ex in wanted],
                           {"course": course.name, "course_version": course.version, **environment()}, started)
        result.duration = duration
        results.append(result)
    return results


def _forget_graders(files: list[str]) -> None:
    """Drop the grader modules pytest imported, so that the next session reads the files again (its
    importlib mode names them by their path under graders/, which another course or copy can share)."""
    wanted = {os.path.realpath(f) for f in files}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path) in wanted:
            del sys.modules[name]


def _exercise_result(ex: course_config.Exercise, subject: Subject, collection_errors: list[str]) -> ExerciseResult:
    path = ex.path_in(subject.root)
    result = ExerciseResult(ex.key, ex.title_in(), str(path), sha256_of(path), ex.points)
    verdicts = [v for v in subject.verdicts.values() if v.exercise == ex.key]
    if not verdicts:
        why = "\n".join(collection_errors) or "no function decorated with @check"
        result.checks.append(CheckResult("collected", "grader collected checks", FAILED, 1.0, 0.0, ex.points,
                                         f"the grader collected no checks (a defect of the course): {why}",
                                         kind="meta"))
        return result
    total = sum(v.info.points for v in verdicts if v.outcome != SKIPPED) or 1.0
    for v in verdicts:
        weight = v.info.points
        max_points = 0.0 if v.outcome == SKIPPED else ex.points * weight / total
        kind = "speed" if v.info.speed else "gpu" if v.info.gpu else "value"
        result.checks.append(CheckResult(
            v.name, v.info.title or _title(v.name), v.outcome, weight,
            max_points if v.outcome == PASSED else 0.0, max_points, v.message, v.info.visibility, v.duration, kind,
            v.info.covers + (("speed",) if v.info.speed else ())))
    return result


def _title(name: str) -> str:
    return name.removeprefix("test_").replace("_", " ")

"""The pytest plugin that turns grader modules into graded checks.

It provides the fixtures graders use (``ex``, ``ref``, ``impl``, ``learner_file``, ``device``, ``rng``),
owns the workers for the run, and records one verdict per collected check in the trusted process.
The list of checks is what pytest collected here from our graders; a check without a verdict at the end
(an interrupted run) counts as failed, never as passed.

Used by ``torchcourse.runner`` in-process, or from the command line:
``pytest -p torchcourse.plugin --impl exercises graders/ch01_tensors``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from torchcourse import config as course_config
from torchcourse.grading import CheckInfo, _Context
from torchcourse.remote import Implementation, LearnerError, check_budget, exercise_budget
from torchcourse.sandbox import Limits

NO_GPU = "no CUDA device on this machine: GPU checks run where a GPU is present"


@dataclass
class Verdict:
    exercise: str
    name: str
    info: CheckInfo
    outcome: str = "failed"
    message: str = "no verdict: the check did not run to completion"
    duration: float = 0.0
    phases: set = field(default_factory=set)


class GradingPlugin:
    name = "torchcourse-grading"

    def __init__(self, course: course_config.Course, impl_root: Path, *, ref_root: Path | None = None,
                 limits: Limits = Limits(), label: str = "learner", only_checks: set[str] | None = None,
                 reference: Implementation | None = None, speed_only: bool = False, gpu: bool = True):
        self.course = course
        self.impl_root = Path(impl_root)
        self.ref_root = Path(ref_root or course.solutions_dir)
        self.learner = Implementation(self.impl_root, label=label, limits=limits)
        self.reference = reference                  # may be shared across runs (batch grading): it is ours
        self.owns_reference = reference is None
        self.limits = limits
        self.only_checks = only_checks              # names of the checks to run; None: all
        self.speed_only = speed_only
        self.gpu = gpu                              # False: GPU checks are skipped even where CUDA exists
        self.verdicts: dict[str, Verdict] = {}      # nodeid -> verdict, in collection order
        self.collection_errors: list[str] = []
        self.learner.start()                        # import torch there while pytest collects here

    # ------------------------------------------------------------ collection

    @pytest.hookimpl
    def pytest_configure(self, config):
        for line in ("speed: times the learner's code against the reference (ratio)",
                     "gpu: runs on CUDA; skipped with a reason when no GPU is present"):
            config.addinivalue_line("markers", line)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        kept = []
        for item in items:
            exercise = getattr(item.module, "EXERCISE", None)
            info = getattr(getattr(item, "function", None), "_check", None)
            if exercise is None or info is None:
                continue                            # helpers and ungraded tests are not checks
            if self.only_checks is not None and item.name not in self.only_checks:
                continue
            if self.speed_only and not info.speed:
                continue
            self.verdicts[item.nodeid] = Verdict(exercise, item.name, info)
            kept.append(item)
        items[:] = kept
        if any(v.info.speed for v in self.verdicts.values()):
            self._reference().start()

    def _reference(self) -> Implementation:
        if self.reference is None:
            self.reference = Implementation(self.ref_root, label="reference", limits=self.limits)
        return self.reference

    @pytest.hookimpl
    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {str(report.longrepr)[-1500:]}")

    # ------------------------------------------------------------ verdicts

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        verdict = self.verdicts.get(item.nodeid)
        if verdict is None:
            return
        verdict.phases.add(call.when)
        if call.when == "call" or report.outcome != "passed":
            verdict.duration += report.duration
        if report.skipped:
            verdict.outcome = "skipped"
            verdict.message = _skip_reason(report)
        elif report.failed:
            verdict.outcome = "failed"
            verdict.message = _message(call.excinfo)
        elif call.when == "call":
            verdict.outcome = "passed"
            verdict.message = ""

    @pytest.hookimpl
    def pytest_sessionfinish(self, session):
        self.close()

    def close(self) -> None:
        self.learner.close()
        if self.reference is not None and self.owns_reference:
            self.reference.close()

    # ------------------------------------------------------------ fixtures

    @pytest.fixture(autouse=True)
    def _check_context(self, request):
        exercise = self._exercise(request)
        info = request.function._check
        if info.gpu and not self.gpu:
            pytest.skip("GPU checks not requested (--device cpu)")
        if info.gpu and not torch.cuda.is_available():     # before any other fixture can fail the check
            pytest.skip(NO_GPU)
        self.learner.default_timeout = info.timeout or exercise.timeout
        self.learner.budget.start_check(check_budget(self.learner.default_timeout), exercise.key,
                                        exercise_budget(exercise.timeout))
        _Context.exercise = exercise
        _Context.learner_file = exercise.path_in(self.impl_root)
        yield
        _Context.exercise = None

    @pytest.fixture
    def ex(self, request, learner_file):
        exercise = self._exercise(request)
        if not learner_file.is_file():
            raise AssertionError(f"{learner_file} is missing: `course reset {exercise.chapter.id} {exercise.id}` "
                                 f"restores the stub")
        return self.learner.module(exercise.module, forbid=exercise.forbidden)

    @pytest.fixture
    def ref(self, request):
        exercise = self._exercise(request)
        reference = self._reference()
        reference.default_timeout = 60.0
        return reference.module(exercise.module)

    @pytest.fixture
    def impl(self):
        return self.learner

    @pytest.fixture
    def tmp_path(self, request) -> Path:
        """pytest's ``tmp_path``, in a folder the learner's worker can write too (its own /tmp is private)."""
        return self.learner.shared_folder(request.node.name)

    @pytest.fixture
    def learner_file(self, request) -> Path:
        return self._exercise(request).path_in(self.impl_root)

    @pytest.fixture
    def device(self, request):
        if not torch.cuda.is_available():
            pytest.skip(NO_GPU)
        return torch.device("cuda")

    @pytest.fixture
    def rng(self, request):
        return torch.Generator().manual_seed(zlib.crc32(request.node.nodeid.encode()))

    def _exercise(self, request) -> course_config.Exercise:
        return self.course.exercise(request.module.EXERCISE)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _message(excinfo) -> str:
    if excinfo is None:
        return "failed"
    exc = excinfo.value
    if isinstance(exc, LearnerError):
        return exc.describe()
    if isinstance(exc, AssertionError):
        text = str(exc).strip()
        return text or "assertion failed"
    return f"grader error ({type(exc).__name__}: {exc}); please report this to the course authors"


# ---------------------------------------------------------------- command-line use

def pytest_addoption(parser):
    group = parser.getgroup("torchcourse")
    group.addoption("--impl", help="folder holding the implementation to grade (e.g. exercises/ or solutions/)")
    group.addoption("--course-root", help="course folder (default: found from the current directory)")


def pytest_configure(config):
    impl = config.getoption("--impl", default=None)
    if impl and not config.pluginmanager.has_plugin(GradingPlugin.name):
        root = Path(config.getoption("--course-root") or course_config.find_root())
        course = course_config.load(root)
        config.pluginmanager.register(GradingPlugin(course, Path(impl).resolve()), GradingPlugin.name)

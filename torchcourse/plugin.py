"""The pytest plugin that turns grader modules into graded checks.

It provides the fixtures graders use (``ex``, ``ref``, ``impl``, ``learner_file``, ``device``, ``rng``),
owns the workers for the run, and records one verdict per collected check in the trusted process.
The list of checks is what pytest collected here from our graders; a check without a verdict at the end
(an interrupted run) counts as failed, never as passed.

Used by ``torchcourse.runner`` in-process, or from the command line:
``pytest -p torchcourse.plugin --impl exercises graders/ch01_tensors``.
"""
from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from _pytest.runner import runtestprotocol

from torchcourse import config as course_config
from torchcourse.grading import CheckInfo
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


@dataclass
class Subject:
    """One implementation graded in this session: its folder, its worker and its verdicts.

    ``only_checks``: the names of the checks to run for it (None: all). The author's gate grades a chapter's
    reference, its stub and every variant as subjects of one session: one collection, one reference worker.
    """
    label: str
    root: Path
    only_checks: set | None = None
    exercises: set | None = None                    # keys of the exercises to grade (None: all collected)
    verdicts: dict = field(default_factory=dict)    # nodeid -> Verdict, in collection order
    learner: Implementation | None = None

    def wants(self, item_name: str, exercise: str) -> bool:
        return (self.only_checks is None or item_name in self.only_checks) and \
            (self.exercises is None or exercise in self.exercises)


class GradingPlugin:
    name = "torchcourse-grading"

    def __init__(self, course: course_config.Course, impl_root: Path | None = None, *, ref_root: Path | None = None,
                 limits: Limits = Limits(), label: str = "learner", only_checks: set[str] | None = None,
                 reference: Implementation | None = None, speed_only: bool = False, gpu: bool = True,
                 subjects: list[Subject] | None = None, preload: tuple[str, ...] = (), progress=None):
        self.course = course
        self.subjects = subjects or [Subject(label, Path(impl_root), only_checks)]
        self.ref_root = Path(ref_root or course.solutions_dir)
        self.support = course.worker_support_dir
        self.preload = preload                      # imported once in the zygote, so no worker pays for it
        self.progress = progress                    # progress(done, total, exercise key, check name): live display
        self.finished = 0
        self.reference = reference                  # may be shared across runs (batch grading): it is ours
        self.owns_reference = reference is None
        self.limits = limits
        self.speed_only = speed_only
        self.gpu = gpu                              # False: GPU checks are skipped even where CUDA exists
        self.graded_by = {ex.grader_path(course.graders_dir).resolve(): ex for ex in course.all_exercises()}
        self.exercise_of: dict[str, course_config.Exercise] = {}    # nodeid -> the exercise it grades
        self.collection_errors: list[str] = []
        self.current = self.subjects[0]
        self._start(self.current)                   # import torch there while pytest collects here

    @property
    def verdicts(self) -> dict:
        """The verdicts of the (first) subject: the usual case of one implementation per run."""
        return self.subjects[0].verdicts

    @property
    def learner(self) -> Implementation:
        return self._start(self.current)

    def _start(self, subject: Subject) -> Implementation:
        if subject.learner is None:
            subject.learner = Implementation(subject.root, label=subject.label, limits=self.limits,
                                             support=self.support,
                                             preload=self.preload)
            subject.learner.start()
        return subject.learner

    # ------------------------------------------------------------ collection

    @pytest.hookimpl
    def pytest_configure(self, config):
        for line in ("speed: times the learner's code against the reference (ratio)",
                     "gpu: runs on CUDA; skipped with a reason when no GPU is present"):
            config.addinivalue_line("markers", line)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        kept, refused = [], set()
        for item in items:
            info = getattr(getattr(item, "function", None), "_check", None)
            if info is None:
                continue                            # helpers and ungraded tests are not checks
            exercise = self.graded_by.get(Path(item.path).resolve())
            declared = getattr(item.module, "EXERCISE", None)
            if exercise is None or (declared is not None and declared != exercise.key):
                if item.path not in refused:
                    refused.add(item.path)
                    serves = f"serves {exercise.key} by its file name" if exercise else \
                        "is not graders/<chapter_dir>/test_<exercise>.py of a declared exercise"
                    self.collection_errors.append(
                        f"{item.path}: declares EXERCISE = {declared!r} but {serves}; the file name decides, "
                        f"so remove or correct EXERCISE")
                continue
            if self.speed_only and not info.speed:
                continue
            wanted = [s for s in self.subjects if s.wants(item.name, exercise.key)]
            if not wanted:
                continue
            self.exercise_of[item.nodeid] = exercise
            for subject in wanted:
                subject.verdicts[item.nodeid] = Verdict(exercise.key, item.name, info)
            kept.append(item)
        items[:] = kept
        if any(v.info.speed for s in self.subjects for v in s.verdicts.values()):
            self._reference().start()

    def _reference(self) -> Implementation:
        if self.reference is None:
            self.reference = Implementation(self.ref_root, label="reference", limits=self.limits,
                                            support=self.support,
                                             preload=self.preload)
        return self.reference

    @pytest.hookimpl
    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {str(report.longrepr)[-1500:]}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        """Several subjects: each implementation in turn runs its checks, with its own worker (closed after)."""
        if len(self.subjects) == 1:
            return None                             # pytest's own loop
        closing = []
        for subject in self.subjects:
            self.current = subject
            for item in session.items:
                if item.nodeid in subject.verdicts:
                    runtestprotocol(item, nextitem=None, log=False)
            if subject.learner is not None:     # a worker's exit takes ~0.2 s: let it go while the next one runs
                closing.append(threading.Thread(target=subject.learner.close, daemon=True))
                closing[-1].start()
        for thread in closing:
            thread.join()
        return True

    # ------------------------------------------------------------ verdicts

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        verdict = self.current.verdicts.get(item.nodeid)
        if verdict is None:
            return
        if self.progress is not None and call.when in ("setup", "teardown"):
            self.finished += call.when == "teardown"
            total = sum(len(s.verdicts) for s in self.subjects)
            self.progress(self.finished, total, verdict.exercise, verdict.name)
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
        for subject in self.subjects:
            if subject.learner is not None:
                subject.learner.close()
        if self.reference is not None and self.owns_reference:
            self.reference.close()

    # ------------------------------------------------------------ fixtures

    @pytest.fixture(autouse=True)
    def _check_context(self, request, exercise):
        info = request.function._check
        if info.gpu and not self.gpu:
            pytest.skip("GPU checks not requested (--device cpu)")
        if info.gpu and not torch.cuda.is_available():     # before any other fixture can fail the check
            pytest.skip(NO_GPU)
        self.learner.default_timeout = info.timeout or exercise.timeout
        self.learner.budget.start_check(check_budget(self.learner.default_timeout), exercise.key,
                                        exercise_budget(exercise.timeout))
        yield

    @pytest.fixture
    def exercise(self, request) -> course_config.Exercise:
        """The declared exercise this check grades (its thresholds: ``exercise.threshold("speed_max_ratio")``)."""
        return self.exercise_of[request.node.nodeid]

    @pytest.fixture
    def ex(self, exercise, learner_file):
        if not learner_file.is_file():
            raise AssertionError(f"{learner_file} is missing: `course reset {exercise.chapter.id} {exercise.id}` "
                                 f"restores the stub")
        return self.learner.module(exercise.module, forbid=exercise.forbidden)

    @pytest.fixture
    def ref(self, exercise):
        reference = self._reference()
        reference.default_timeout = 60.0
        # armed like the learner's worker, so that the guard's per-call cost is on both sides of a speed ratio
        return reference.module(exercise.module, forbid=exercise.forbidden)

    @pytest.fixture
    def impl(self):
        return self.learner

    @pytest.fixture
    def ref_impl(self):
        """The reference's ``Implementation`` (``ref_impl.lib("torch")``: library modules in its worker, for
        speed checks that build the same objects on both sides)."""
        return self._reference().start()

    @pytest.fixture
    def learner_file(self, exercise) -> Path:
        return exercise.path_in(self.current.root)

    @pytest.fixture
    def tmp_path(self, request) -> Path:
        """pytest's ``tmp_path``, in a folder the learner's worker can write too (its own /tmp is private)."""
        return self.learner.shared_folder(request.node.name)

    @pytest.fixture
    def device(self, request):
        if not torch.cuda.is_available():
            pytest.skip(NO_GPU)
        return torch.device("cuda")

    @pytest.fixture
    def rng(self, request):
        return torch.Generator().manual_seed(zlib.crc32(request.node.nodeid.encode()))


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

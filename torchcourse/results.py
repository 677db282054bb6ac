"""What a grading run produced, and the formats it is exported to (JSON, JUnit XML, Gradescope)."""
from __future__ import annotations

import hashlib
import json
import platform
import sys
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from torchcourse import __version__
from torchcourse.files import atomic_write_text

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class CheckResult:
    name: str                 # the test function's name, e.g. test_matches_cdist
    title: str                # readable title
    outcome: str              # passed / failed / skipped
    weight: float
    points: float = 0.0       # earned, in course.toml points
    max_points: float = 0.0
    message: str = ""
    visibility: str = "visible"
    duration: float = 0.0
    kind: str = "value"       # value / speed / gpu
    covers: tuple = ()        # contracts it proves besides values: speed, device, inputs (the gate counts them)


@dataclass
class ExerciseResult:
    key: str                  # ch10.sdpa
    title: str
    file: str
    sha256: str | None
    max_points: float
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def graded(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome != SKIPPED]

    @property
    def score(self) -> float:
        return round(sum(c.points for c in self.checks), 4)

    @property
    def possible(self) -> float:
        """Points available in this run (skipped checks, e.g. GPU checks without a GPU, are not counted)."""
        return round(sum(c.max_points for c in self.graded), 4)

    @property
    def passed(self) -> bool:
        return bool(self.graded) and all(c.outcome == PASSED for c in self.graded)

    @property
    def status(self) -> str:
        if self.passed:
            return "passed"
        if all(c.message.startswith("not implemented yet") for c in self.graded if c.outcome == FAILED) \
                and not any(c.outcome == PASSED for c in self.graded if c.kind != "meta"):
            return "not started"
        return "failing"


@dataclass
class RunResult:
    chapter: str
    implementation: str
    exercises: list[ExerciseResult]
    environment: dict
    started: str
    duration: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def possible(self) -> float:
        return round(sum(e.possible for e in self.exercises), 4)

    @property
    def passed(self) -> bool:
        return bool(self.exercises) and all(e.passed for e in self.exercises)

    def to_dict(self) -> dict:
        return {
            "schema": "torchcourse.results/1",
            "chapter": self.chapter,
            "implementation": self.implementation,
            "started": self.started,
            "duration_s": round(self.duration, 3),
            "score": self.score,
            "max_score": self.possible,
            "passed": self.passed,
            "environment": self.environment,
            "exercises": [
                {"id": e.key, "title": e.title, "file": e.file, "sha256": e.sha256, "score": e.score,
                 "max_score": e.possible, "status": e.status,
                 "checks": [asdict(c) for c in e.checks]}
                for e in self.exercises
            ],
        }


def environment() -> dict:
    import torch

    from torchcourse import sandbox
    return {
        "course_engine": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "platform": sys.platform,
        # which protections the workers of this run got (see sandbox.PROTECTIONS); empty: none started
        "sandbox": sandbox.protections(),
    }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


# ---------------------------------------------------------------- exports

def write_json(runs: list[RunResult], path: Path) -> None:
    data = {"schema": "torchcourse.results/1", "runs": [r.to_dict() for r in runs],
            "score": round(sum(r.score for r in runs), 4), "max_score": round(sum(r.possible for r in runs), 4)}
    atomic_write_text(Path(path), json.dumps(data, indent=2, ensure_ascii=False))


def write_junit(runs: list[RunResult], path: Path) -> None:
    suites = ET.Element("testsuites")
    for run in runs:
        for ex in run.exercises:
            failures = sum(c.outcome == FAILED for c in ex.checks)
            skipped = sum(c.outcome == SKIPPED for c in ex.checks)
            suite = ET.SubElement(suites, "testsuite", name=ex.key, tests=str(len(ex.checks)),
                                  failures=str(failures), skipped=str(skipped), errors="0")
            for c in ex.checks:
                case = ET.SubElement(suite, "testcase", classname=ex.key, name=c.name, time=f"{c.duration:.3f}")
                if c.outcome == FAILED:
                    ET.SubElement(case, "failure", message=c.message.splitlines()[0] if c.message else "failed") \
                        .text = c.message
                elif c.outcome == SKIPPED:
                    ET.SubElement(case, "skipped", message=c.message)
    atomic_write_text(Path(path), ET.tostring(suites, encoding="unicode"))


def _apportion(values: list[float], places: int = 4) -> list[float]:
    """``values`` rounded to ``places`` decimals so that they still add up to their rounded sum (largest
    remainders first): 7 checks of 10/7 points show as 1.4286 five times and 1.4285 twice, summing to 10.0 (plain
    rounding gave 10.0002)."""
    unit = 10 ** places
    exact = [v * unit for v in values]
    floors = [int(x // 1) for x in exact]
    short = round(sum(exact)) - sum(floors)
    for i in sorted(range(len(exact)), key=lambda i: exact[i] - floors[i], reverse=True)[:max(0, short)]:
        floors[i] += 1
    return [f / unit for f in floors]


def gradescope_dict(runs: list[RunResult]) -> dict:
    """Gradescope's results.json: one test per check, with score, max_score, output and visibility."""
    tests = []
    for run in runs:
        for ex in run.exercises:
            graded = [c for c in ex.checks if c.outcome != SKIPPED]
            scores = _apportion([c.points for c in graded])          # so that they add up to the exercise's
            maxima = _apportion([c.max_points for c in graded])
            for c, score, max_score in zip(graded, scores, maxima):
                tests.append({
                    "name": f"{ex.key}: {c.title}",
                    "number": f"{ex.key}.{c.name}",
                    "score": score,
                    "max_score": max_score,
                    "status": "passed" if c.outcome == PASSED else "failed",
                    "output": c.message if c.visibility == "visible" else
                    ("passed" if c.outcome == PASSED else "failed (details are hidden until grading ends)"),
                    "visibility": "visible" if c.visibility == "visible" else "after_due_date",
                })
    return {
        "score": round(sum(t["score"] for t in tests), 4),
        "output": "Graded by torchcourse " + __version__,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(runs: list[RunResult], path: Path) -> None:
    atomic_write_text(Path(path), json.dumps(gradescope_dict(runs), indent=2, ensure_ascii=False))

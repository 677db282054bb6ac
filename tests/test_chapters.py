"""Every exercise proven three ways: the reference passes every check, the stub fails every graded check,
and each realistic wrong implementation in tests/wrong/ fails the checks it names, with words that name
the mistake."""
from __future__ import annotations

from pathlib import Path

import pytest

from torchcourse import config, devcheck
from torchcourse.results import FAILED, PASSED, SKIPPED
from torchcourse.runner import grade

COURSE = config.load(Path(__file__).resolve().parents[1])
CHAPTERS = COURSE.chapters
WRONG = [w for ch in CHAPTERS for w in devcheck.wrong_implementations(COURSE, ch)]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_reference_passes_every_check(chapter):
    run = grade(COURSE, chapter, COURSE.solutions_dir, label="reference")
    for ex in run.exercises:
        assert ex.checks, f"{ex.key}: no checks"
        for c in ex.checks:
            assert c.outcome == PASSED or (c.outcome == SKIPPED and c.kind == "gpu"), \
                f"{ex.key} {c.name} {c.outcome}: {c.message}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_stub_fails_every_graded_check(chapter):
    run = grade(COURSE, chapter, COURSE.exercises_dir)
    for ex in run.exercises:
        graded = [c for c in ex.checks if c.outcome != SKIPPED]
        assert graded, f"{ex.key}: nothing graded"
        for c in graded:
            assert c.outcome == FAILED, f"{ex.key}: the stub passes {c.name}"
        assert ex.score == 0 and ex.status == "not started"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_every_exercise_has_wrong_implementations(chapter):
    for ex in chapter.exercises:
        mine = [w for w in WRONG if w.exercise is ex]
        assert len(mine) >= 2, f"{ex.key}: at least two realistic wrong implementations"
        assert all(w.mistake and w.expect for w in mine)


@pytest.mark.parametrize("wrong", WRONG, ids=[f"{w.exercise.key}-{w.path.stem}" for w in WRONG])
def test_wrong_implementation_is_caught(wrong, tmp_path):
    result = devcheck.grade_wrong(COURSE, wrong, tmp_path)
    assert devcheck.wrong_problems(wrong, result) == []

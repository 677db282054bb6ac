"""Every exercise proven three ways, by the author's gate itself (torchcourse.devcheck): the reference passes
every check, the stub fails every graded check, each wrong variant fails the checks it names with words that
name the mistake, each valid variant passes; and no file is missing or orphaned."""
from __future__ import annotations

from pathlib import Path

import pytest

from torchcourse import config, devcheck

COURSE = config.load(Path(__file__).resolve().parents[1])


def test_stubs_in_sync_and_nothing_orphaned():
    assert devcheck.stale_stubs(COURSE) + devcheck.orphans(COURSE) == []


@pytest.mark.parametrize("chapter", COURSE.chapters, ids=[c.id for c in COURSE.chapters])
def test_chapter_passes_the_gate(chapter):
    report = devcheck.chapter_report(COURSE, chapter)
    assert report.problems == [], "\n".join(report.problems)

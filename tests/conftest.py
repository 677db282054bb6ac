"""Shared fixtures for the project's own tests."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from torchcourse import config
from torchcourse.remote import Implementation

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def course():
    return config.load(ROOT)


@pytest.fixture
def learner_root(tmp_path):
    """Write learner files into a fresh implementation folder: learner_root({"ch00_demo/m.py": "..."})."""
    def make(files: dict[str, str]) -> Path:
        root = tmp_path / "impl"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return root
    return make


@pytest.fixture
def remote(learner_root):
    """An Implementation over one learner module ``ch00_demo.m`` with the given source; closed afterwards."""
    impls = []

    def make(source: str, **kwargs) -> Implementation:
        impl = Implementation(learner_root({"ch00_demo/m.py": source}), **kwargs)
        impls.append(impl)
        return impl
    yield make
    for impl in impls:
        impl.close()


def wrong_source(course, key: str, name: str) -> str:
    """The source of one declared variant of an exercise (tests/variants), e.g. a known wrong implementation."""
    from torchcourse import variants
    ex = course.exercise(key)
    (found,) = [v for v in variants.load(course, ex) if v.name == name]
    return found.source(course)


def copy_chapter(course, chapter, dest: Path, replace: dict[str, Path] | None = None) -> Path:
    """A copy of the reference chapter under dest, with some exercise files replaced."""
    target = dest / chapter.dir
    shutil.copytree(course.solutions_dir / chapter.dir, target, ignore=shutil.ignore_patterns("__pycache__"))
    for name, path in (replace or {}).items():
        shutil.copyfile(path, target / name)
    return dest

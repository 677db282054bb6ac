"""The author's gate: stubs in sync, the reference passes, the stub fails, wrong implementations are caught.

Wrong implementations live in ``tests/wrong/<chapter_dir>/<exercise>/<name>.py`` with two module constants,
read with ``ast.literal_eval`` (never executed here)::

    MISTAKE = "negative values from cancellation are not clamped"
    EXPECT = {"test_nonnegative": "clamp"}     # check -> words its failure message must contain
"""
from __future__ import annotations

import ast
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape

from torchcourse import stubs
from torchcourse.results import FAILED, PASSED, SKIPPED
from torchcourse.runner import grade


@dataclass(frozen=True)
class WrongImpl:
    exercise: object            # config.Exercise
    path: Path
    mistake: str
    expect: dict


def wrong_implementations(course, chapter) -> list[WrongImpl]:
    found = []
    base = course.root / "tests" / "wrong" / chapter.dir
    for ex in chapter.exercises:
        for path in sorted((base / ex.id).glob("*.py")):
            meta = read_constants(path)
            found.append(WrongImpl(ex, path, str(meta.get("MISTAKE", "")), dict(meta.get("EXPECT", {}))))
    return found


def read_constants(path: Path) -> dict:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ("MISTAKE", "EXPECT"):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def grade_wrong(course, wrong: WrongImpl, workdir: Path):
    """Grade one wrong implementation, placed in a copy of the reference chapter."""
    ex = wrong.exercise
    root = workdir / ex.id / wrong.path.stem
    chapter_dir = root / ex.chapter.dir
    shutil.copytree(course.solutions_dir / ex.chapter.dir, chapter_dir,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(wrong.path, chapter_dir / ex.file)
    run = grade(course, ex.chapter, root, exercises=[ex], only_checks=set(wrong.expect) or None)
    return run.exercises[0]


def wrong_problems(wrong: WrongImpl, result) -> list[str]:
    """What is wrong with how the graders treated a wrong implementation (empty: caught and named)."""
    problems = []
    if not wrong.expect:
        return [f"{wrong.path.name}: EXPECT is empty (name the check that must catch it)"]
    by_name = {c.name: c for c in result.checks}
    for check_name, words in wrong.expect.items():
        c = by_name.get(check_name)
        if c is None:
            problems.append(f"{wrong.path.name}: no check named {check_name}")
        elif c.outcome != FAILED:
            problems.append(f"{wrong.path.name}: {check_name} {c.outcome} (should catch: {wrong.mistake})")
        elif words.lower() not in c.message.lower():
            problems.append(f"{wrong.path.name}: {check_name} failed but its message does not say "
                            f"{words!r}: {c.message[:300]}")
    return problems


def build(course, out, *, check_only: bool = False) -> int:
    changed = stubs.build(course.solutions_dir, course.exercises_dir, check_only=True)
    if check_only:
        for path in changed:
            out.print(f"[red]out of date:[/red] {path.relative_to(course.root)}")
        out.print("stubs are in sync with solutions/" if not changed else "run `course dev build`")
        return 1 if changed else 0
    from torchcourse.state import State
    state = State(course.root)
    for path in changed:
        saved = state.backup(path, "build")
        if saved:
            out.print(f"kept the previous {path.relative_to(course.root)} as {saved}")
    stubs.build(course.solutions_dir, course.exercises_dir)
    out.print(f"{len(changed)} stub(s) written")
    return 0


def check(course, out, *, chapters=(), skip_wrong: bool = False) -> int:
    selected = [course.chapter(c) for c in chapters] if chapters else course.chapters
    problems = []
    stale = stubs.build(course.solutions_dir, course.exercises_dir, check_only=True)
    problems += [f"stub out of date: {p.relative_to(course.root)} (run `course dev build`)" for p in stale]
    with tempfile.TemporaryDirectory(prefix="torchcourse-devcheck-") as tmp:
        for chapter in selected:
            problems += chapter_problems(course, chapter, Path(tmp), out, skip_wrong=skip_wrong)
    for p in problems:
        out.print(f"[red]problem:[/red] {escape(p)}")
    out.print("[green]dev check passed[/green]" if not problems else f"[red]{len(problems)} problem(s)[/red]")
    return 1 if problems else 0


def chapter_problems(course, chapter, workdir: Path, out, *, skip_wrong: bool = False) -> list[str]:
    problems = []
    reference = grade(course, chapter, course.solutions_dir, label="reference")
    for ex in reference.exercises:
        for c in ex.checks:
            if c.outcome == FAILED or (c.outcome == SKIPPED and c.kind != "gpu"):
                problems.append(f"{ex.key}: the reference {c.outcome} {c.name}: {c.message[:400]}")
    out.print(f"{chapter.id}: reference {reference.score:g}/{reference.possible:g} ({reference.duration:.1f} s)")
    stub_run = grade(course, chapter, course.exercises_dir)
    stub_dir = course.exercises_dir
    if stubs.build(course.solutions_dir, stub_dir, check_only=True):
        out.print("[yellow]exercises/ differs from the generated stubs: graded the generated ones[/yellow]")
        stub_dir = workdir / "stubs"
        stubs.build(course.solutions_dir, stub_dir)
        stub_run = grade(course, chapter, stub_dir)
    for ex in stub_run.exercises:
        for c in ex.checks:
            if c.outcome == PASSED:
                problems.append(f"{ex.key}: the stub passes {c.name}: a check that a stub passes proves nothing")
    out.print(f"{chapter.id}: stub {stub_run.score:g}/{stub_run.possible:g} ({stub_run.duration:.1f} s)")
    if skip_wrong:
        return problems
    wrongs = wrong_implementations(course, chapter)
    for ex in chapter.exercises:
        if not any(w.exercise is ex for w in wrongs):
            problems.append(f"{ex.key}: no wrong implementations under tests/wrong/{chapter.dir}/{ex.id}/")
    for wrong in wrongs:
        result = grade_wrong(course, wrong, workdir)
        found = wrong_problems(wrong, result)
        problems += [f"{wrong.exercise.key}: {p}" for p in found]
        mark = "[green]caught[/green]" if not found else "[red]NOT caught[/red]"
        out.print(f"  {wrong.exercise.key} {wrong.path.stem}: {mark} ({escape(wrong.mistake)})")
    return problems

"""The author's gate, the one place that proves the course: ``course dev check``; the tests call it too.

For every chapter, in one grading session (graders collected once, one reference worker, a fresh worker per
implementation): the reference passes every check, the stub fails every graded check, every wrong variant
fails the checks it names with words that name the mistake, and every valid variant passes every check.
Around it, both directions of completeness: every declared exercise has its solution, stub, grader, text in
each language and variants, and every such file belongs to a declared exercise (no orphans).
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape

from torchcourse import stubs, variants
from torchcourse.config import CHECK_KINDS, ConfigError
from torchcourse.plugin import Subject
from torchcourse.results import FAILED, PASSED, SKIPPED
from torchcourse.runner import grade_subjects

# What every exercise must have, enforced here so that new chapters inherit it.
MIN_WRONG = 2
MIN_VALID = 2
# among config.CHECK_KINDS; an exercise that cannot have one declares `exempt = { kind = "why" }`
REQUIRED_KINDS: tuple[str, ...] = ("speed", "device", "inputs")
SUPPORT_DIRS = {"support", "worker_support"}


@dataclass
class ChapterReport:
    chapter: str
    problems: list[str]
    lines: list[str]             # what was proven, one line each (for the terminal)
    seconds: float = 0.0


def build(course, out, *, check_only: bool = False) -> int:
    changed = stubs.build(course.solutions_dir, course.exercises_dir, check_only=True)
    if check_only:
        for path in changed:
            out.print(f"[red]out of date:[/red] {escape(str(path.relative_to(course.root)))}")
        out.print("stubs are in sync with solutions/" if not changed else "run `course dev build`")
        return 1 if changed else 0
    from torchcourse.state import State
    state = State(course.root)
    for path in changed:
        saved = state.backup(path, "build")
        if saved:
            out.print(f"kept the previous {escape(str(path.relative_to(course.root)))} as {escape(str(saved))}")
    stubs.build(course.solutions_dir, course.exercises_dir)
    out.print(f"{len(changed)} stub(s) written")
    return 0


def check(course, out, *, chapters=(), skip_wrong: bool = False) -> int:
    """Run the whole gate (or some chapters of it) and print what it proved; 1 when anything is wrong."""
    selected = [course.chapter(c) for c in chapters] if chapters else course.chapters
    problems = stale_stubs(course) + orphans(course)
    for chapter in selected:
        report = chapter_report(course, chapter, skip_variants=skip_wrong)
        for line in report.lines:
            out.print(line)
        problems += report.problems
    for p in problems:
        out.print(f"[red]problem:[/red] {escape(p)}")
    out.print("[green]dev check passed[/green]" if not problems else f"[red]{len(problems)} problem(s)[/red]")
    return 1 if problems else 0


def stale_stubs(course) -> list[str]:
    return [f"stub out of date: {p.relative_to(course.root)} (run `course dev build`)"
            for p in stubs.build(course.solutions_dir, course.exercises_dir, check_only=True)]


# ---------------------------------------------------------------- completeness, both ways

def orphans(course) -> list[str]:
    """Every declared exercise has all its files, and every file belongs to a declared exercise."""
    problems = []
    root = course.root
    listed = {ch.dir for ch in course.chapters}
    for top in (course.solutions_dir, course.exercises_dir, course.graders_dir, root / "tests" / "variants"):
        for d in sorted(p for p in top.iterdir() if p.is_dir()) if top.is_dir() else []:
            if d.name not in listed | SUPPORT_DIRS and d.name != "__pycache__":
                problems.append(f"{d.relative_to(root)}: a chapter folder that course.toml does not list")
    for chapter in course.chapters:
        declared = {ex.file for ex in chapter.exercises} | {"__init__.py"}
        for top in (course.solutions_dir, course.exercises_dir):
            for f in sorted((top / chapter.dir).glob("*.py")):
                if f.name not in declared:
                    problems.append(f"{f.relative_to(root)}: no exercise of {chapter.id} declares this file")
        graders = {f"test_{ex.id}.py" for ex in chapter.exercises}
        for f in sorted((course.graders_dir / chapter.dir).glob("*.py")):
            if f.name not in graders:
                problems.append(f"{f.relative_to(root)}: a grader no declared exercise owns (graders are "
                                f"test_<exercise id>.py)")
        for f in sorted((course.graders_dir / chapter.dir / "text").glob("*")):
            if f.stem not in course.languages or f.suffix != ".toml":
                problems.append(f"{f.relative_to(root)}: not a text file of a course language "
                                f"({', '.join(course.languages)})")
        vdir = root / "tests" / "variants" / chapter.dir
        for f in sorted(vdir.glob("*.toml")):
            if f.stem not in {ex.id for ex in chapter.exercises}:
                problems.append(f"{f.relative_to(root)}: variants of an exercise {chapter.id} does not declare")
        for ex in chapter.exercises:
            problems += _exercise_files(course, ex)
    return problems


def _exercise_files(course, ex) -> list[str]:
    problems = []
    root = course.root
    for what, path in (("solution", ex.path_in(course.solutions_dir)), ("stub", ex.path_in(course.exercises_dir)),
                       ("grader", ex.grader_path(course.graders_dir))):
        if not path.is_file():
            problems.append(f"{ex.key}: its {what} {path.relative_to(root)} is missing")
    for lang in course.languages:
        if lang not in ex.title or len(ex.hints.get(lang, [])) < 2:
            problems.append(f"{ex.key}: graders/{ex.chapter.dir}/text/{lang}.toml needs its title and at least two "
                            f"progressive hints")
    try:
        found = variants.load(course, ex)
    except (ConfigError, variants.VariantError) as e:
        return problems + [str(e)]
    wrong = [v for v in found if v.kind == "wrong"]
    valid = [v for v in found if v.kind == "valid"]
    decl = variants.declaration_path(course, ex).relative_to(root)
    if len(wrong) < MIN_WRONG:
        problems.append(f"{ex.key}: {decl} declares {len(wrong)} wrong implementation(s); at least {MIN_WRONG}")
    if len(valid) < MIN_VALID:
        problems.append(f"{ex.key}: {decl} declares {len(valid)} valid alternative(s); at least {MIN_VALID}")
    used = {v.file.resolve() for v in found if v.file is not None}
    for f in sorted((root / "tests" / "variants" / ex.chapter.dir / ex.id).glob("*.py")):
        if f.resolve() not in used:
            problems.append(f"{f.relative_to(root)}: a variant file that {decl} does not declare")
    return problems


# ---------------------------------------------------------------- grading, three ways (and valid variants)

def chapter_report(course, chapter, *, skip_variants: bool = False) -> ChapterReport:
    """Grade the chapter's reference, stub and variants in one session and say what is wrong."""
    t0 = time.perf_counter()
    problems, lines = [], []
    found = [] if skip_variants else _buildable(course, chapter, problems)
    with tempfile.TemporaryDirectory(prefix="torchcourse-devcheck-") as tmp:
        tmp = Path(tmp)
        stub_root = course.exercises_dir
        if stubs.build(course.solutions_dir, course.exercises_dir, check_only=True):
            lines.append("[yellow]exercises/ differs from the generated stubs: graded the generated ones[/yellow]")
            stub_root = tmp / "stubs"
            stubs.build(course.solutions_dir, stub_root)
        subjects = [Subject("reference", course.solutions_dir.resolve()), Subject("stub", stub_root.resolve())]
        for i, (variant, source) in enumerate(found):
            root = tmp / f"v{i:03d}"
            shutil.copytree(course.solutions_dir / chapter.dir, root / chapter.dir,
                            ignore=shutil.ignore_patterns("__pycache__"))
            variant.exercise.path_in(root).write_text(source, encoding="utf-8")
            subjects.append(Subject(variant.label, root.resolve(),
                                    set(variant.expect) if variant.kind == "wrong" else None,
                                    {variant.exercise.key}))
        runs = grade_subjects(course, chapter, subjects)
    reference, stub, variant_runs = runs[0], runs[1], runs[2:]
    problems += _reference_problems(reference) + _kind_problems(chapter, reference) + _stub_problems(stub)
    lines.append(f"{chapter.id}: reference {reference.score:g}/{reference.possible:g}, stub {stub.score:g}/"
                 f"{stub.possible:g}")
    for (variant, _), run in zip(found, variant_runs):
        found_here = (_wrong_problems if variant.kind == "wrong" else _valid_problems)(variant, run.exercises[0])
        problems += [f"{variant.exercise.key}: {p}" for p in found_here]
        verb = {"wrong": ("caught", "NOT caught"), "valid": ("accepted", "REJECTED")}[variant.kind]
        mark = f"[green]{verb[0]}[/green]" if not found_here else f"[red]{verb[1]}[/red]"
        lines.append(f"  {variant.exercise.key} {variant.kind} {escape(variant.name)}: {mark} "
                     f"({escape(variant.mistake or variant.why)})")
    seconds = time.perf_counter() - t0
    lines.append(f"{chapter.id}: {len(found)} variant(s) graded in {seconds:.1f} s")
    return ChapterReport(chapter.id, problems, lines, seconds)


def _buildable(course, chapter, problems: list[str]) -> list[tuple]:
    found = []
    for ex in chapter.exercises:
        try:
            for v in variants.load(course, ex):
                try:
                    found.append((v, v.source(course)))
                except variants.VariantError as e:
                    problems.append(str(e))
        except ConfigError as e:
            problems.append(str(e))
    return found


def _reference_problems(run) -> list[str]:
    return [f"{ex.key}: the reference {c.outcome} {c.name}: {c.message[:400]}"
            for ex in run.exercises for c in ex.checks
            if c.outcome == FAILED or (c.outcome == SKIPPED and c.kind != "gpu")]


def _stub_problems(run) -> list[str]:
    problems = []
    for ex in run.exercises:
        graded = [c for c in ex.checks if c.outcome != SKIPPED]
        if not graded:
            problems.append(f"{ex.key}: the stub is graded by nothing (every check skipped)")
        problems += [f"{ex.key}: the stub passes {c.name}: a check that a stub passes proves nothing"
                     for c in graded if c.outcome == PASSED]
    return problems


def _kind_problems(chapter, run) -> list[str]:
    """Each exercise has a check of every required kind, or declares with a reason why it cannot."""
    problems = []
    for ex, result in zip(chapter.exercises, run.exercises):
        have = {k for c in result.checks for k in c.covers}
        for kind in REQUIRED_KINDS:
            assert kind in CHECK_KINDS
            if kind not in have and kind not in ex.exempt:
                problems.append(f"{ex.key}: no {kind} check (mark one with "
                                f"{'@check(speed=True)' if kind == 'speed' else f'@check(covers=({kind!r},))'}, or "
                                f"declare exempt = {{ {kind} = \"why it cannot have one\" }} in {chapter.declaration})")
    return problems


def _wrong_problems(variant, result) -> list[str]:
    """What is wrong with how the graders treated a wrong variant (empty: caught and named)."""
    problems = []
    by_name = {c.name: c for c in result.checks}
    for check_name, words in variant.expect.items():
        c = by_name.get(check_name)
        if c is None:
            problems.append(f"wrong {variant.name}: no check named {check_name}")
        elif c.outcome != FAILED:
            problems.append(f"wrong {variant.name}: {check_name} {c.outcome} (should catch: {variant.mistake})")
        elif words.lower() not in c.message.lower():
            problems.append(f"wrong {variant.name}: {check_name} failed but its message does not say {words!r}: "
                            f"{c.message[:300]}")
    return problems


def _valid_problems(variant, result) -> list[str]:
    return [f"valid {variant.name} ({variant.why}) {c.outcome} {c.name}: {c.message[:300]}"
            for c in result.checks if c.outcome == FAILED or (c.outcome == SKIPPED and c.kind != "gpu")]

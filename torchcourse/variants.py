"""An exercise's variants: realistic wrong implementations the graders must catch and name, and valid
alternatives they must accept, declared as named edits of the reference solution.

``tests/variants/<chapter_dir>/<exercise>.toml``::

    [[wrong]]
    name = "no_clamp"
    mistake = "negative values from cancellation are not clamped"
    expect = { test_nonnegative = "clamp" }     # check -> words its failure message must contain
    [[wrong.edit]]                               # find must occur exactly once in the solution file
    find = '''
        return d2.clamp_min(0)
    '''
    replace = '''
        return d2
    '''

    [[valid]]
    name = "broadcast_difference"
    why = "the [N, M, D] broadcast difference instead of the matmul expansion"
    file = "pairwise/broadcast_difference.py"    # a full file, where the change is structural

An edit that no longer applies to the solution is a problem the gate names, so variants stay in step with
the reference they are edits of.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torchcourse.config import Course, Exercise, TomlFile

KINDS = ("wrong", "valid")


@dataclass(frozen=True)
class Variant:
    exercise: Exercise
    kind: str                   # "wrong" or "valid"
    name: str
    declared_in: Path           # the .toml file
    mistake: str = ""           # wrong: the mistake's name, as a learner would read it
    why: str = ""               # what the variant does differently
    expect: dict = field(default_factory=dict)     # wrong: check name -> words its message must contain
    edits: tuple = ()           # ((find, replace), ...) applied to the solution, in order
    file: Path | None = None    # a full file instead of edits

    @property
    def label(self) -> str:
        return f"{self.exercise.key}:{self.kind}:{self.name}"

    def source(self, course: Course) -> str:
        """The variant's exercise file; VariantError when an edit no longer applies to the solution."""
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8")
            except OSError as e:
                raise VariantError(f"{self.declared_in}: {self.kind} {self.name!r}: cannot read {self.file}: {e}") \
                    from None
        solution = self.exercise.path_in(course.solutions_dir)
        text = solution.read_text(encoding="utf-8")
        for i, (find, replace) in enumerate(self.edits, 1):
            count = text.count(find)
            if count != 1:
                where = "is not in" if count == 0 else f"occurs {count} times in"
                raise VariantError(f"{self.declared_in}: {self.kind} {self.name!r}: edit {i} no longer applies: its "
                                   f"find text {where} {solution.relative_to(course.root)} (first line: "
                                   f"{find.strip().splitlines()[0][:80]!r}); update the edit to the solution")
            text = text.replace(find, replace, 1)
        return text


class VariantError(Exception):
    """A variant that cannot be built (its edit no longer applies, its file is missing)."""


def declaration_path(course: Course, exercise: Exercise) -> Path:
    return course.root / "tests" / "variants" / exercise.chapter.dir / f"{exercise.id}.toml"


def load(course: Course, exercise: Exercise) -> list[Variant]:
    """The exercise's variants, in declaration order (none when it has no declaration file)."""
    path = declaration_path(course, exercise)
    if not path.is_file():
        return []
    decl = TomlFile(path, "")
    decl.only(decl.data, set(KINDS))
    found, names = [], set()
    for kind in KINDS:
        for nth, raw in enumerate(decl.data.get(kind, [])):
            def fail(message: str, key: str | None = None, kind=kind, nth=nth):
                decl.fail(message, key, kind, nth)
            allowed = {"name", "why", "edit", "file"} | ({"mistake", "expect"} if kind == "wrong" else set())
            decl.only(raw, allowed, kind, nth, f"[[{kind}]]")
            name = raw.get("name")
            if not isinstance(name, str) or not name.isidentifier():
                fail(f"name must be a short identifier, got {name!r}", "name")
            if name in names:
                fail(f"{name!r} is declared twice", "name")
            names.add(name)
            edits = raw.get("edit", [])
            if not isinstance(edits, list) or any(not isinstance(e, dict) or set(e) != {"find", "replace"} or
                                                  not all(isinstance(v, str) for v in e.values()) or
                                                  not e["find"].strip() for e in edits):
                fail("each [[edit]] has exactly a non-empty find and a replace string", "edit")
            file = raw.get("file")
            if (file is None) == (not edits):
                fail("give either edits ([[edit]] find/replace) or a full file (file = \"...\"), not both or neither")
            if file is not None and (not isinstance(file, str) or not file.endswith(".py")):
                fail("file is a path to a .py file, relative to this declaration's folder", "file")
            if kind == "wrong":
                if not isinstance(raw.get("mistake"), str) or not raw["mistake"]:
                    fail("mistake names the mistake, as the learner would read it", "mistake")
                expect = raw.get("expect")
                if not isinstance(expect, dict) or not expect or not all(
                        isinstance(k, str) and isinstance(v, str) and v for k, v in expect.items()):
                    fail("expect maps each check that must catch it to words its message must contain", "expect")
            found.append(Variant(
                exercise, kind, name, path, str(raw.get("mistake", "")), str(raw.get("why", "")),
                dict(raw.get("expect", {})), tuple((e["find"], e["replace"]) for e in edits),
                path.parent / file if file else None))
    return found


def load_chapter(course: Course, chapter) -> list[Variant]:
    return [v for ex in chapter.exercises for v in load(course, ex)]

"""Generate the learner's stubs from the reference solutions (the single source).

Everything outside ``# BEGIN SOLUTION`` / ``# END SOLUTION`` is kept (imports, signatures, docstrings, the
``# TODO`` comments); each marked block becomes ``raise NotImplementedError("<name>: not implemented yet")``
at the block's indentation.
"""
from __future__ import annotations

import ast
from pathlib import Path

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"


class MarkerError(Exception):
    pass


def make_stub(source: str, filename: str = "<solution>") -> str:
    lines = source.splitlines(keepends=True)
    owners = _enclosing_functions(source)
    out, inside, begin_line = [], False, 0
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise MarkerError(f"{filename}:{number}: nested {BEGIN}")
            inside, begin_line = True, number
            indent = line[: len(line) - len(line.lstrip())]
            name = owners.get(number, "this exercise")
            out.append(f'{indent}raise NotImplementedError("{name}: not implemented yet")\n')
        elif marker == END:
            if not inside:
                raise MarkerError(f"{filename}:{number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{filename}:{begin_line}: {BEGIN} is never closed")
    stub = "".join(out)
    ast.parse(stub, filename)          # a stub must import cleanly
    return stub


def _enclosing_functions(source: str) -> dict[int, str]:
    """Line number -> qualified name of the innermost function containing it."""
    owners: dict[int, str] = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                        owners[line] = name
                visit(child, name + ".")
            else:
                visit(child, prefix)
    visit(ast.parse(source), "")
    return owners


def build(solutions: Path, exercises: Path, *, check_only: bool = False) -> list[Path]:
    """Write (or, with check_only, compare) every stub; returns the files that differ(ed)."""
    changed = []
    for src in sorted(Path(solutions).rglob("*.py")):
        if "__pycache__" in src.parts:
            continue
        rel = src.relative_to(solutions)
        dest = Path(exercises) / rel
        stub = make_stub(src.read_text(encoding="utf-8"), str(src))
        current = dest.read_text(encoding="utf-8") if dest.exists() else None
        if current != stub:
            changed.append(dest)
            if not check_only:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(stub, encoding="utf-8")
    return changed


def stub_for(exercise, course) -> str:
    return make_stub(exercise.path_in(course.solutions_dir).read_text(encoding="utf-8"))

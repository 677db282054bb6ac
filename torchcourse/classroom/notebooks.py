"""Exercise notebooks for nbgrader, generated from the solution files, and the way back: the learner's
code extracted from a submitted notebook.

One notebook per exercise (``<exercise id>.ipynb``):

1. a locked markdown cell: title, points, the module docstring and every function/class docstring;
2. the solution cell (``<chapter>_<exercise>_solution``): the whole exercise file without its module
   docstring, with our ``# BEGIN SOLUTION`` markers written as nbgrader's ``### BEGIN SOLUTION``;
3. the graded, locked test cell (``<chapter>_<exercise>_test``, points from course.toml): a visible check
   that the names exist, and hidden tests that run the course's graders on the code of this notebook.

Grade ids carry the chapter and exercise, so a submitted notebook is recognised whatever its file name.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from torchcourse.stubs import BEGIN, END

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
NB_BEGIN, NB_END = "### BEGIN SOLUTION", "### END SOLUTION"
MAX_NOTEBOOK_BYTES = 8 * 1024 * 1024


def solution_id(ex) -> str:
    return f"{ex.chapter.id}_{ex.id}_solution"


def test_id(ex) -> str:
    return f"{ex.chapter.id}_{ex.id}_test"


def intro_id(ex) -> str:
    return f"{ex.chapter.id}_{ex.id}_intro"


def _nbg(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"schema_version": 3, "grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def public_names(source: str) -> list[str]:
    """Top-level functions and classes an exercise file defines (what the learner must provide)."""
    tree = ast.parse(source)
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not n.name.startswith("_")]


def _split_docstring(source: str) -> tuple[str, str]:
    """(module docstring, the rest of the file)."""
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or ""
    if doc and tree.body and isinstance(tree.body[0], ast.Expr):
        end = tree.body[0].end_lineno
        rest = "\n".join(source.splitlines()[end:]).lstrip("\n")
        return doc, rest
    return doc, source


def _explanations(source: str) -> list[tuple[str, str]]:
    """(signature, docstring) of every documented top-level function and class, and class methods."""
    tree = ast.parse(source)
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(node):
            found.append((f"{node.name}({', '.join(a.arg for a in node.args.args)})", ast.get_docstring(node)))
        elif isinstance(node, ast.ClassDef):
            if ast.get_docstring(node):
                found.append((f"class {node.name}", ast.get_docstring(node)))
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and ast.get_docstring(item) and (
                        not item.name.startswith("_") or item.name == "__init__"):
                    args = ", ".join(a.arg for a in item.args.args[1:])
                    found.append((f"{node.name}.{item.name}({args})", ast.get_docstring(item)))
    return found


def to_nbgrader_markers(code: str) -> str:
    out = []
    for line in code.splitlines():
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped == BEGIN:
            out.append(indent + NB_BEGIN)
        elif stripped == END:
            out.append(indent + NB_END)
        else:
            out.append(line)
    return "\n".join(out).rstrip("\n")


def exercise_notebook(course, ex):
    """The nbgrader source notebook of one exercise (validated with nbformat and nbgrader's validator)."""
    import nbformat
    from nbformat import v4

    source = ex.path_in(course.solutions_dir).read_text(encoding="utf-8")
    module_doc, code = _split_docstring(source)
    names = public_names(source)
    intro = [f"# {ex.chapter.id}.{ex.id} — {ex.title_in('en')}", "",
             f"**{ex.points:g} points.** {module_doc}".rstrip(), ""]
    for signature, doc in _explanations(source):
        intro += [f"### `{signature}`", "", "```text", doc, "```", ""]
    intro += ["Write your code in the solution cell below (replace `raise NotImplementedError()`). Only that cell "
              "is graded: keep everything the exercise needs (imports, helpers) inside it. The graded cell after "
              "it must stay as it is. Your code is graded in an isolated process by the course's graders, "
              "the same ones `course check` runs; the feedback lists every check and why it failed."]
    visible = (f"# Graded: {ex.key}, {ex.points:g} points. Do not edit or delete this cell.\n"
               f"for _name in {tuple(names)!r}:\n"
               f"    assert _name in globals(), f\"{{_name}} is not defined: run the solution cell above first\"\n")
    hidden = ("### BEGIN HIDDEN TESTS\n"
              "from torchcourse.classroom.kernel import check_in_kernel\n"
              f"check_in_kernel({ex.key!r}, In)\n"
              "### END HIDDEN TESTS")
    cells = [
        v4.new_markdown_cell("\n".join(intro).rstrip(), id=f"{ex.id}-intro", metadata=_nbg(intro_id(ex), locked=True)),
        v4.new_code_cell(to_nbgrader_markers(code), id=f"{ex.id}-solution",
                         metadata=_nbg(solution_id(ex), solution=True)),
        v4.new_code_cell(visible + hidden, id=f"{ex.id}-test",
                         metadata=_nbg(test_id(ex), grade=True, locked=True, points=float(ex.points))),
    ]
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "torchcourse": {"exercise": ex.key, "file": f"{ex.chapter.dir}/{ex.file}"},
    })
    nbformat.validate(nb)
    try:
        from nbgrader.nbgraderformat import MetadataValidator
    except ImportError:          # building is possible without nbgrader; `course nbgrader build` requires it
        pass
    else:
        MetadataValidator().validate_nb(nb)
    return nb


# ---------------------------------------------------------------- the way back

@dataclass
class Extracted:
    code: str
    origin: str                     # "notebook.ipynb#grade_id" or "notebook.ipynb (by content)"
    notes: list[str] = field(default_factory=list)


def read_notebook(path: Path) -> dict | None:
    """A notebook as plain JSON (no validation: a learner's notebook may be broken in any way)."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("cells"), list) else None


def _text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _grade_id(cell: dict) -> str | None:
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg.get("grade_id") if isinstance(nbg, dict) else None


def extract(nb: dict, ex, names: list[str], label: str) -> Extracted | None:
    """The learner's code for ``ex`` from one notebook: its solution cell(s) by grade id, else (nbgrader
    metadata stripped) the code cells that define the exercise's names. None when the notebook has neither."""
    cells = [c for c in nb.get("cells", []) if isinstance(c, dict) and c.get("cell_type") == "code"]
    wanted = solution_id(ex)
    by_id = [_text(c) for c in cells if _grade_id(c) == wanted]
    if by_id:
        return Extracted("\n\n".join(by_id).rstrip() + "\n", f"{label}#{wanted}")
    if any(_grade_id(c) and str(_grade_id(c)).startswith(f"{ex.chapter.id}_") for c in cells):
        return None                 # another exercise's notebook
    chosen = []
    for c in cells:
        text = _text(c)
        if _grade_id(c) == test_id(ex) or "check_in_kernel(" in text:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            if any(re.search(rf"^\s*(def|class)\s+{re.escape(n)}\b", text, re.M) for n in names):
                chosen.append(text)         # broken code for this exercise: graded (and reported) as it is
            continue
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        if defined & set(names):
            chosen.append(text)
    if not chosen:
        return None
    return Extracted("\n\n".join(chosen).rstrip() + "\n", f"{label} (by content)",
                     [f"{label}: no cell with grade id {wanted} (nbgrader metadata removed?); graded the code "
                      f"cells that define {', '.join(names)}"])

"""The real nbgrader, end to end: `course nbgrader build`, `nbgrader generate_assignment`, submissions from
several students (correct, buggy, tampered, renamed, import-failing, test cell deleted, metadata stripped),
`course nbgrader autograde` (nbgrader autograde + the isolated runner), `nbgrader generate_feedback`,
`nbgrader export`, and the grades in the CSV and the gradebook."""
from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbgrader is not installed (pip install -e .[classroom])")
pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install -e .[classroom])")

from torchcourse.classroom import nbgrader as nbg  # noqa: E402
from torchcourse.classroom import notebooks as nbs  # noqa: E402
from torchcourse.cli import main as course_main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXERCISES = ["sdpa", "causal_mask"]          # a part of ch10 keeps the test short
PATCH = ("import torch.testing\n"
         "torch.testing.assert_close = lambda *a, **k: None   # tampering: makes every comparison pass\n")


def nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env, capture_output=True, text=True)


def solution_code(course, ex_id: str) -> str:
    return (course.solutions_dir / "ch10_attention" / f"{ex_id}.py").read_text()


def fill(release: Path, ex_id: str, code: str) -> dict:
    nb = json.loads((release / f"{ex_id}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == f"ch10_{ex_id}_solution":
            cell["source"] = code
    return nb


def submit(root: Path, student: str, notebooks: dict[str, dict]) -> None:
    folder = root / "submitted" / student / "ch10"
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2025-01-10 12:00:00")
    for name, nb in notebooks.items():
        (folder / name).write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def classroom(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader_course")
    argv = ["--root", str(ROOT), "nbgrader", "build", "ch10", "--dir", str(root)]
    for e in EXERCISES:
        argv += ["--exercise", e]
    assert course_main(argv) == 0
    gen = nbgrader(root, "generate_assignment", "ch10")
    assert gen.returncode == 0, gen.stderr[-3000:]
    release = root / "release" / "ch10"

    good = {e: solution_code(course, e) for e in EXERCISES}
    buggy_sdpa = good["sdpa"].replace("/ math.sqrt(q.shape[-1])", "")
    assert buggy_sdpa != good["sdpa"]
    ok = {f"{e}.ipynb": fill(release, e, good[e]) for e in EXERCISES}

    submit(root, "alice", ok)                                                    # correct
    submit(root, "bob", {**ok, "sdpa.ipynb": fill(release, "sdpa", buggy_sdpa)})  # no 1/sqrt(d) scaling

    carol = fill(release, "sdpa", PATCH + buggy_sdpa)                             # bob's bug, plus tampering:
    for cell in carol["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "ch10_sdpa_test":
            cell["source"] = "assert True"                                       # edits the locked test cell
    carol["cells"].insert(1, {"cell_type": "code", "metadata": {}, "source": PATCH, "outputs": [],
                              "execution_count": None, "id": "patch"})
    submit(root, "carol", {**ok, "sdpa.ipynb": carol})

    submit(root, "dave", {"sdpa (1).ipynb": ok["sdpa.ipynb"], "causal_mask.ipynb": ok["causal_mask.ipynb"]})
    submit(root, "erin", {**ok, "sdpa.ipynb": fill(release, "sdpa", "import no_such_module_xyz\n" + good["sdpa"])})
    frank = copy.deepcopy(ok["sdpa.ipynb"])                                      # deletes the graded cell
    frank["cells"] = [c for c in frank["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
                      != "ch10_sdpa_test"]
    submit(root, "frank", {**ok, "sdpa.ipynb": frank})
    heidi = copy.deepcopy(ok["causal_mask.ipynb"])                               # nbgrader metadata stripped
    for cell in heidi["cells"]:
        cell["metadata"] = {}
    submit(root, "heidi", {**ok, "causal_mask.ipynb": heidi})

    before = {p: p.read_bytes() for p in (root / "submitted").rglob("*") if p.is_file()}
    code = course_main(["--root", str(ROOT), "nbgrader", "autograde", "ch10", "--dir", str(root), "--jobs", "2"])
    after = {p: p.read_bytes() for p in (root / "submitted").rglob("*") if p.is_file()}
    feedback = nbgrader(root, "generate_feedback", "ch10")
    export = nbgrader(root, "export", "--to", str(root / "grades.csv"))
    return {"root": root, "code": code, "before": before, "after": after, "feedback": feedback, "export": export}


def grades(root: Path) -> dict[str, float]:
    with open(root / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def why(root: Path, student: str) -> str:
    """The FAIL lines of a student's reports (written into the autograded notebooks), for assertion messages."""
    lines = []
    for path in sorted((root / "autograded" / student / "ch10").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for out in cell.get("outputs", []):
                text = "".join(out.get("text", ""))
                lines += [f"{path.name}: {line.strip()}" for line in text.splitlines() if "FAIL" in line or
                          line.startswith("note")]
    return "\n".join(lines)


@pytest.mark.slow
def test_scores_come_from_the_isolated_runner(classroom):
    assert classroom["code"] == 0
    assert classroom["export"].returncode == 0, classroom["export"].stderr[-2000:]
    got, root = grades(classroom["root"]), classroom["root"]
    assert got["alice"] == 15.0, why(root, "alice")
    assert got["dave"] == 15.0, "a renamed notebook is graded by its grade ids\n" + why(root, "dave")
    assert got["frank"] == 15.0, "deleting the graded cell does not cost a correct solution\n" + why(root, "frank")
    assert got["heidi"] == 15.0, "a notebook without nbgrader metadata is graded by content\n" + why(root, "heidi")
    assert 5.0 <= got["bob"] < 15.0                       # causal_mask right, sdpa partly wrong (partial credit)
    assert got["carol"] == got["bob"], "patching torch.testing in the notebook changes nothing"
    # an import failure costs that whole exercise (the forbidden-API scan needs an importable module), not the others
    assert got["erin"] == 5.0


@pytest.mark.slow
def test_gradebook_cells_and_flags(classroom):
    from nbgrader.api import Gradebook
    root = classroom["root"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", nbg._course_id(root)) as gb:
        for student in ("alice", "bob", "carol", "dave", "erin", "frank", "heidi"):
            for ex in EXERCISES:
                grade = gb.find_grade(f"ch10_{ex}_test", ex, "ch10", student)
                assert grade.auto_score is not None and not grade.needs_manual_grade
        sdpa_bob = gb.find_grade("ch10_sdpa_test", "sdpa", "ch10", "bob")
        assert 0 < sdpa_bob.auto_score < 10, "partial credit from the checks that passed"


@pytest.mark.slow
def test_feedback_shows_failed_checks_but_no_grader_code(classroom):
    root = classroom["root"]
    assert classroom["feedback"].returncode == 0, classroom["feedback"].stderr[-2000:]
    bob = (root / "feedback" / "bob" / "ch10" / "sdpa.html").read_text()
    assert "FAIL" in bob and "sqrt" in bob                # which check failed, and the diagnosis
    erin = (root / "feedback" / "erin" / "ch10" / "sdpa.html").read_text()
    assert "could not be imported" in erin and "no_such_module_xyz" in erin
    assert (root / "feedback" / "dave" / "ch10" / "sdpa.html").is_file(), "feedback under the expected name"
    assert nbg.grader_leaks(root, None) == []
    for top in ("release", "feedback"):
        assert not [p for p in (root / top).rglob("*.py")], f"no Python files (graders) in {top}/"


@pytest.mark.slow
def test_submissions_are_never_modified(classroom):
    assert classroom["before"] == classroom["after"]


def test_source_notebooks_are_valid_and_reproducible(course, tmp_path):
    from nbgrader.nbgraderformat import MetadataValidator
    ch = course.chapter("ch10")
    a = nbformat.writes(nbs.exercise_notebook(course, ch.exercise("sdpa")))
    b = nbformat.writes(nbs.exercise_notebook(course, ch.exercise("sdpa")))
    assert a == b
    nb = nbformat.reads(a, as_version=4)
    MetadataValidator().validate_nb(nb)
    sol, test = nb.cells[1], nb.cells[2]
    assert "### BEGIN SOLUTION" in sol.source and "# BEGIN SOLUTION\n" not in sol.source.replace("### ", "")
    assert test.metadata.nbgrader["points"] == ch.exercise("sdpa").points
    assert test.metadata.nbgrader["locked"] and test.metadata.nbgrader["grade"]
    assert "### BEGIN HIDDEN TESTS" in test.source
    assert "softmax(q kᵀ / √d) v" in nb.cells[0].source           # explanations from the docstrings
    # the way back: the solution cell is the exercise file again
    code = nbs.extract(json.loads(a), ch.exercise("sdpa"), ["scaled_dot_product_attention"], "sdpa.ipynb").code
    assert "scaled_dot_product_attention" in code and "### BEGIN SOLUTION" in code


def test_build_refuses_to_overwrite_changed_notebooks(course, tmp_path):
    argv = ["--root", str(ROOT), "nbgrader", "build", "ch01", "--dir", str(tmp_path)]
    assert course_main(argv) == 0
    nb = tmp_path / "source" / "ch01" / "pairwise.ipynb"
    nb.write_text(nb.read_text().replace("points", "points "))
    assert course_main(argv) == 2
    assert course_main(argv + ["--force"]) == 0


def test_autograde_without_a_course_dir_is_a_usage_error(tmp_path):
    assert course_main(["--root", str(ROOT), "nbgrader", "autograde", "ch10", "--dir", str(tmp_path)]) == 2


@pytest.mark.slow
def test_grading_that_cannot_run_is_loud_not_full_marks(classroom, monkeypatch):
    """Runs last: without execution nbgrader alone would give full marks; if our grading cannot run, the
    grades are flagged for manual grading with 0 and the command fails (exit 4), never a silent pass."""
    from nbgrader.api import Gradebook

    from torchcourse.classroom import batch

    def broken(*args, **kwargs):
        raise batch.BatchError("a grading process could not start (simulated)")
    monkeypatch.setattr(batch, "grade_submissions", broken)
    root = classroom["root"]
    code = course_main(["--root", str(ROOT), "nbgrader", "autograde", "ch10", "--dir", str(root),
                        "--student", "bob"])
    assert code == 4
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", nbg._course_id(root)) as gb:
        for ex in EXERCISES:
            grade = gb.find_grade(f"ch10_{ex}_test", ex, "ch10", "bob")
            assert grade.needs_manual_grade and grade.score == 0

"""`course grade`: a folder of submissions graded in isolation and in parallel, into a gradebook (CSV, JSON,
Gradescope); broken submissions are their own failures; submissions are never modified. And the Gradescope
autograder bundle."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import wrong_source

from torchcourse.classroom import batch, gradescope
from torchcourse.classroom import notebooks as nbs
from torchcourse.cli import main as course_main

ROOT = Path(__file__).resolve().parent.parent
ONLY = ["pairwise", "one_hot"]                       # two exercises of ch01 keep the batch short


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    subs, sol = base / "submissions", course.solutions_dir / "ch01_tensors"
    ch = course.chapter("ch01")
    (subs / "alice" / "ch01_tensors").mkdir(parents=True)                  # correct, chapter folder layout
    for name in ("pairwise.py", "one_hot.py"):
        shutil.copy(sol / name, subs / "alice" / "ch01_tensors" / name)
    (subs / "bob").mkdir()                                                 # flat layout, a known mistake
    (subs / "bob" / "pairwise.py").write_text(wrong_source(course, "ch01.pairwise", "loop_cols"))
    shutil.copy(sol / "one_hot.py", subs / "bob" / "one_hot.py")
    (subs / "carol").mkdir()                                               # does not import
    (subs / "carol" / "pairwise.py").write_text("def pairwise_sq_distances(x, y:\n")
    shutil.copy(sol / "one_hot.py", subs / "carol" / "one_hot.py")
    (subs / "dave").mkdir()                                                # kills its worker at import
    (subs / "dave" / "pairwise.py").write_text("import os\nos._exit(7)\n")
    shutil.copy(sol / "one_hot.py", subs / "dave" / "one_hot.py")
    (subs / "erin").mkdir()                                                # nbgrader notebooks, one renamed
    for ex_id, name in (("pairwise", "pairwise (copy).ipynb"), ("one_hot", "one_hot.ipynb")):
        nb = json.loads(json.dumps(nbs.exercise_notebook(course, ch.exercise(ex_id))))
        (subs / "erin" / name).write_text(json.dumps(nb))
    (subs / "frank").mkdir()                                               # submitted nothing
    (subs / "README.txt").write_text("not a student")
    before = snapshot(subs)
    out = base / "gradebook"
    code = course_main(["--root", str(ROOT), "grade", str(subs), "--chapter", "ch01", "--exercise", "pairwise",
                        "--exercise", "one_hot", "--jobs", "2", "--out", str(out), "--gradescope"])
    return {"subs": subs, "out": out, "code": code, "before": before, "after": snapshot(subs)}


@pytest.mark.slow
def test_gradebook_csv(graded):
    assert graded["code"] == 0                       # every submission graded (low scores are not errors)
    with open(graded["out"] / "gradebook.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert float(rows["alice"]["score"]) == 20 and float(rows["alice"]["max_score"]) == 20
    assert float(rows["bob"]["one_hot"]) == 10 and float(rows["bob"]["pairwise"]) < 10
    for student in ("carol", "dave"):               # a broken file costs that exercise only
        assert float(rows[student]["one_hot"]) == 10 and float(rows[student]["pairwise"]) < 5
        assert rows[student]["status"] == "graded"
    assert float(rows["erin"]["score"]) == 20, "reference code in notebooks, one renamed"
    assert "pairwise (copy).ipynb" in rows["erin"]["notes"]
    assert float(rows["frank"]["score"]) == 0 and "missing" in rows["frank"]["notes"]


@pytest.mark.slow
def test_gradebook_json_records_what_was_graded(graded):
    doc = json.loads((graded["out"] / "gradebook.json").read_text())
    assert doc["schema"] == "torchcourse.gradebook/1" and doc["seconds_per_submission"] > 0
    alice = next(s for s in doc["students"] if s["student"] == "alice")
    env = alice["run"]["environment"]
    assert env["torch"] and "cuda" in env and env["course_engine"]
    ex = alice["run"]["exercises"][0]
    assert ex["file"] == "ch01_tensors/pairwise.py"
    expected = hashlib.sha256((graded["subs"] / "alice" / "ch01_tensors" / "pairwise.py").read_bytes()).hexdigest()
    assert ex["sha256"] == expected
    assert {f["path"] for f in alice["files"]} == {"ch01_tensors/pairwise.py", "ch01_tensors/one_hot.py"}
    dave = next(s for s in doc["students"] if s["student"] == "dave")
    messages = " ".join(c["message"] for e in dave["run"]["exercises"] for c in e["checks"])
    assert "exited with status 7" in messages or "could not be imported" in messages


@pytest.mark.slow
def test_gradescope_results_schema(graded):
    data = json.loads((graded["out"] / "gradescope" / "bob" / "results.json").read_text())
    assert set(data) >= {"score", "tests"}
    for t in data["tests"]:
        assert set(t) >= {"score", "max_score", "output", "visibility", "name"}
        assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=1e-3)


@pytest.mark.slow
def test_submissions_are_never_modified(graded):
    assert graded["before"] == graded["after"]


@pytest.mark.slow
def test_a_hanging_submission_times_out_alone(course, tmp_path):
    subs = tmp_path / "subs"
    (subs / "hang").mkdir(parents=True)
    (subs / "hang" / "pairwise.py").write_text("import time\nwhile True:\n    time.sleep(1)\n")
    sub = batch.discover(subs, course, course.chapter("ch01"), [course.exercise("ch01.pairwise")])
    records, _ = batch.grade_submissions(course, course.chapter("ch01"), sub,
                                         exercises=[course.exercise("ch01.pairwise")], timeout=4, progress=False)
    (rec,) = records
    assert rec["status"] == "error" and "longer than 4 s" in rec["error"]
    assert rec["score"] == 0 and rec["max_score"] == 10


def test_gradebook_inside_submissions_is_refused(tmp_path):
    (tmp_path / "alice").mkdir()
    code = course_main(["--root", str(ROOT), "grade", str(tmp_path), "--chapter", "ch01",
                        "--out", str(tmp_path / "gb")])
    assert code == 2 and not (tmp_path / "gb").exists()


def test_empty_submissions_folder_is_a_usage_error(tmp_path):
    assert course_main(["--root", str(ROOT), "grade", str(tmp_path), "--chapter", "ch01",
                        "--out", str(tmp_path.parent / "gb-empty")]) == 2


def test_gradescope_bundle(course, tmp_path):
    out = tmp_path / "autograder.zip"
    assert course_main(["--root", str(ROOT), "gradescope", "bundle", "ch10", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        run = zf.read("run_autograder").decode()
        mode = zf.getinfo("run_autograder").external_attr >> 16
    assert {"setup.sh", "run_autograder", "course/course.toml", "course/torchcourse/runner.py",
            "course/graders/ch10_attention/test_sdpa.py", "course/solutions/ch10_attention/sdpa.py"} <= names
    assert not any(n.startswith("course/graders/ch01") for n in names)
    assert mode & 0o111
    assert "check ch10 --impl" in run and "--gradescope" in run and "/autograder/results/results.json" in run
    assert "--classroom" in run and "--unprotected" not in run       # refuses unprotected workers by default
    assert course_main(["--root", str(ROOT), "gradescope", "bundle", "ch10", str(out), "--unprotected"]) == 0
    with zipfile.ZipFile(out) as zf:
        assert "--classroom --unprotected" in zf.read("run_autograder").decode()


def test_gradescope_staging_and_error_results(course, tmp_path):
    (tmp_path / "submission").mkdir()
    shutil.copy(course.solutions_dir / "ch01_tensors" / "pairwise.py", tmp_path / "submission" / "pairwise.py")
    assert gradescope.main(["stage", "ch01", str(tmp_path / "submission"), str(tmp_path / "impl")]) == 0
    assert (tmp_path / "impl" / "ch01_tensors" / "pairwise.py").is_file()
    assert (tmp_path / "impl" / "ch01_tensors" / "__init__.py").is_file()
    assert gradescope.main(["error", str(tmp_path / "r.json"), "boom"]) == 0
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 0 and "boom" in data["output"] and data["tests"] == []


def test_a_file_that_is_not_a_notebook_is_reported_not_fatal(course, tmp_path):
    chapter = course.chapter("ch01")
    folder = tmp_path / "mallory"
    folder.mkdir()
    (folder / "pairwise.ipynb").write_text("this is not JSON, let alone a notebook")
    sub = batch.collect(folder, course, chapter, [chapter.exercise("pairwise")])
    assert "pairwise" not in sub.sources
    assert any("not a readable notebook" in note for note in sub.notes)
    assert any("graded as missing" in note for note in sub.notes)

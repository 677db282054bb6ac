"""Seconds per submission: `course grade` against `nbgrader autograde` on the same submissions.

``python -m torchcourse.classroom.bench [--chapter ch10] [--students 4] [--jobs 2] [--keep DIR]``

Builds an nbgrader course for the chapter, releases it, writes submissions (correct, buggy, tampered,
renamed notebook, in turn), then times on the same ``submitted/`` folder:

* ``nbgrader autograde`` alone, executing every notebook in a kernel (nbgrader's own cost; the hidden tests
  only print that grading happens outside, so this is nbgrader's floor, not a full grading);
* ``course grade submitted --chapter CH --jobs N`` (notebooks extracted, graded by the isolated runner);
* ``course nbgrader autograde CH`` (nbgrader without execution + the isolated runner + gradebook writes).

Prints one JSON object. Needs nbgrader; takes minutes (about 4 s per notebook for nbgrader alone).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(cmd: list[str], cwd: Path, env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall


def make_submissions(course, chapter, root: Path, students: int) -> list[str]:
    """submitted/<student>/<chapter>/<exercise>.ipynb from the released notebooks, in four kinds."""
    release = root / "release" / chapter.id
    names = []
    for i in range(students):
        kind = ("correct", "buggy", "tampered", "renamed")[i % 4]
        student = f"s{i:02d}_{kind}"
        folder = root / "submitted" / student / chapter.id
        folder.mkdir(parents=True)
        for ex in chapter.exercises:
            path = release / f"{ex.id}.ipynb"
            if not path.exists():
                continue
            nb = json.loads(path.read_text())
            code = ex.path_in(course.solutions_dir).read_text(encoding="utf-8")
            if kind in ("buggy", "tampered"):
                code = code.replace("/ math.sqrt(q.shape[-1])", "")     # ch10.sdpa: no scaling
            if kind == "tampered":
                code = "import torch.testing\ntorch.testing.assert_close = lambda *a, **k: None\n" + code
            for cell in nb["cells"]:
                if cell["metadata"].get("nbgrader", {}).get("grade_id") == f"{chapter.id}_{ex.id}_solution":
                    cell["source"] = code
            name = f"{ex.id} (copy).ipynb" if kind == "renamed" and ex is chapter.exercises[0] else f"{ex.id}.ipynb"
            (folder / name).write_text(json.dumps(nb))
        names.append(student)
    return names


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m torchcourse.classroom.bench")
    p.add_argument("--chapter", default="ch10")
    p.add_argument("--students", type=int, default=4)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--keep", help="build the course here and keep it (default: a temporary folder)")
    args = p.parse_args(argv)
    from torchcourse import config
    course = config.load(config.find_root())
    chapter = course.chapter(args.chapter)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="torchcourse-bench-"))
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""), COURSE_ROOT=str(course.root))
    course_cmd = [sys.executable, "-m", "torchcourse.cli", "--root", str(course.root)]
    try:
        _run([*course_cmd, "nbgrader", "build", chapter.id, "--dir", str(root), "--force"], root.parent, env)
        _run([f"{bindir}/nbgrader", "generate_assignment", chapter.id, "--force"], root, env)
        students = make_submissions(course, chapter, root, args.students)
        n, notebooks = len(students), len(list((root / "source" / chapter.id).glob("*.ipynb")))
        nbgrader_s = _run([f"{bindir}/nbgrader", "autograde", chapter.id, "--force"], root,
                          dict(env, TORCHCOURSE_GRADED_OUTSIDE="1"))
        grade_s = _run([*course_cmd, "grade", str(root / "submitted"), "--chapter", chapter.id, "--jobs",
                        str(args.jobs), "--out", str(root / "gradebook-batch")], root, env)
        wrapper_s = _run([*course_cmd, "nbgrader", "autograde", chapter.id, "--dir", str(root), "--jobs",
                          str(args.jobs)], root, env)
        result = {
            "chapter": chapter.id, "students": n, "notebooks_per_submission": notebooks, "jobs": args.jobs,
            "cpu_count": os.cpu_count(),
            "nbgrader_autograde_s_per_submission": round(nbgrader_s / n, 2),
            "nbgrader_autograde_s_per_notebook": round(nbgrader_s / (n * notebooks), 2),
            "course_grade_s_per_submission": round(grade_s / n, 2),
            "course_nbgrader_autograde_s_per_submission": round(wrapper_s / n, 2),
            "speedup_course_grade_vs_nbgrader": round(nbgrader_s / grade_s, 2),
        }
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

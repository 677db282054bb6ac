"""A Gradescope autograder bundle for one chapter: ``course gradescope bundle ch10 autograder.zip``.

The zip holds ``setup.sh`` (installs Python, torch for CPU and this course), ``run_autograder`` and
``course/`` (the engine, course.toml, and the chapter's graders, reference solutions and package file).
``run_autograder`` stages the learner's files from ``/autograder/submission`` (``<chapter_dir>/*.py``, flat
``*.py``, or the chapter's nbgrader notebooks) into a private folder and runs
``course check CHAPTER --impl <that folder> --gradescope /autograder/results/results.json``; if that writes
nothing, it writes a results.json that says grading failed (score 0, visible), never an empty result.

``python -m torchcourse.classroom.gradescope stage CHAPTER SUBMISSION DEST`` is the staging step.
"""
from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once to build the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install "torch=={torch}" --index-url https://download.pytorch.org/whl/cpu \\
    || /autograder/venv/bin/pip install "torch>=2.4"
/autograder/venv/bin/pip install -e /autograder/source/course
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; results go to /autograder/results/results.json.
set -uo pipefail
PY=/autograder/venv/bin/python
COURSE=/autograder/source/course
RESULTS=/autograder/results/results.json
IMPL=$(mktemp -d)
mkdir -p /autograder/results
rm -f "$RESULTS"
cd "$COURSE"
"$PY" -m torchcourse.classroom.gradescope stage {chapter} /autograder/submission "$IMPL"
/autograder/venv/bin/course --root "$COURSE" check {chapter} --impl "$IMPL" --gradescope "$RESULTS" \\
    --classroom{unprotected}
status=$?
if [ ! -s "$RESULTS" ]; then
  "$PY" -m torchcourse.classroom.gradescope error "$RESULTS" "the course's graders could not run (exit $status)"
fi
exit 0
"""


def _files(course, chapter) -> list[tuple[Path | bytes, str]]:
    """What the bundle holds: the engine, a course.toml listing only this chapter, the chapter's declaration,
    text and graders, the graders' shared helpers, and its reference solutions. (content or path, name)"""
    root = Path(course.root)
    picked = [(_one_chapter_course_toml(course, chapter), "course.toml")]
    for name in ("pyproject.toml", "README.md"):
        if (root / name).is_file():
            picked.append((root / name, name))
    package = root / "torchcourse"
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".ini", ".toml", ".json"):
            picked.append((path, str(path.relative_to(root))))
    folders = [course.graders_dir / chapter.dir, course.support_dir, course.worker_support_dir,
               course.solutions_dir / chapter.dir]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".toml"):
                picked.append((path, str(path.relative_to(root))))
    init = course.exercises_dir / chapter.dir / "__init__.py"
    if init.is_file():
        picked.append((init, str(init.relative_to(root))))
    return picked


def bundle(course, chapter, out: Path, *, unprotected: bool = False) -> Path:
    """The autograder zip; its run_autograder refuses to grade where workers lack a protection unless
    ``unprotected`` (then it passes ``--unprotected``)."""
    import torch
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    version = torch.__version__.split("+")[0]

    def add_script(zf: zipfile.ZipFile, name: str, text: str) -> None:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o100755 << 16
        zf.writestr(info, text)

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        add_script(zf, "setup.sh", SETUP_SH.replace("{torch}", version))
        add_script(zf, "run_autograder", RUN_AUTOGRADER.replace("{chapter}", chapter.id)
                   .replace("{unprotected}", " --unprotected" if unprotected else ""))
        for content, rel in _files(course, chapter):
            info = zipfile.ZipInfo(f"course/{rel}", date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            zf.writestr(info, content if isinstance(content, bytes) else content.read_bytes())
    return out


def _one_chapter_course_toml(course, chapter) -> bytes:
    """course.toml with the chapters list cut down to the bundled one (the others' declarations stay home)."""
    import re
    text = (Path(course.root) / "course.toml").read_text(encoding="utf-8")
    cut, n = re.subn(r"(?ms)^chapters\s*=\s*\[.*?\]", f'chapters = ["{chapter.dir}"]', text, count=1)
    if n != 1:
        raise ValueError("course.toml: cannot find the chapters list to bundle one chapter")
    return cut.encode()


def error_results(message: str) -> dict:
    return {"score": 0.0, "output": f"Grading failed, not a verdict on your code: {message}. Please tell your "
                                    f"instructor.", "visibility": "visible", "stdout_visibility": "visible",
            "tests": []}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["stage"] and len(argv) == 4:
        from torchcourse import config
        from torchcourse.classroom import batch
        course = config.load(config.find_root())
        chapter = course.chapter(argv[1])
        sub = batch.collect(Path(argv[2]), course, chapter, chapter.exercises, student="submission")
        batch.stage(sub, course, chapter, Path(argv[3]))
        for note in sub.notes:
            print(f"note: {note}")
        return 0
    if argv[:1] == ["error"] and len(argv) == 3:
        Path(argv[1]).write_text(json.dumps(error_results(argv[2]), indent=2))
        return 0
    print("usage: python -m torchcourse.classroom.gradescope stage CHAPTER SUBMISSION DEST | "
          "error RESULTS MESSAGE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""The hostile-submission catalogue (issue 5): every attack ends as failed checks, with the honest score for
what was correct, and the grading process survives. Attacks live in tests/hostile/attacks/, one file each,
and are graded against a two-exercise fixture course (tests/hostile/course)."""
from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path

import pytest

from torchcourse import config
from torchcourse.runner import grade

HERE = Path(__file__).parent / "hostile"
ATTACKS = sorted((HERE / "attacks").glob("*.py"))
# attacks that sabotage the learner's own other exercise (same learner, same worker): no claim about it
SPOILS_OTHER_EXERCISE = {"patch_worker_encoder"}
NEEDS_NAMESPACES = {"kill_parent", "kill_grader_by_scan", "read_reference_file", "many_files_fill"}


def namespaces_available() -> bool:
    """Whether workers run in their own PID and mount namespaces here (root, or unprivileged user ns)."""
    from torchcourse.remote import Implementation
    impl = Implementation(HERE / "course" / "solutions", label="probe")
    try:
        return sorted(p for p in impl.lib("os").listdir("/proc") if p.isdigit()) == ["1", "2"]
    finally:
        impl.close()


def metadata(path: Path) -> dict:
    """ATTACK/FAILS/PASSES/MESSAGE, read line by line (some attacks are not even valid Python)."""
    meta = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^(ATTACK|FAILS|PASSES|MESSAGE|EXERCISE) = (.*)$", line)
        if m:
            meta[m.group(1)] = ast.literal_eval(m.group(2))
    return meta


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if text.encode() in Path(f"/proc/{entry.name}/cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_catalogue_is_large_enough():
    assert len(ATTACKS) >= 30


@pytest.fixture(scope="module")
def reference():
    """One clean reference worker for every attack's speed check (it is ours: sharing it is safe)."""
    from torchcourse.remote import Implementation
    impl = Implementation(HERE / "course" / "solutions", label="reference")
    yield impl
    impl.close()


@pytest.mark.parametrize("attack", ATTACKS, ids=[p.stem for p in ATTACKS])
def test_attack_fails_honestly(attack, tmp_path, reference):
    meta = metadata(attack)
    if attack.stem in NEEDS_NAMESPACES and not namespaces_available():
        pytest.skip("without PID and mount namespaces a learner can signal the grading process and read files")
    course = config.load(HERE / "course")
    chapter = course.chapter("ch00")
    root = tmp_path / "submission"
    (root / chapter.dir).mkdir(parents=True)
    (root / chapter.dir / "__init__.py").write_text("")
    target = meta.get("EXERCISE", "scale")          # the exercise the attack replaces; the others are honest
    for exercise in chapter.exercises:
        source = attack if exercise.id == target else course.solutions_dir / chapter.dir / exercise.file
        shutil.copyfile(source, root / chapter.dir / exercise.file)

    run = grade(course, chapter, root, reference=reference)

    scale = next(e for e in run.exercises if e.key == f"ch00.{target}")
    others = [e for e in run.exercises if e is not scale]
    checks = {c.name: c for c in scale.checks}
    failing = set(checks) if meta["FAILS"] == "*" else set(meta["FAILS"])
    for name in failing:
        assert checks[name].outcome == "failed", f"{attack.stem}: {name} {checks[name].outcome}"
        assert checks[name].message, f"{attack.stem}: {name} failed without saying why"
    for name in meta["PASSES"]:
        assert checks[name].outcome == "passed", f"{attack.stem}: honest part {name} {checks[name].outcome}: " \
                                                 f"{checks[name].message}"
    if meta["MESSAGE"]:
        messages = " | ".join(checks[n].message for n in failing)
        assert meta["MESSAGE"].lower() in messages.lower(), f"{attack.stem}: {messages[:600]}"
    if failing:
        assert not scale.passed
    if attack.stem not in SPOILS_OTHER_EXERCISE:
        for other in others:
            assert other.passed, f"{attack.stem} spoiled the other exercise: {other.checks}"
    assert len(str(run.to_dict())) < 200_000          # no flood reaches the report
    assert processes_mentioning(str(root)) == []      # nothing the submission started outlives grading


def test_without_namespaces_leftover_processes_are_still_killed(tmp_path, reference, monkeypatch):
    """Where PID namespaces are unavailable, the grading process (a subreaper) kills what a killed worker
    left behind, setsid() or not."""
    monkeypatch.setenv("TORCHCOURSE_NO_NAMESPACES", "1")
    test_attack_fails_honestly(HERE / "attacks" / "setsid_fork_swarm.py", tmp_path, reference)

"""The hostile-submission catalogue (issue 5): every attack ends as failed checks, with the honest score for
what was correct, and the grading process survives. Attacks live in tests/hostile/attacks/, one file each,
and are graded against a two-exercise fixture course (tests/hostile/course)."""
from __future__ import annotations

import ast
import functools
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from torchcourse import config
from torchcourse.runner import grade

HERE = Path(__file__).parent / "hostile"
ROOT = HERE.parent.parent
ATTACKS = sorted((HERE / "attacks").glob("*.py"))
# attacks that sabotage the learner's own other exercise (same learner, same worker): no claim about it
SPOILS_OTHER_EXERCISE = {"patch_worker_encoder"}
NEEDS_NAMESPACES = {"kill_parent", "kill_grader_by_scan", "read_reference_file", "many_files_fill"}
# attacks that only fail where workers get every protection (no privilege, read-only filesystem, private /tmp)
NEEDS_PROTECTION = {"unmount_hidden_reference", "escape_through_user_namespace", "regain_root",
                    "forge_progress_state", "append_to_engine", "pth_into_site_packages", "other_workers_code_copy",
                    "fill_tmp_and_shm", "overwrite_classmates", "read_reference_file", "import_reference"}
ANSWER_WITHIN_S = 120          # a generous bound on one attack's whole grading run (budgets make it short)


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


@functools.cache
def missing_protections() -> list[str]:
    from torchcourse import sandbox
    return sandbox.missing_protections(sandbox.probe_protections())


def skip_unless_possible(stem: str) -> None:
    if stem in NEEDS_NAMESPACES and not namespaces_available():
        pytest.skip("without PID and mount namespaces a learner can signal the grading process and read files")
    if stem in NEEDS_PROTECTION and missing_protections():
        pytest.skip(f"workers here lack: {', '.join(missing_protections())} (needs root or user namespaces)")


class Leftovers:
    """What a run may leave behind, taken before and compared after: files in the shared temporary folders,
    the checkout's tracked files, the Python environment's startup files, and our processes."""

    def __init__(self):
        self.before = self.take()

    @staticmethod
    def take() -> dict:
        import sysconfig
        site = Path(sysconfig.get_paths()["purelib"])
        return {
            "temp": {str(p) for folder in ("/tmp", "/dev/shm", "/var/tmp") for p in Path(folder).glob("*")
                     if p.name.startswith((f"torchcourse-{os.getpid()}-", "hostile")) or _owned_by_nobody(p)
                     or _stale_home(p)},
            "checkout": subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "torchcourse",
                                        "graders", "solutions", "course.toml", ".course"], cwd=ROOT,
                                       capture_output=True, text=True).stdout,
            "venv": sorted(p.name for p in site.glob("*.pth")),
            "processes": set(descendants(os.getpid())),
        }

    def assert_nothing_new(self, what: str) -> None:
        deadline = time.monotonic() + 10                 # a killed worker's namespace takes a moment to go
        while True:
            after = self.take()
            new = {key: (after[key] - self.before[key]) if isinstance(after[key], set) else after[key]
                   for key in after if after[key] != self.before[key]}
            new = {k: v for k, v in new.items() if v}
            if not new or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for pid in new.get("processes", ()):
            new.setdefault("what", []).append(_describe(pid))
        assert not new, f"{what} left something behind: {new}"


def _describe(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return f"{pid}: {stat.split(')')[0]}) state {stat.rsplit(')', 1)[1].split()[0]}"
    except OSError:
        return f"{pid}: gone"


def _stale_home(path: Path) -> bool:
    """A ``torchcourse-<pid>-*`` folder whose process is gone (another grading process's leftover)."""
    m = re.match(r"torchcourse-(\d+)-", path.name)
    return bool(m) and not Path(f"/proc/{m.group(1)}").exists()


def _owned_by_nobody(path: Path) -> bool:
    try:
        return path.lstat().st_uid == 65534
    except OSError:
        return False


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, their children ...; a zombie is dead already)."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                state, parent = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[:2]
                if state != "Z":
                    parents[int(entry.name)] = int(parent)
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], [pid]
    while frontier:
        below = [p for p, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def test_catalogue_is_large_enough():
    assert len(ATTACKS) >= 30


@pytest.fixture(scope="module")
def reference():
    """One clean reference worker for every attack's speed check (it is ours: sharing it is safe)."""
    from torchcourse.remote import Implementation
    impl = Implementation(HERE / "course" / "solutions", label="reference")
    impl.start().worker.wait_ready()          # running before any attack: it is not an attack's leftover
    yield impl
    impl.close()


@pytest.mark.parametrize("attack", ATTACKS, ids=[p.stem for p in ATTACKS])
def test_attack_fails_honestly(attack, tmp_path, reference):
    meta = metadata(attack)
    skip_unless_possible(attack.stem)
    leftovers = Leftovers()
    course = config.load(HERE / "course")
    chapter = course.chapter("ch00")
    root = tmp_path / "submission"
    (root / chapter.dir).mkdir(parents=True)
    (root / chapter.dir / "__init__.py").write_text("")
    target = meta.get("EXERCISE", "scale")          # the exercise the attack replaces; the others are honest
    for exercise in chapter.exercises:
        source = attack if exercise.id == target else course.solutions_dir / chapter.dir / exercise.file
        shutil.copyfile(source, root / chapter.dir / exercise.file)

    started = time.monotonic()
    run = grade(course, chapter, root, reference=reference)
    assert time.monotonic() - started < ANSWER_WITHIN_S, f"{attack.stem}: no answer within {ANSWER_WITHIN_S} s"

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
    leftovers.assert_nothing_new(attack.stem)


def test_without_namespaces_leftover_processes_are_still_killed(tmp_path, reference, monkeypatch):
    """Where PID namespaces are unavailable, the grading process (a subreaper) kills what a killed worker
    left behind, setsid() or not."""
    monkeypatch.setenv("TORCHCOURSE_NO_NAMESPACES", "1")
    test_attack_fails_honestly(HERE / "attacks" / "setsid_fork_swarm.py", tmp_path, reference)


BATCH_ATTACKS = ["unmount_hidden_reference", "escape_through_user_namespace", "regain_root", "forge_progress_state",
                 "append_to_engine", "pth_into_site_packages", "other_workers_code_copy", "overwrite_classmates",
                 "fill_tmp_and_shm"]


def test_privilege_attacks_in_batch_grading(tmp_path):
    """The same attacks as classmates in one `course grade` batch: each gets its honest score, the honest
    student graded after them (one process, in order) gets full marks, no submission changes, and nothing
    is left behind."""
    from torchcourse.classroom import batch
    if missing_protections():
        pytest.skip(f"workers here lack: {', '.join(missing_protections())}")
    course = config.load(HERE / "course")
    chapter = course.chapter("ch00")
    subs, solutions = tmp_path / "submissions", course.solutions_dir / chapter.dir
    for name in [*BATCH_ATTACKS, "zz_honest"]:
        (subs / name).mkdir(parents=True)
        shutil.copyfile(HERE / "attacks" / f"{name}.py" if name != "zz_honest" else solutions / "scale.py",
                        subs / name / "scale.py")
        shutil.copyfile(solutions / "double.py", subs / name / "double.py")
    before = {str(p): p.read_bytes() for p in subs.rglob("*") if p.is_file()}
    leftovers = Leftovers()

    records, _ = batch.grade_submissions(course, chapter, batch.discover(subs, course, chapter, chapter.exercises),
                                         jobs=1, progress=False)

    by_student = {r["student"]: r for r in records}
    assert by_student["zz_honest"]["score"] == 20, by_student["zz_honest"]["run"]
    for name in BATCH_ATTACKS:
        graded = {e["id"]: e for e in by_student[name]["run"]["exercises"]}
        scale, double = graded["ch00.scale"], graded["ch00.double"]
        checks = {c["name"]: c for c in scale["checks"]}
        expected = metadata(HERE / "attacks" / f"{name}.py")
        for check in ("test_values", "test_dtype") if expected["FAILS"] else ():
            assert checks[check]["outcome"] == "failed", f"{name}: {check} {checks[check]}"
        for check in expected["PASSES"]:
            assert checks[check]["outcome"] == "passed", f"{name}: honest part {check}: {checks[check]['message']}"
        assert double["score"] == 10, f"{name} lost its correct exercise: {double['checks']}"
    assert {str(p): p.read_bytes() for p in subs.rglob("*") if p.is_file()} == before
    leftovers.assert_nothing_new("batch grading")


def test_batch_refuses_unprotected_workers(tmp_path, monkeypatch):
    """Where workers would lack a protection, `course grade` refuses unless --unprotected is given."""
    from torchcourse import sandbox
    from torchcourse.classroom import batch
    monkeypatch.setattr(sandbox, "probe_protections", lambda: {"namespaces": True, "filesystem": False,
                                                              "unprivileged": True})
    monkeypatch.delenv("TORCHCOURSE_UNPROTECTED", raising=False)
    course = config.load(HERE / "course")
    chapter = course.chapter("ch00")
    (tmp_path / "alice").mkdir()
    subs = batch.discover(tmp_path, course, chapter, chapter.exercises)
    with pytest.raises(batch.BatchError, match="(?s)refusing to grade.*read-only filesystem.*--unprotected"):
        batch.grade_submissions(course, chapter, subs, progress=False)
    assert sandbox.require_protection(unprotected=True) == ["filesystem"]

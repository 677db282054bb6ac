"""The `course` command as a learner meets it: exit codes, messages instead of tracebacks, nothing lost."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from torchcourse.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private copy of the course (ch10 only is graded here), as a learner's clone would be."""
    dest = tmp_path / "course"
    dest.mkdir()
    shutil.copyfile(ROOT / "course.toml", dest / "course.toml")
    for folder in ("solutions", "graders", "exercises"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(dest)
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    return dest


def run(*args) -> int:
    return main(list(args))


def test_unknown_chapter_suggests(home, capsys):
    assert run("check", "ch1O") == 2
    err = capsys.readouterr().err
    assert "unknown chapter 'ch1O'" in err and "Did you mean ch10" in err and "Traceback" not in err


def test_unknown_exercise_suggests(home, capsys):
    assert run("hint", "ch10", "sdap") == 2
    assert "Did you mean sdpa" in capsys.readouterr().err


def test_stub_fails_and_reference_passes(home, capsys):
    assert run("check", "ch10", "causal_mask") == 1
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "\x1b[" not in out      # plain text when not on a terminal
    assert run("check", "ch10", "causal_mask", "--impl", "solutions") == 0


def test_syntax_error_shows_file_and_line(home, capsys):
    path = home / "exercises" / "ch10_attention" / "causal_mask.py"
    path.write_text(path.read_text().replace('"""', '"""', 1) + "\ndef broken(:\n")
    assert run("check", "ch10", "causal_mask") == 1
    out = capsys.readouterr().out
    assert "SyntaxError" in out and "causal_mask.py" in out and "line" in out


def test_missing_exercise_file(home, capsys):
    (home / "exercises" / "ch10_attention" / "causal_mask.py").unlink()
    assert run("check", "ch10", "causal_mask") == 1
    assert "is missing: `course reset ch10 causal_mask`" in capsys.readouterr().out
    assert run("reset", "ch10", "causal_mask") == 0
    assert (home / "exercises" / "ch10_attention" / "causal_mask.py").is_file()


def test_exports(home, tmp_path):
    files = {k: tmp_path / f"out.{k}" for k in ("json", "junit", "gradescope")}
    code = run("check", "ch10", "causal_mask", "--impl", "solutions", "--json", str(files["json"]),
               "--junit", str(files["junit"]), "--gradescope", str(files["gradescope"]))
    assert code == 0
    data = json.loads(files["json"].read_text())
    (result,) = data["runs"]
    (exercise,) = result["exercises"]
    assert exercise["id"] == "ch10.causal_mask" and len(exercise["sha256"]) == 64
    assert result["environment"]["torch"] and "cuda" in result["environment"]
    assert result["environment"]["course_version"] and result["environment"]["course_engine"]
    assert all({"name", "outcome", "points", "max_points", "message"} <= set(c) for c in exercise["checks"])
    suites = ET.parse(files["junit"]).getroot()
    assert suites.find("testsuite").get("name") == "ch10.causal_mask"
    gs = json.loads(files["gradescope"].read_text())
    assert gs["tests"] and all({"score", "max_score", "output", "visibility"} <= set(t) for t in gs["tests"])
    assert abs(gs["score"] - sum(t["score"] for t in gs["tests"])) < 1e-6


def test_unwritable_export_is_an_environment_error(home, capsys):
    assert run("check", "ch10", "causal_mask", "--impl", "solutions", "--json", "/proc/nope/out.json") == 4
    assert "cannot write" in capsys.readouterr().err


def test_reset_and_reveal_keep_backups(home, capsys):
    path = home / "exercises" / "ch10_attention" / "causal_mask.py"
    mine = path.read_text() + "\n# my precious notes\n"
    path.write_text(mine)
    assert run("reveal", "ch10", "causal_mask") == 2                    # not passed, no give-up
    assert "--give-up" in capsys.readouterr().out
    assert run("reveal", "ch10", "causal_mask", "--give-up", "--apply") == 0
    assert "BEGIN SOLUTION" in path.read_text()
    assert run("reset", "ch10", "causal_mask") == 0
    assert "not implemented yet" in path.read_text()
    backups = sorted((home / ".course" / "backups").iterdir())
    assert len(backups) == 2 and any(b.read_text() == mine for b in backups)
    mine_backup = next(b for b in backups if b.read_text() == mine)
    assert run("restore", mine_backup.name) == 0
    assert path.read_text() == mine
    state = json.loads((home / ".course" / "state.json").read_text())
    assert "ch10.causal_mask" in state["gave_up"]


def test_hints_are_progressive(home, capsys):
    run("hint", "ch10", "sdpa")
    first = capsys.readouterr().out
    run("hint", "ch10", "sdpa")
    second = capsys.readouterr().out
    assert "1/" in first and "2/" not in first and "2/" in second


def test_progress_and_list_after_a_pass(home, capsys):
    shutil.copyfile(home / "solutions" / "ch10_attention" / "causal_mask.py",
                    home / "exercises" / "ch10_attention" / "causal_mask.py")
    assert run("check", "ch10", "causal_mask") == 0
    capsys.readouterr()
    assert run("list") == 0
    listing = capsys.readouterr().out
    assert "ch10.causal_mask" in listing and "passed" in listing and "注意力" in listing
    assert run("progress") == 0
    assert "1/" in capsys.readouterr().out
    assert run("--lang", "zh_TW", "list") == 0
    assert "通過" in capsys.readouterr().out
    assert run("reveal", "ch10", "causal_mask") == 0          # after a pass: no give-up needed
    assert "BEGIN SOLUTION" in capsys.readouterr().out


def test_corrupt_state_is_rebuilt(home, capsys):
    (home / ".course").mkdir()
    (home / ".course" / "state.json").write_text("{not json")
    assert run("list") == 0
    out = capsys.readouterr().out
    assert "unreadable" in out and (home / ".course" / "state.json.unreadable").exists()
    (home / ".course" / "state.json").write_text(json.dumps({"schema": 99, "exercises": {}}))
    assert run("progress") == 0
    assert "unreadable" in capsys.readouterr().out


def test_invalid_course_toml(home, capsys):
    (home / "course.toml").write_text("schema_version = 1\n[[chapter]]\nid = 'one'\n")
    assert run("list") == 3
    assert "invalid course configuration" in capsys.readouterr().err


def test_no_course_here(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_ROOT", str(tmp_path))
    assert run("list") == 3


def test_watch_rechecks_on_save(home):
    import argparse
    import threading
    import time

    from torchcourse import config
    from torchcourse.report import console
    from torchcourse.watch import watch
    course = config.load(home)
    target = home / "exercises" / "ch10_attention" / "causal_mask.py"

    def save_later():
        time.sleep(1.0)
        shutil.copyfile(home / "solutions" / "ch10_attention" / "causal_mask.py", target)
    threading.Thread(target=save_later).start()
    code = watch(course, argparse.Namespace(chapter="ch10", interval=0.2), console(), max_checks=1)
    assert code == 0
    state = json.loads((home / ".course" / "state.json").read_text())
    assert state["exercises"]["ch10.causal_mask"]["status"] == "passed"


def test_console_script_end_to_end(home):
    """The installed `course` command, in a child process: exit code and stderr, no traceback."""
    exe = shutil.which("course", path=os.path.dirname(sys.executable)) or "course"
    proc = subprocess.run([exe, "check", "ch99"], capture_output=True, text=True, cwd=home, timeout=120)
    assert proc.returncode == 2 and "unknown chapter" in proc.stderr and "Traceback" not in proc.stderr


def test_without_zygote_workers_start_as_new_processes(home):
    """The fallback where fork is unavailable: a new Python process per worker, same verdicts."""
    exe = shutil.which("course", path=os.path.dirname(sys.executable)) or "course"
    env = {**os.environ, "TORCHCOURSE_NO_ZYGOTE": "1"}
    ok = subprocess.run([exe, "check", "ch10", "causal_mask", "--impl", "solutions"], capture_output=True,
                        text=True, cwd=home, timeout=300, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (home / "exercises" / "ch10_attention" / "causal_mask.py").write_text(
        "import os\n\ndef causal_mask(lq, lk=None, device=None):\n    os._exit(0)\n")
    crash = subprocess.run([exe, "check", "ch10", "causal_mask"], capture_output=True, text=True, cwd=home,
                           timeout=300, env=env)
    assert crash.returncode == 1 and "exited with status 0" in crash.stdout and "Traceback" not in crash.stderr


def test_device_option(home, capsys):
    import torch
    assert run("check", "ch10", "causal_mask", "--impl", "solutions", "--device", "cpu") == 0
    assert "--device cpu" in capsys.readouterr().out
    if not torch.cuda.is_available():
        assert run("check", "ch10", "causal_mask", "--impl", "solutions", "--device", "cuda") == 4
        assert "no CUDA device" in capsys.readouterr().err


def test_course_text_is_printed_exactly(home, capsys, course):
    """Hints and titles are text, not rich markup: `[lq, 1]` and `[#...]` come out as written, in every language."""
    for lang in course.languages:
        for ex in course.all_exercises():
            hints = ex.hints_in(lang)
            assert run("hint", ex.chapter.id, ex.id, "--level", str(len(hints)), "--lang", lang) == 0
            out = capsys.readouterr().out
            for hint in hints:
                assert hint in out, f"{ex.key} ({lang}): hint printed differently:\n{hint}\n---\n{out}"
        assert run("list", "--lang", lang) == 0
        listing = capsys.readouterr().out
        for ex in course.all_exercises():
            assert ex.title_in(lang) in listing, f"{ex.key} ({lang}): title missing from `course list`"


def test_progress_bar_shows_with_some_passes(home, capsys):
    shutil.copyfile(home / "solutions" / "ch10_attention" / "causal_mask.py",
                    home / "exercises" / "ch10_attention" / "causal_mask.py")
    assert run("check", "ch10.causal_mask") == 0                  # the form `course list` shows
    capsys.readouterr()
    assert run("progress") == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("ch10"))
    assert "[###" in line and "1/6" in line, line


def test_exercise_named_by_its_file(home, capsys):
    assert run("check", "exercises/ch10_attention/causal_mask.py", "--impl", "solutions") == 0
    assert "ch10.causal_mask" in capsys.readouterr().out
    assert run("check", "notes.py") == 2
    assert "not the file of an exercise" in capsys.readouterr().err


def test_chapter_numbers_and_suggestions(home, capsys):
    assert run("hint", "ch1", "pairwise") == 0                    # ch1 is ch01
    capsys.readouterr()
    assert run("check", "ch99") == 2
    err = capsys.readouterr().err
    assert "unknown chapter 'ch99'" in err and "Did you mean" not in err


def test_lang_after_the_command_and_unknown_languages(home, capsys):
    assert run("list", "--lang", "zh_TW") == 0
    assert "尚未開始" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        run("list", "--lang", "fr")
    assert exit_.value.code == 2 and "invalid choice: 'fr'" in capsys.readouterr().err


def test_outside_any_course_folder_says_so(tmp_path, monkeypatch, capsys):
    """Never another clone's course silently (e.g. the one the package was installed from)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    assert run("list") == 3
    assert f"no course.toml in {tmp_path}" in capsys.readouterr().err


def test_unwritable_export_is_refused_before_grading(home, capsys):
    assert run("check", "ch10", "--json", str(home / "no" / "such" / "out.json")) == 4
    captured = capsys.readouterr()
    assert "--json" in captured.err and "ch10.sdpa" not in captured.out       # nothing was graded


def test_list_shows_give_up_and_missing_file(home, capsys):
    assert run("reveal", "ch10", "causal_mask", "--give-up") == 0
    (home / "exercises" / "ch10_attention" / "sdpa.py").unlink()
    capsys.readouterr()
    assert run("list") == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert "gave up" in lines["ch10.causal_mask"]
    assert "file missing" in lines["ch10.sdpa"]
    assert "file missing: `course reset ch10 sdpa` restores the stub" in "\n".join(lines.values())


def test_progress_columns_line_up_in_chinese(home, capsys):
    from rich.cells import cell_len
    assert run("progress", "--lang", "zh_TW") == 0
    bars = [cell_len(line[:line.index("[")]) for line in capsys.readouterr().out.splitlines() if "[" in line]
    assert len(set(bars)) == 1, bars


def test_live_progress_on_a_terminal_only(home, monkeypatch, capsys, course):
    import io

    from rich.console import Console

    from torchcourse import cli
    from torchcourse.runner import grade
    seen = []
    grade(course, course.chapter("ch10"), home / "solutions", exercises=[course.exercise("ch10.causal_mask")],
          progress=lambda done, total, ex, check: seen.append((done, total, ex, check)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] == len(seen) // 2
    assert {ex for _, _, ex, _ in seen} == {"ch10.causal_mask"}
    screen, plain = io.StringIO(), cli._out
    monkeypatch.setattr(cli, "_out", lambda: Console(file=screen, force_terminal=True, width=100))
    assert run("check", "ch10", "causal_mask", "--impl", "solutions") == 0
    assert "ch10: ch10.causal_mask · test_" in screen.getvalue()          # the live line was drawn
    monkeypatch.setattr(cli, "_out", plain)
    assert run("check", "ch10", "causal_mask", "--impl", "solutions") == 0
    assert "·" not in capsys.readouterr().out                             # piped: plain lines only

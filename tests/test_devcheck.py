"""The author's gate on a tiny course: it proves what it should, and names every kind of defect it exists for
(an edit that no longer applies, a mistake not caught, a valid variant rejected, orphans both ways)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from torchcourse import config, devcheck

FIXTURE = Path(__file__).parent / "hostile" / "course"

VARIANTS = """\
[[wrong]]
name = "triples"
mistake = "multiplies by 3"
expect = { test_values = "differ" }
[[wrong.edit]]
find = "return 2 * x"
replace = "return 3 * x"

[[wrong]]
name = "adds"
mistake = "adds 2 instead of doubling"
expect = { test_values = "differ" }
file = "double/adds.py"

[[valid]]
name = "sum_twice"
why = "x + x instead of 2 * x"
[[valid.edit]]
find = "return 2 * x"
replace = "return x + x"
"""


@pytest.fixture
def mini(tmp_path, monkeypatch):
    """A copy of the hostile fixture course with variants for ch00.double; the gate's per-exercise requirements
    (valid variants, speed/device/inputs checks) are switched off here except where a test asks for them."""
    monkeypatch.setattr(devcheck, "MIN_VALID", 0)
    monkeypatch.setattr(devcheck, "REQUIRED_KINDS", ())
    root = tmp_path / "course"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    decl = root / "graders" / "ch00_demo" / "chapter.toml"      # the hostile catalogue's short deadlines are not
    decl.write_text(decl.read_text().replace("timeout = 3", "timeout = 30"))   # the point here: a busy machine
    variants = root / "tests" / "variants" / "ch00_demo"
    (variants / "double").mkdir(parents=True)
    (variants / "double.toml").write_text(VARIANTS)
    (variants / "double" / "adds.py").write_text("def double(x):\n    return x + 2\n")
    return root


def report(root: Path, chapter="ch00"):
    course = config.load(root)
    return devcheck.chapter_report(course, course.chapter(chapter))


def test_the_gate_proves_reference_stub_and_variants(mini):
    rep = report(mini)
    text = "\n".join(rep.lines)
    assert "ch00.double wrong triples: [green]caught" in text
    assert "ch00.double wrong adds: [green]caught" in text
    assert "ch00.double valid sum_twice: [green]accepted" in text
    assert rep.problems == []


def test_an_edit_that_no_longer_applies_is_named(mini):
    sol = mini / "solutions" / "ch00_demo" / "double.py"
    sol.write_text(sol.read_text().replace("return 2 * x", "return x * 2"))
    problems = report(mini).problems
    assert any("'triples': edit 1 no longer applies" in p and "solutions/ch00_demo/double.py" in p
               for p in problems), problems


def test_a_mistake_not_caught_or_a_valid_variant_rejected_is_a_problem(mini):
    toml = mini / "tests" / "variants" / "ch00_demo" / "double.toml"
    toml.write_text(toml.read_text().replace('replace = "return 3 * x"', 'replace = "return 2.0 * x"')
                    .replace('replace = "return x + x"', 'replace = "return x * x"'))
    problems = report(mini).problems
    assert any("wrong triples: test_values passed" in p for p in problems), problems
    assert any("valid sum_twice" in p and "failed test_values" in p for p in problems), problems


def test_orphans_both_ways(mini):
    course = config.load(mini)
    (mini / "graders" / "ch00_demo" / "test_triple.py").write_text("")
    (mini / "solutions" / "ch00_demo" / "triple.py").write_text("")
    (mini / "tests" / "variants" / "ch00_demo" / "double" / "unused.py").write_text("")
    (mini / "graders" / "ch00_demo" / "text" / "fr.toml").write_text("")
    (mini / "exercises" / "ch00_demo" / "scale.py").unlink()
    problems = "\n".join(devcheck.orphans(course))
    assert "test_triple.py: a grader no declared exercise owns" in problems
    assert "solutions/ch00_demo/triple.py: no exercise of ch00 declares this file" in problems
    assert "double/unused.py: a variant file that" in problems
    assert "fr.toml: not a text file of a course language" in problems
    assert "ch00.scale: its stub exercises/ch00_demo/scale.py is missing" in problems
    assert "ch00.scale: tests/variants/ch00_demo/scale.toml declares 0 wrong implementation(s)" in problems


def test_a_grader_declaring_another_exercise_is_a_clear_error(mini):
    grader = mini / "graders" / "ch00_demo" / "test_double.py"
    grader.write_text('EXERCISE = "ch00.scale"\n' + grader.read_text())
    problems = "\n".join(report(mini).problems)
    assert "declares EXERCISE = 'ch00.scale' but serves ch00.double by its file name" in problems


def test_an_nbgrader_style_stub_earns_nothing_for_not_using_the_api(course, tmp_path):
    """`raise NotImplementedError()` (nbgrader's stub) scores like ours: 0, on every path."""
    from torchcourse.runner import grade
    chapter = course.chapter("ch01")
    root = tmp_path / "impl"
    shutil.copytree(course.exercises_dir / chapter.dir, root / chapter.dir)
    path = root / chapter.dir / "pairwise.py"
    path.write_text(path.read_text().replace('raise NotImplementedError("pairwise_sq_distances: not implemented yet")',
                                             "raise NotImplementedError()"))
    assert "raise NotImplementedError()" in path.read_text()
    run = grade(course, chapter, root, exercises=[course.exercise("ch01.pairwise")],
                only_checks={"test_no_forbidden_api"})
    (check,) = run.exercises[0].checks
    assert check.outcome == "failed" and "not implemented yet" in check.message


def test_every_exercise_must_have_the_required_checks_or_say_why(mini, monkeypatch):
    monkeypatch.setattr(devcheck, "REQUIRED_KINDS", ("speed", "device", "inputs"))
    problems = "\n".join(report(mini).problems)
    assert "ch00.double: no speed check (mark one with @check(speed=True)" in problems
    assert "ch00.scale: no device check (mark one with @check(covers=('device',))" in problems
    assert "ch00.scale: no speed check" not in problems                  # it has one
    decl = mini / "graders" / "ch00_demo" / "chapter.toml"
    decl.write_text(decl.read_text().replace('id = "double"', 'id = "double"\nexempt = { speed = "one multiply: '
                                                                'no loop is a naive answer" }'))
    assert "ch00.double: no speed check" not in "\n".join(report(mini).problems)

"""The ``course`` command.

Exit codes (documented in README):
  0  success; for ``check``, every graded check passed
  1  some checks failed (or ``dev check`` found a defect)
  2  usage error: unknown chapter or exercise, bad arguments, refused request
  3  course.toml is missing or invalid
  4  environment problem: a missing dependency or dataset, an unwritable folder
  70 internal error of the course engine (a bug: please report it)
"""
from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

from rich.cells import cell_len
from rich.markup import escape

from torchcourse import __version__
from torchcourse import config as course_config
from torchcourse.i18n import LANGUAGES, language, t
from torchcourse.report import fmt_points

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG, EXIT_ENV, EXIT_INTERNAL = 0, 1, 2, 3, 4, 70


class UsageError(Exception):
    pass


class EnvironmentProblem(Exception):
    pass


# ---------------------------------------------------------------- helpers

def _course(args) -> course_config.Course:
    root = Path(args.root).resolve() if args.root else course_config.find_root()
    return course_config.load(root)


def _impl_root(args, course) -> Path:
    if getattr(args, "impl", None):
        root = Path(args.impl).resolve()
        if not root.is_dir():
            raise UsageError(f"--impl {args.impl}: no such folder")
        return root
    return course.exercises_dir


def _select(course, chapter: str, exercise: str | None):
    """``ch10 sdpa``, ``ch10.sdpa`` (as `course list` shows it) or a path to the exercise's file."""
    if exercise is None and chapter.endswith(".py"):
        path = Path(chapter).resolve()
        for ex in course.all_exercises():
            if path in (ex.path_in(course.exercises_dir).resolve(), ex.path_in(course.solutions_dir).resolve()):
                return ex.chapter, [ex]
        raise UsageError(f"{chapter}: not the file of an exercise (they live in {course.exercises_dir}/<chapter>/)")
    if exercise is None and "." in chapter:
        chapter, exercise = chapter.split(".", 1)
    ch = course.chapter(chapter)
    return ch, ([ch.exercise(exercise)] if exercise else ch.exercises)


def _writable(path: Path) -> bool:
    folder = path.parent if str(path.parent) else Path(".")
    return folder.is_dir() and os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _out():
    from torchcourse.report import console
    return console()


def _state(course):
    from torchcourse.state import State
    state = State(course.root)
    if state.warning:
        _out().print(f"[yellow]warning:[/yellow] {state.warning.message}")
    return state


# ---------------------------------------------------------------- commands

def cmd_list(args) -> int:
    from rich.table import Table

    from torchcourse.results import sha256_of
    course, lang, out = _course(args), language(args.lang), _out()
    state = _state(course)
    table = Table(box=None, header_style="bold")
    for col in ("exercise", "status", "points"):
        table.add_column(t(col, lang))
    table.add_column(t("title", lang))
    missing = []
    for ch in course.chapters:
        title = f"{ch.title_in('en')} — {ch.title_in('zh_TW')}" if lang == "en" else ch.title_in(lang)
        table.add_row(f"[bold]{ch.id}[/bold]", "", "", f"[bold]{escape(title)}[/bold]")
        for ex in ch.exercises:
            path = ex.path_in(course.exercises_dir)
            status = t(state.status(ex.key, sha256_of(path)), lang)
            if not path.is_file():
                status = f"[red]{t('file missing', lang)}[/red]"
                missing.append(f"course reset {ex.chapter.id} {ex.id}")
            elif state.gave_up(ex.key):
                status += f" · {t('gave up', lang)}"
            entry = state.entry(ex.key)
            earned = f"{fmt_points(entry.get('score', 0))}/{fmt_points(ex.points)}"
            table.add_row(f"  {ex.key}", status, earned, escape(ex.title_in(lang)))
    out.print(table)
    for command in missing:
        out.print(f"{t('file missing', lang)}: `{command}` {t('restores the stub', lang)}")
    return EXIT_OK


def cmd_progress(args) -> int:
    from torchcourse.results import sha256_of
    course, lang, out = _course(args), language(args.lang), _out()
    state = _state(course)
    total_points = earned_points = done = count = 0
    for ch in course.chapters:
        passed = sum(state.status(ex.key, sha256_of(ex.path_in(course.exercises_dir))) == "passed"
                     for ex in ch.exercises)
        pts = sum(state.entry(ex.key).get("score", 0) for ex in ch.exercises)
        ch_total = sum(ex.points for ex in ch.exercises)
        bar = "#" * round(20 * passed / len(ch.exercises)) if ch.exercises else ""
        title = ch.title_in(lang)
        title += " " * max(0, 32 - cell_len(title))           # CJK characters take two columns
        # escaped as a whole: "[###   ]" would otherwise be read as a colour tag and vanish
        out.print(escape(f"{ch.id} {title} [{bar:<20}] {passed}/{len(ch.exercises)} "
                         f"{t('passed', lang)}, {fmt_points(pts)}/{fmt_points(ch_total)} {t('points', lang)}"))
        total_points += ch_total
        earned_points += pts
        done += passed
        count += len(ch.exercises)
    out.print(f"\n{t('progress', lang)}: {done}/{count} {t('passed', lang)}, "
              f"{fmt_points(earned_points)}/{fmt_points(total_points)} {t('points', lang)}")
    return EXIT_OK


def cmd_check(args) -> int:
    from torchcourse import results as res
    from torchcourse.report import live_progress, show_run
    from torchcourse.runner import grade
    course, lang, out = _course(args), language(args.lang), _out()
    chapter, exercises = _select(course, args.chapter, args.exercise)
    impl_root = _impl_root(args, course)
    if args.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            raise EnvironmentProblem("--device cuda: no CUDA device is visible here (`course doctor` says why); "
                                     "without --device, GPU checks are skipped with a reason")
    for option in ("json", "junit", "gradescope"):     # refuse before grading, not after
        target = getattr(args, option)
        if target and not _writable(Path(target)):
            raise EnvironmentProblem(f"--{option} {target}: cannot write there (no such folder, or no permission)")
    from torchcourse import sandbox
    if args.classroom:                  # someone else's code (Gradescope's run_autograder): protected, or told so
        try:
            sandbox.require_protection(args.unprotected or None)
        except sandbox.Unprotected as e:
            raise EnvironmentProblem(str(e)) from None
    with live_progress(out, f"{chapter.id}") as progress:
        run = grade(course, chapter, impl_root, exercises=exercises, gpu=args.device != "cpu", progress=progress)
    show_run(run, out, lang, verbose=args.verbose)
    missing = sandbox.missing_protections(run.environment["sandbox"]) if run.environment.get("sandbox") else []
    if missing:
        without = "; ".join(sandbox.PROTECTIONS[name][0] for name in missing)
        out.print(f"[yellow]note:[/yellow] your code ran without {without} (fine for your own code; `course doctor` "
                  f"says why)")
    if impl_root == course.exercises_dir:
        state = _state(course)
        for ex in run.exercises:
            state.record(ex)
            if ex.passed:
                state.mark_passed_once(ex.key)
        state.save()
    for option, writer in (("json", res.write_json), ("junit", res.write_junit), ("gradescope", res.write_gradescope)):
        target = getattr(args, option)
        if target:
            try:
                writer([run], Path(target))
            except OSError as e:
                raise EnvironmentProblem(f"cannot write {target}: {e.strerror}") from None
    return EXIT_OK if run.passed else EXIT_FAILED


def cmd_hint(args) -> int:
    course, lang, out = _course(args), language(args.lang), _out()
    _, (ex,) = _select(course, args.chapter, args.exercise)
    hints = ex.hints_in(lang)
    if not hints:
        out.print(f"No hints for {ex.key} yet.")
        return EXIT_OK
    state = _state(course)
    shown = state.data.setdefault("hints_shown", {})
    level = args.level if args.level else min(shown.get(ex.key, 0) + 1, len(hints))
    level = max(1, min(level, len(hints)))
    for i, hint in enumerate(hints[:level], start=1):
        out.print(f"[bold]{t('hint', lang)} {i}/{len(hints)}[/bold]  {escape(hint)}")
    if level >= len(hints):
        out.print(f"[dim]({t('no more hints', lang)}; `course reveal {ex.chapter.id} {ex.id}` after a pass "
                  f"or with --give-up)[/dim]")
    else:
        out.print(f"[dim]`course hint {ex.chapter.id} {ex.id}` {t('again for the next hint', lang)}[/dim]")
    shown[ex.key] = max(shown.get(ex.key, 0), level)
    state.save()
    return EXIT_OK


def cmd_reveal(args) -> int:
    from rich.syntax import Syntax
    course, out = _course(args), _out()
    _, (ex,) = _select(course, args.chapter, args.exercise)
    state = _state(course)
    if not (state.ever_passed(ex.key) or state.gave_up(ex.key) or args.give_up):
        out.print(f"{ex.key} has not passed yet. Keep going: `course hint {ex.chapter.id} {ex.id}`. To see the "
                  f"solution anyway, say so: `course reveal {ex.chapter.id} {ex.id} --give-up` (recorded).")
        return EXIT_USAGE
    if args.give_up and not state.ever_passed(ex.key):
        state.give_up(ex.key)
    solution_path = ex.path_in(course.solutions_dir)
    if not solution_path.is_file():
        raise EnvironmentProblem(f"the reference solution {solution_path} is not part of this installation")
    solution = solution_path.read_text(encoding="utf-8")
    out.print(Syntax(solution, "python", line_numbers=True, theme="ansi_dark"))
    mine_path = ex.path_in(course.exercises_dir)
    mine = mine_path.read_text(encoding="utf-8") if mine_path.exists() else ""
    diff = "".join(difflib.unified_diff(mine.splitlines(keepends=True), solution.splitlines(keepends=True),
                                        f"yours: {mine_path.relative_to(course.root)}", "reference"))
    if diff:
        out.print("[bold]Difference between your file and the reference:[/bold]")
        out.print(Syntax(diff, "diff", theme="ansi_dark"))
    if args.apply:
        saved = state.backup(mine_path, "reveal")
        mine_path.write_text(solution, encoding="utf-8")
        out.print(f"Your file now holds the reference; your version is kept in {saved}. "
                  f"`course restore {saved.name}` brings it back.")
    return EXIT_OK


def cmd_reset(args) -> int:
    from torchcourse.stubs import stub_for
    course, out = _course(args), _out()
    _, exercises = _select(course, args.chapter, args.exercise)
    state = _state(course)
    for ex in exercises:
        path = ex.path_in(course.exercises_dir)
        stub = stub_for(ex, course)
        if path.exists() and path.read_text(encoding="utf-8") == stub:
            out.print(f"{ex.key}: already the original stub")
            continue
        saved = state.backup(path, "reset")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(stub, encoding="utf-8")
        kept = f"; your version is kept as {saved.name} (`course restore {saved.name}`)" if saved else ""
        out.print(f"{ex.key}: restored the stub{kept}")
    return EXIT_OK


def cmd_backups(args) -> int:
    course, out = _course(args), _out()
    backups = _state(course).list_backups()
    if not backups:
        out.print("No backups yet: `reset`, `reveal --apply` and `restore` keep one before they change a file.")
    for b in backups:
        out.print(b.name)
    return EXIT_OK


def cmd_restore(args) -> int:
    course, out = _course(args), _out()
    state = _state(course)
    matches = [b for b in state.list_backups() if b.name == args.backup or b.name.startswith(args.backup)]
    if len(matches) != 1:
        raise UsageError(f"{'no' if not matches else 'more than one'} backup matches {args.backup!r}: "
                         f"`course backups` lists them")
    backup = matches[0]
    _, _, filename = backup.name.split("__", 2)
    targets = [ex for ex in course.all_exercises() if ex.file == filename]
    if len(targets) != 1:
        raise UsageError(f"cannot tell which exercise {backup.name} belongs to")
    path = targets[0].path_in(course.exercises_dir)
    saved = state.backup(path, "restore")
    path.write_text(backup.read_text(encoding="utf-8"), encoding="utf-8")
    out.print(f"restored {path.relative_to(course.root)} from {backup.name}"
              + (f" (the file it replaced is kept as {saved.name})" if saved else ""))
    return EXIT_OK


def cmd_watch(args) -> int:
    from torchcourse.watch import watch
    return watch(_course(args), args, _out())


def cmd_doctor(args) -> int:
    from torchcourse.doctor import doctor
    return doctor(args, _out())


def cmd_dev(args) -> int:
    from torchcourse import devcheck
    course = _course(args)
    if args.dev_command == "build":
        return devcheck.build(course, _out(), check_only=args.check)
    return devcheck.check(course, _out(), chapters=args.chapters, skip_wrong=args.skip_wrong)


def _classroom_chapter(course, name: str, only: list[str] | None):
    chapter = course.chapter(name)
    return chapter, ([chapter.exercise(e) for e in only] if only else chapter.exercises)


def cmd_grade(args) -> int:
    from torchcourse.classroom import batch
    course, out = _course(args), _out()
    chapter, exercises = _classroom_chapter(course, args.chapter, args.exercise)
    subs_dir = Path(args.submissions)
    if not subs_dir.is_dir():
        raise UsageError(f"{args.submissions}: no such folder")
    out_dir = Path(args.out or f"gradebook-{chapter.id}")
    try:
        batch.check_outside(out_dir, subs_dir)
    except ValueError as e:
        raise UsageError(str(e)) from None
    submissions = batch.discover(subs_dir, course, chapter, exercises)
    if not submissions:
        raise UsageError(f"{args.submissions}: no student folders in it (expected one folder per student)")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    try:
        records, wall = batch.grade_submissions(course, chapter, submissions, exercises=exercises, jobs=args.jobs,
                                                timeout=args.timeout, unprotected=args.unprotected or None)
    except batch.BatchError as e:
        raise EnvironmentProblem(str(e)) from None
    per = wall / len(records)
    try:
        written = batch.write_gradebook(records, out_dir, chapter, exercises, gradescope=args.gradescope,
                                        meta={"wall_s": round(wall, 3), "jobs": args.jobs,
                                              "seconds_per_submission": round(per, 3)})
    except OSError as e:
        raise EnvironmentProblem(f"cannot write the gradebook in {out_dir}: {e.strerror}") from None
    errors = [r for r in records if r["status"] == "error"]
    from rich.markup import escape
    for r in records:
        mark = "[red]ERROR[/red]" if r["status"] == "error" else f"{r['score']:g}/{r['max_score']:g}"
        out.print(f"{escape(r['student']):<24} {mark}")
    out.print(f"{len(records)} submissions graded in {wall:.1f} s ({per:.2f} s per submission, {args.jobs} jobs); "
              f"gradebook: {written[0]}, {written[1]}" + (f", {len(written) - 2} Gradescope files" if args.gradescope
                                                          else ""))
    if errors:
        out.print(f"[red]{len(errors)} submission(s) could not be graded:[/red] "
                  + escape(", ".join(r["student"] for r in errors)) + " (see the notes column of the gradebook)")
    return EXIT_FAILED if errors else EXIT_OK


def cmd_nbgrader(args) -> int:
    from torchcourse.classroom import nbgrader as nbg
    course, out = _course(args), _out()
    try:
        if args.nbgrader_command == "build":
            chapters = [course.chapter(c) for c in args.chapters] if args.chapters else course.chapters
            if args.exercise and len(chapters) != 1:
                raise UsageError("--exercise needs exactly one chapter")
            written = nbg.build(course, Path(args.dir), chapters, only=args.exercise, course_id=args.course_id,
                                force=args.force)
            for path in written:
                out.print(f"wrote {path}")
            out.print(f"nbgrader course ready in {args.dir}: cd there and run `nbgrader generate_assignment "
                      f"{chapters[0].id}`; grade with `course nbgrader autograde {chapters[0].id} --dir {args.dir}`")
            return EXIT_OK
        from torchcourse import sandbox
        if args.unprotected:
            os.environ["TORCHCOURSE_UNPROTECTED"] = "1"        # read by batch.grade_submissions
        try:
            sandbox.require_protection()                        # refuse before nbgrader touches the gradebook
        except sandbox.Unprotected as e:
            raise EnvironmentProblem(str(e)) from None
        report = nbg.autograde(course, Path(args.dir), args.assignment, students=args.student, jobs=args.jobs,
                               execute=args.execute, run_nbgrader=not args.skip_nbgrader, out=out)
    except nbg.NbgraderMissing as e:
        raise EnvironmentProblem(str(e)) from None
    except (nbg.NbgraderFailed, nbg.batch.BatchError) as e:
        raise EnvironmentProblem(f"{e}\n(the grades of these submissions are flagged for manual grading)"
                                 if isinstance(e, nbg.batch.BatchError) else str(e)) from None
    except nbg.CourseDirError as e:
        raise UsageError(str(e)) from None
    return EXIT_FAILED if report.errors else EXIT_OK


def cmd_gradescope(args) -> int:
    from torchcourse.classroom import gradescope
    course, out = _course(args), _out()
    chapter = course.chapter(args.chapter)
    try:
        path = gradescope.bundle(course, chapter, Path(args.out), unprotected=args.unprotected)
    except OSError as e:
        raise EnvironmentProblem(f"cannot write {args.out}: {e.strerror or e}") from None
    out.print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    return EXIT_OK


# ---------------------------------------------------------------- parser

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="course", description="A graded PyTorch course: exercises, hints, checks.")
    p.add_argument("--version", action="version", version=f"torchcourse {__version__}")
    p.add_argument("--root", help="course folder (default: found from the current folder, or $COURSE_ROOT)")
    common = argparse.ArgumentParser(add_help=False)   # options that may stand before or after the command
    common.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS,
                        help="en, zh_TW or zh_CN (default: $COURSE_LANG or en)")
    p.add_argument("--lang", choices=LANGUAGES, help="en, zh_TW or zh_CN (default: $COURSE_LANG or en)")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, **kw) -> argparse.ArgumentParser:      # every command takes --lang after its name too
        return sub.add_parser(name, parents=[common], **kw)

    command("list", help="chapters and exercises with their status").set_defaults(fn=cmd_list)
    command("progress", help="a summary of your progress").set_defaults(fn=cmd_progress)

    c = command("check", help="grade a chapter or one exercise")
    c.add_argument("chapter")
    c.add_argument("exercise", nargs="?")
    c.add_argument("--impl", help="grade this folder instead of exercises/ (e.g. solutions)")
    c.add_argument("--json", metavar="FILE", help="write machine-readable results")
    c.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    c.add_argument("--gradescope", metavar="FILE", help="write Gradescope results.json")
    c.add_argument("--classroom", action="store_true",
                   help="grading someone else's code: refuse where workers lack a protection (`course doctor`)")
    c.add_argument("--unprotected", action="store_true", help="with --classroom: grade anyway")
    c.add_argument("-v", "--verbose", action="store_true", help="show messages of passed checks too")
    c.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="GPU checks: auto (run where CUDA exists), cpu (skip them), cuda (require a GPU)")
    c.set_defaults(fn=cmd_check)

    h = command("hint", help="the next hint for an exercise")
    h.add_argument("chapter")
    h.add_argument("exercise")
    h.add_argument("--level", type=int, help="show hints up to this level")
    h.set_defaults(fn=cmd_hint)

    r = command("reveal", help="the reference solution, after a pass or an explicit give-up")
    r.add_argument("chapter")
    r.add_argument("exercise")
    r.add_argument("--give-up", action="store_true", help="see it before passing (recorded)")
    r.add_argument("--apply", action="store_true", help="also copy it into your file (a backup is kept)")
    r.set_defaults(fn=cmd_reveal)

    s = command("reset", help="restore the stub (a backup of your file is kept)")
    s.add_argument("chapter")
    s.add_argument("exercise", nargs="?")
    s.set_defaults(fn=cmd_reset)

    command("backups", help="list the backups of your files").set_defaults(fn=cmd_backups)
    rs = command("restore", help="put a backup back (the current file is backed up first)")
    rs.add_argument("backup", help="a name (or its unique beginning) from `course backups`")
    rs.set_defaults(fn=cmd_restore)

    w = command("watch", help="re-check the exercise you are editing on every save")
    w.add_argument("chapter", nargs="?")
    w.add_argument("--interval", type=float, default=0.5, help="seconds between looks at the files")
    w.set_defaults(fn=cmd_watch)

    command("doctor", help="check Python, torch, CUDA, data and the sandbox").set_defaults(fn=cmd_doctor)

    g = command("grade", help="instructors: grade a folder of student submissions into a gradebook")
    g.add_argument("submissions", help="a folder with one sub-folder per student")
    g.add_argument("--chapter", required=True)
    g.add_argument("--exercise", action="append", help="grade only this exercise (repeatable)")
    g.add_argument("--jobs", "-j", type=int, default=max(1, min(4, os.cpu_count() or 1)),
                   help="grading processes in parallel (default: CPU cores, at most 4)")
    g.add_argument("--out", help="gradebook folder (default: gradebook-CHAPTER); never inside SUBMISSIONS")
    g.add_argument("--gradescope", action="store_true", help="also write a Gradescope results.json per student")
    g.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per submission (default 900)")
    g.add_argument("--unprotected", action="store_true",
                   help="grade even where workers lack a protection (see `course doctor`); noted in the gradebook")
    g.set_defaults(fn=cmd_grade)

    nb = command("nbgrader", help="instructors: build an nbgrader course and grade it outside the kernel")
    nbsub = nb.add_subparsers(dest="nbgrader_command", required=True, metavar="NBGRADER_COMMAND")
    nbb = nbsub.add_parser("build", help="nbgrader_config.py and source/<chapter>/ notebooks from solutions/")
    nbb.add_argument("chapters", nargs="*", help="default: every chapter")
    nbb.add_argument("--dir", default="nbgrader", help="the nbgrader course folder (default: ./nbgrader)")
    nbb.add_argument("--exercise", action="append", help="only this exercise of the one chapter (repeatable)")
    nbb.add_argument("--course-id", help="nbgrader course id (default: from course.toml)")
    nbb.add_argument("--force", action="store_true", help="overwrite existing source notebooks")
    nbb.set_defaults(fn=cmd_nbgrader)
    nba = nbsub.add_parser("autograde", help="nbgrader autograde, then scores from the isolated runner")
    nba.add_argument("assignment", help="the assignment (chapter id) to grade")
    nba.add_argument("--dir", default="nbgrader", help="the nbgrader course folder (default: ./nbgrader)")
    nba.add_argument("--student", action="append", help="only this student (repeatable)")
    nba.add_argument("--jobs", "-j", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    nba.add_argument("--execute", action="store_true",
                     help="let nbgrader also execute the notebooks in a kernel (slower; never decides the score)")
    nba.add_argument("--skip-nbgrader", action="store_true",
                     help="do not run `nbgrader autograde` (it was run already): only grade and write scores")
    nba.add_argument("--unprotected", action="store_true",
                     help="grade even where workers lack a protection (see `course doctor`)")
    nba.set_defaults(fn=cmd_nbgrader)

    gs = command("gradescope", help="instructors: a Gradescope autograder bundle")
    gssub = gs.add_subparsers(dest="gradescope_command", required=True, metavar="GRADESCOPE_COMMAND")
    gsb = gssub.add_parser("bundle", help="autograder.zip (setup.sh, run_autograder) for one chapter")
    gsb.add_argument("chapter")
    gsb.add_argument("out", help="the zip file to write")
    gsb.add_argument("--unprotected", action="store_true",
                     help="let run_autograder grade even where Gradescope's workers lack a protection")
    gsb.set_defaults(fn=cmd_gradescope)

    d = command("dev", help="authors' tools")
    dsub = d.add_subparsers(dest="dev_command", required=True, metavar="DEV_COMMAND")
    b = dsub.add_parser("build", help="regenerate exercises/ from solutions/")
    b.add_argument("--check", action="store_true", help="only report stubs that differ; exit 1 if any")
    b.set_defaults(fn=cmd_dev)
    dc = dsub.add_parser("check", help="reference passes, stubs fail, wrong implementations are caught")
    dc.add_argument("chapters", nargs="*")
    dc.add_argument("--skip-wrong", action="store_true", help="skip the wrong implementations")
    dc.set_defaults(fn=cmd_dev)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    err = None
    try:
        return args.fn(args)
    except course_config.UnknownName as e:
        err, code = str(e), EXIT_USAGE
    except UsageError as e:
        err, code = str(e), EXIT_USAGE
    except course_config.ConfigError as e:
        err, code = f"invalid course configuration: {e}", EXIT_CONFIG
    except EnvironmentProblem as e:
        err, code = str(e), EXIT_ENV
    except ModuleNotFoundError as e:
        err, code = f"missing dependency: {e.name} (`pip install -e .` installs what the course needs)", EXIT_ENV
    except PermissionError as e:
        err, code = f"cannot write {e.filename}: permission denied", EXIT_ENV
    except KeyboardInterrupt:
        err, code = "interrupted", 130
    except Exception as e:                     # noqa: BLE001 — the CLI never ends in a bare traceback
        if args.debug:
            raise
        err, code = (f"internal error of the course engine: {type(e).__name__}: {e}\n"
                     f"  (rerun with --debug for the traceback, and please report it)"), EXIT_INTERNAL
    print(f"course: {err}", file=sys.stderr)
    return code


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())

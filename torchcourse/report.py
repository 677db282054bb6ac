"""Showing results: rich tables on a terminal, plain readable text elsewhere (CI, pipes, files)."""
from __future__ import annotations

import contextlib
import os
import sys

from rich.console import Console
from rich.markup import escape

from torchcourse.i18n import t
from torchcourse.results import FAILED, PASSED, SKIPPED, RunResult

_MARK = {PASSED: ("PASS", "green"), FAILED: ("FAIL", "red"), SKIPPED: ("SKIP", "yellow")}
_STATUS_STYLE = {"passed": "green", "failing": "red", "not started": "dim", "changed since last check": "yellow"}


def console(stderr: bool = False) -> Console:
    """Colour and tables on a terminal; on a pipe, plain text at a fixed width."""
    stream = sys.stderr if stderr else sys.stdout
    plain = not stream.isatty() or os.environ.get("NO_COLOR") is not None
    return Console(file=stream, no_color=plain, highlight=False, soft_wrap=plain,
                   width=None if not plain else 100, emoji=False)


@contextlib.contextmanager
def live_progress(out: Console, label: str):
    """A spinner, a bar, the exercise and check being run and the time so far, on a terminal; nothing elsewhere
    (piped output stays plain lines). Yields the ``progress(done, total, exercise, check)`` callback, or None."""
    if not out.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=out, transient=True) as bar:
        task = bar.add_task(escape(f"{label}: starting the graders"), total=None)

        def progress(done: int, total: int, exercise: str, check: str) -> None:
            bar.update(task, completed=done, total=total, description=escape(f"{label}: {exercise} · {check}"))
        yield progress


def fmt_points(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def show_run(run: RunResult, out: Console, lang: str = "en", verbose: bool = False) -> None:
    """One block per exercise: a line per check, and under each failure its message, indented."""
    for ex in run.exercises:
        style = _STATUS_STYLE.get(ex.status, "")
        out.print(f"[bold]{escape(ex.key)}[/bold]  {escape(ex.title)}  [{style}]{t(ex.status, lang)}[/{style}]  "
                  f"{fmt_points(ex.score)}/{fmt_points(ex.possible)} {t('points', lang)}")
        width = max((len(c.title) for c in ex.checks), default=10)
        previous = None
        for c in ex.checks:
            label, colour = _MARK[c.outcome]
            points = "" if c.outcome == SKIPPED else f"{fmt_points(c.points)}/{fmt_points(c.max_points)}"
            out.print(f"  [{colour}]{label}[/{colour}]  {escape(c.title):<{width}}  {points}")
            if not c.message or (c.outcome == PASSED and not verbose):
                continue
            if c.message == previous:                # a stub or a missing file says the same thing everywhere
                out.print("        [dim](same as above)[/dim]")
                continue
            previous = c.message
            for line in c.message.splitlines():
                out.print(f"        [dim]{escape(line)}[/dim]" if c.outcome == SKIPPED else f"        {escape(line)}")
        if not ex.passed and "." in ex.key:
            chapter, exercise = ex.key.split(".", 1)
            out.print(f"  [dim]{t('stuck?', lang)} course hint {chapter} {exercise}[/dim]")
        out.print()
    colour = "green" if run.passed else "red"
    out.print(f"[bold {colour}]{run.chapter}: {fmt_points(run.score)}/{fmt_points(run.possible)} "
              f"{t('points', lang)}[/bold {colour}]  ({run.duration:.1f} s)")

"""``course watch``: re-check the exercise being edited on every save (rustlings-style).

It polls modification times (no extra dependency, works on every file system); pressing Enter re-checks the
last exercise by hand, and ``q`` then Enter quits. Ctrl-C also quits. Watching never writes to the
learner's files.
"""
from __future__ import annotations

import queue
import sys
import threading
import time


def _snapshot(course, exercises) -> dict:
    stamps = {}
    for ex in exercises:
        path = ex.path_in(course.exercises_dir)
        try:
            stamps[ex.key] = path.stat().st_mtime_ns
        except OSError:
            stamps[ex.key] = None
    return stamps


def _keyboard(lines: queue.Queue) -> None:
    for line in sys.stdin:
        lines.put(line.strip())
    lines.put("q")


def watch(course, args, out, *, max_checks: int | None = None) -> int:
    from torchcourse.report import show_run
    from torchcourse.runner import grade
    from torchcourse.state import State

    exercises = course.chapter(args.chapter).exercises if args.chapter else course.all_exercises()
    state = State(course.root)
    last = None
    stamps = _snapshot(course, exercises)
    lines: queue.Queue = queue.Queue()
    if sys.stdin and sys.stdin.isatty():
        threading.Thread(target=_keyboard, args=(lines,), daemon=True).start()
    out.print(f"Watching {len(exercises)} exercise file(s) in {course.exercises_dir}. Save a file to check it; "
              f"Enter re-checks, q quits.")
    checks = 0
    try:
        while max_checks is None or checks < max_checks:
            time.sleep(args.interval)
            due = None
            try:
                command = lines.get_nowait()
                if command == "q":
                    return 0
                due = last
            except queue.Empty:
                pass
            now = _snapshot(course, exercises)
            changed = [ex for ex in exercises if now[ex.key] != stamps[ex.key] and now[ex.key] is not None]
            stamps = now
            if changed:
                due = changed[0]
            if due is None:
                continue
            last = due
            out.rule(f"{due.key}  {time.strftime('%H:%M:%S')}")
            run = grade(course, due.chapter, course.exercises_dir, exercises=[due])
            show_run(run, out)
            for ex in run.exercises:
                state.record(ex)
                if ex.passed:
                    state.mark_passed_once(ex.key)
            state.save()
            checks += 1
            if run.passed:
                out.print(f"[green]{due.key} passes.[/green] On to the next one: `course list`.")
    except KeyboardInterrupt:
        return 0
    return 0

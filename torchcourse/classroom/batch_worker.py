"""A long-lived, trusted grading process for batch grading: ``python -m torchcourse.classroom.batch_worker
COURSE_ROOT CHAPTER``.

It imports torch and pytest once, keeps one reference Implementation for every speed check, and grades one
staged submission per request with ``runner.grade`` (learner code still runs only in sandboxed workers).
Requests and replies are JSON lines on stdin and on the stdout it had at start; anything else that writes
to stdout (pytest, a grader's print) goes to stderr instead, so the reply channel cannot be corrupted.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(message: dict) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    def stop(signum, frame):                      # the batch timed this process out: clean up the workers
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    root, chapter_name = Path(argv[0]), argv[1]
    reference = None
    try:
        from torchcourse import config
        from torchcourse.remote import Implementation
        from torchcourse.results import environment
        from torchcourse.runner import grade
        from torchcourse.sandbox import Limits
        try:                                      # fork the engine's zygote now, before any submission is read
            from torchcourse import zygote
            zygote.start()
        except ImportError:
            pass
        course = config.load(root)
        chapter = course.chapter(chapter_name)
        reference = Implementation(course.solutions_dir, label="reference")   # started at its first speed check
        send({"ready": True, "pid": os.getpid(), "environment": environment()})
    except Exception as e:                        # noqa: BLE001 — reported to the batch, which stops loudly
        send({"ready": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
        return 4
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            job = json.loads(line)
            t0 = time.perf_counter()
            try:
                exercises = [chapter.exercise(e) for e in job["exercises"]]
                run = grade(course, chapter, Path(job["impl_root"]), exercises=exercises, reference=reference,
                            label=job.get("label", "learner"), limits=Limits(hidden=tuple(job.get("hidden", []))))
                reply = {"id": job["id"], "result": run.to_dict()}
            except KeyboardInterrupt:
                raise
            except Exception as e:                # noqa: BLE001 — this submission's failure, not the batch's
                reply = {"id": job["id"], "error": f"{type(e).__name__}: {e}",
                         "traceback": traceback.format_exc()[-4000:]}
            reply["duration_s"] = round(time.perf_counter() - t0, 3)
            send(reply)
    except KeyboardInterrupt:
        return 130
    finally:
        if reference is not None:
            reference.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

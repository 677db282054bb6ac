"""The learner's progress (``.course/state.json``) and backups (``.course/backups/``).

The state file is a cache of verdicts, written atomically; if it is corrupt or from another schema it is
set aside (kept, renamed) and rebuilt from scratch: the next ``course check`` fills it again.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from torchcourse.files import atomic_write_text, backup

STATE_SCHEMA = 1


@dataclass
class StateWarning:
    message: str


class State:
    def __init__(self, course_root: Path):
        self.dir = Path(os.environ.get("COURSE_STATE_DIR") or Path(course_root) / ".course")
        self.path = self.dir / "state.json"
        self.backups_dir = self.dir / "backups"
        self.warning: StateWarning | None = None
        self.data = self._load()

    def _load(self) -> dict:
        empty = {"schema": STATE_SCHEMA, "exercises": {}, "gave_up": []}
        if not self.path.exists():
            return empty
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("schema") != STATE_SCHEMA or \
                    not isinstance(data.get("exercises"), dict):
                raise ValueError(f"schema {data.get('schema') if isinstance(data, dict) else '?'}")
            data.setdefault("gave_up", [])
            return data
        except (ValueError, OSError) as e:
            aside = self.path.with_name("state.json.unreadable")
            try:
                os.replace(self.path, aside)
            except OSError:
                pass
            self.warning = StateWarning(f"progress file {self.path} was unreadable ({e}); kept it as {aside.name} "
                                        f"and started afresh: run `course check` to rebuild your progress")
            return empty

    def save(self) -> None:
        try:
            atomic_write_text(self.path, json.dumps(self.data, indent=1, ensure_ascii=False))
        except OSError as e:
            self.warning = StateWarning(f"could not save progress to {self.path}: {e}")

    def record(self, exercise_result) -> None:
        self.data["exercises"][exercise_result.key] = {
            "status": exercise_result.status, "score": exercise_result.score,
            "max_score": exercise_result.possible, "sha256": exercise_result.sha256,
        }

    def status(self, key: str, current_sha: str | None) -> str:
        """'passed' / 'failing' / 'not started'; a pass recorded for another version of the file is stale."""
        entry = self.data["exercises"].get(key)
        if not entry:
            return "not started"
        if entry.get("sha256") != current_sha:
            return "changed since last check"
        return entry.get("status", "not started")

    def entry(self, key: str) -> dict:
        return self.data["exercises"].get(key, {})

    def ever_passed(self, key: str) -> bool:
        return self.entry(key).get("status") == "passed" or key in self.data.get("passed_once", [])

    def mark_passed_once(self, key: str) -> None:
        once = self.data.setdefault("passed_once", [])
        if key not in once:
            once.append(key)

    def give_up(self, key: str) -> None:
        if key not in self.data["gave_up"]:
            self.data["gave_up"].append(key)
            self.save()

    def gave_up(self, key: str) -> bool:
        return key in self.data["gave_up"]

    def backup(self, path: Path, label: str) -> Path | None:
        return backup(path, self.backups_dir, label)

    def list_backups(self) -> list[Path]:
        if not self.backups_dir.is_dir():
            return []
        return sorted(self.backups_dir.iterdir(), reverse=True)

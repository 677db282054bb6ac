"""Nothing lost: atomic writes, backups, the progress file."""
import json

import pytest

from torchcourse.files import atomic_write_text, backup
from torchcourse.state import State


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    atomic_write_text(target, "old")

    def crash(*args):
        raise OSError("disk died mid-write")
    monkeypatch.setattr("os.fsync", crash)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]       # no temporary left behind


def test_backups_are_timestamped_copies(tmp_path):
    source = tmp_path / "sdpa.py"
    source.write_text("v1")
    first = backup(source, tmp_path / "b", "reset")
    source.write_text("v2")
    second = backup(source, tmp_path / "b", "reset")
    assert first != second and first.read_text() == "v1" and second.read_text() == "v2"
    assert backup(tmp_path / "missing.py", tmp_path / "b", "reset") is None


def test_state_round_trip_and_foreign_version(tmp_path):
    state = State(tmp_path)
    state.data["exercises"]["ch01.x"] = {"status": "passed", "sha256": "abc"}
    state.save()
    assert State(tmp_path).status("ch01.x", "abc") == "passed"
    assert State(tmp_path).status("ch01.x", "changed") == "changed since last check"
    (tmp_path / ".course" / "state.json").write_text(json.dumps({"schema": 0}))
    fresh = State(tmp_path)
    assert fresh.warning and fresh.data["exercises"] == {}

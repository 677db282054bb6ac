"""Which of the course's datasets (declared in datasets/catalog.toml) are present, and how to get the rest."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import tomllib


def dataset_rows(course_root: Path, chapters: set[str] | None = None) -> list[tuple]:
    """One row per dataset: (ok, what, detail, fix). ``chapters``: the course's chapters; a dataset is said to be
    "for" only those of them that exist (a chapter still to come is not named)."""
    catalog = Path(course_root) / "datasets" / "catalog.toml"
    if not catalog.is_file():
        return []
    rows = []
    for name, entry in tomllib.loads(catalog.read_text(encoding="utf-8")).get("dataset", {}).items():
        present = True
        if "module" in entry:
            present = importlib.util.find_spec(entry["module"]) is not None
        if "path" in entry:
            path = Path(entry["path"])
            present = present and (path if path.is_absolute() else Path(course_root) / path).exists()
        wanted = [c for c in entry.get("chapters", []) if chapters is None or c in chapters]
        needed_by = f"for {', '.join(wanted)}" if wanted else "for chapters still to come"
        detail = f"{entry.get('title', name)} ({needed_by})"
        rows.append((True if present else (False if entry.get("required") else None), f"data: {name}",
                     detail if present else f"not found: {detail}", "" if present else entry.get("install", "")))
    return rows

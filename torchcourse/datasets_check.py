"""Which of the course's datasets (declared in datasets/catalog.toml) are present, and how to get the rest."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import tomllib


def dataset_rows(course_root: Path) -> list[tuple]:
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
        needed_by = ", ".join(entry.get("chapters", []))
        detail = f"{entry.get('title', name)} (for {needed_by})" if needed_by else entry.get("title", name)
        rows.append((True if present else (False if entry.get("required") else None), f"data: {name}",
                     detail if present else f"not found: {detail}", "" if present else entry.get("install", "")))
    return rows

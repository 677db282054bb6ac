"""course.toml: the one declarative list of chapters and exercises (rustlings' info.toml, for PyTorch).

Schema version 1:

    schema_version = 1
    [course]            name, version, languages
    [[chapter]]         id "chNN", dir, title {en, zh_TW, zh_CN}
    [[chapter.exercise]] id, file, points, title, forbidden [dotted names], hints.<lang> [...],
                        thresholds {name = number}, timeout (seconds per call)
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

SCHEMA_VERSION = 1
LANGUAGES = ("en", "zh_TW", "zh_CN")


class ConfigError(Exception):
    """course.toml is missing, unreadable or inconsistent; the message says where and how to fix it."""


class UnknownName(Exception):
    """A chapter or exercise the course does not have; carries suggestions."""

    def __init__(self, kind: str, name: str, choices: list[str]):
        self.kind, self.name = kind, name
        self.suggestions = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Known: {', '.join(choices)}")


@dataclass(frozen=True)
class Exercise:
    chapter: Chapter
    id: str
    file: str
    points: float
    title: dict
    forbidden: tuple[str, ...] = ()
    hints: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)
    timeout: float = 20.0

    @property
    def key(self) -> str:
        """The global id, e.g. ``ch10.sdpa``."""
        return f"{self.chapter.id}.{self.id}"

    @property
    def module(self) -> str:
        """The import name inside an implementation root, e.g. ``ch10_attention.sdpa``."""
        return f"{self.chapter.dir}.{Path(self.file).stem}"

    def path_in(self, root: Path) -> Path:
        return Path(root) / self.chapter.dir / self.file

    def grader_path(self, graders: Path) -> Path:
        return Path(graders) / self.chapter.dir / f"test_{self.id}.py"

    def title_in(self, lang: str = "en") -> str:
        return self.title.get(lang) or self.title.get("en") or self.id

    def hints_in(self, lang: str = "en") -> list[str]:
        return list(self.hints.get(lang) or self.hints.get("en") or [])


@dataclass
class Chapter:
    id: str
    dir: str
    title: dict
    exercises: list[Exercise] = field(default_factory=list)

    def title_in(self, lang: str = "en") -> str:
        return self.title.get(lang) or self.title.get("en") or self.id

    def exercise(self, name: str) -> Exercise:
        for ex in self.exercises:
            if ex.id == name:
                return ex
        raise UnknownName("exercise", name, [e.id for e in self.exercises])


@dataclass
class Course:
    root: Path
    name: str
    version: str
    chapters: list[Chapter]

    def chapter(self, name: str) -> Chapter:
        """Accepts ``ch10``, ``10``, ``ch10_attention``."""
        wanted = name.lower()
        if wanted.isdigit():
            wanted = f"ch{int(wanted):02d}"
        for ch in self.chapters:
            if wanted in (ch.id, ch.dir):
                return ch
        raise UnknownName("chapter", name, [c.id for c in self.chapters])

    def exercise(self, key: str) -> Exercise:
        chapter, _, name = key.partition(".")
        return self.chapter(chapter).exercise(name)

    def all_exercises(self) -> list[Exercise]:
        return [ex for ch in self.chapters for ex in ch.exercises]

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def graders_dir(self) -> Path:
        return self.root / "graders"


def load(root: Path) -> Course:
    path = Path(root) / "course.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: run `course` from the course folder, or set COURSE_ROOT") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    return parse(data, Path(root), str(path))


def parse(data: dict, root: Path, where: str = "course.toml") -> Course:
    def fail(msg: str):
        raise ConfigError(f"{where}: {msg}")

    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        fail(f"schema_version is {version!r}; this version of the course engine reads schema_version = "
             f"{SCHEMA_VERSION}")
    meta = data.get("course", {})
    chapters, seen = [], set()
    for i, raw in enumerate(data.get("chapter", [])):
        cid = raw.get("id", "")
        if not re.fullmatch(r"ch\d\d", cid):
            fail(f"chapter #{i + 1}: id must look like 'ch01', got {cid!r}")
        if cid in seen:
            fail(f"chapter {cid} is declared twice")
        seen.add(cid)
        cdir = raw.get("dir", "")
        if not re.fullmatch(rf"{cid}_[a-z0-9_]+", cdir):
            fail(f"chapter {cid}: dir must look like '{cid}_topic', got {cdir!r}")
        chapter = Chapter(cid, cdir, _title(raw, fail, cid))
        ex_ids = set()
        for raw_ex in raw.get("exercise", []):
            eid = raw_ex.get("id", "")
            if not re.fullmatch(r"[a-z][a-z0-9_]*", eid):
                fail(f"{cid}: exercise id must be lower_snake_case, got {eid!r}")
            if eid in ex_ids:
                fail(f"{cid}.{eid} is declared twice")
            ex_ids.add(eid)
            file = raw_ex.get("file", f"{eid}.py")
            if not re.fullmatch(r"[a-z][a-z0-9_]*\.py", file):
                fail(f"{cid}.{eid}: file must be a module name ending in .py, got {file!r}")
            points = raw_ex.get("points")
            if not isinstance(points, (int, float)) or points <= 0:
                fail(f"{cid}.{eid}: points must be a positive number, got {points!r}")
            forbidden = raw_ex.get("forbidden", [])
            if not isinstance(forbidden, list) or not all(isinstance(f, str) and "." in f for f in forbidden):
                fail(f"{cid}.{eid}: forbidden must be a list of dotted names like 'torch.cdist'")
            hints = raw_ex.get("hints", {})
            if not isinstance(hints, dict) or any(lang not in LANGUAGES or not isinstance(h, list)
                                                  for lang, h in hints.items()):
                fail(f"{cid}.{eid}: hints must be a table of lists keyed by {', '.join(LANGUAGES)}")
            thresholds = raw_ex.get("thresholds", {})
            if not all(isinstance(v, (int, float)) for v in thresholds.values()):
                fail(f"{cid}.{eid}: thresholds must be numbers")
            chapter.exercises.append(Exercise(
                chapter, eid, file, float(points), _title(raw_ex, fail, f"{cid}.{eid}"), tuple(forbidden),
                hints, dict(thresholds), float(raw_ex.get("timeout", 20.0))))
        chapters.append(chapter)
    if not chapters:
        fail("no [[chapter]] declared")
    return Course(root, meta.get("name", "course"), meta.get("version", "0"), chapters)


def _title(raw: dict, fail, what: str) -> dict:
    title = raw.get("title")
    if isinstance(title, str):
        title = {"en": title}
    if not isinstance(title, dict) or "en" not in title:
        fail(f"{what}: title must be a table with at least an 'en' entry")
    return title


def find_root(start: Path | None = None) -> Path:
    """The course folder: $COURSE_ROOT, else the nearest parent of the current directory with course.toml."""
    import os

    if os.environ.get("COURSE_ROOT"):
        return Path(os.environ["COURSE_ROOT"]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "course.toml").is_file():
            return candidate
    # an installed package still finds the course it was installed from (pip install -e .)
    package_parent = Path(__file__).resolve().parent.parent
    if (package_parent / "course.toml").is_file():
        return package_parent
    raise ConfigError("no course.toml here or in any parent folder: cd into the course, or set COURSE_ROOT")

"""The course's declarations: what the chapters and exercises are, read from three kinds of file.

Schema version 2 (docs/authoring.md walks through an example)::

    course.toml                              schema_version, [course] name, version, languages, chapters
    graders/<chapter_dir>/chapter.toml       [[exercise]] id, points; optional file, forbidden, thresholds,
                                             timeout, exempt, preload
    graders/<chapter_dir>/text/<lang>.toml   title (the chapter's); [<exercise id>] title, hints

``course.toml`` is the one entry point and stays small: the chapters are listed in order by folder name
(``ch10_attention`` is chapter ``ch10``). Each chapter's declaration sits beside its graders, and its
learner-facing text has one file per language, so a translator edits one file per language per chapter.
An unknown key is an error naming the file and line, so a typo never silently turns a setting off.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

SCHEMA_VERSION = 2
# what an exercise may declare exempt, with a stated reason, from the checks the gate requires of every exercise
CHECK_KINDS = ("speed", "device", "inputs")


class ConfigError(Exception):
    """A declaration is missing, unreadable or inconsistent; the message says where and how to fix it."""


class UnknownName(Exception):
    """A chapter or exercise the course does not have; carries suggestions."""

    def __init__(self, kind: str, name: str, choices: list[str], suggest: bool = True):
        self.kind, self.name = kind, name
        self.suggestions = difflib.get_close_matches(name, choices, n=3, cutoff=0.6) if suggest else []
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
    exempt: dict = field(default_factory=dict)      # check kind -> why this exercise cannot have one
    preload: tuple[str, ...] = ()                    # library modules workers import once, in the zygote

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

    def threshold(self, name: str) -> float:
        """A number from this exercise's ``thresholds`` table (a missing one is the course's defect)."""
        if name not in self.thresholds:
            raise KeyError(f"{self.chapter.declaration}: {self.key} has no threshold {name!r}")
        return float(self.thresholds[name])


@dataclass
class Chapter:
    id: str
    dir: str
    title: dict
    declaration: str = ""                            # the chapter.toml it was read from, for messages
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
    languages: tuple[str, ...] = ("en",)

    def chapter(self, name: str) -> Chapter:
        """Accepts ``ch10``, ``10``, ``ch10_attention``."""
        wanted = name.lower()
        number = re.fullmatch(r"(?:ch)?(\d{1,2})", wanted)
        if number:
            wanted = f"ch{int(number.group(1)):02d}"
        for ch in self.chapters:
            if wanted in (ch.id, ch.dir):
                return ch
        # a chapter number the course does not have: no near miss to suggest (ch99 is not ch09)
        raise UnknownName("chapter", name, [c.id for c in self.chapters], suggest=not number)

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

    @property
    def worker_support_dir(self) -> Path:
        """The graders' worker-side helpers: shipped into every worker as the package ``worker_support``."""
        return self.graders_dir / "worker_support"

    @property
    def support_dir(self) -> Path:
        """The graders' trusted-side helpers: importable by graders as the package ``support``."""
        return self.graders_dir / "support"

    def chapter_dir(self, chapter: Chapter) -> Path:
        """Where a chapter's declaration, text and graders live."""
        return self.graders_dir / chapter.dir


# ---------------------------------------------------------------- reading

class TomlFile:
    """One TOML file: its data, and line numbers for messages (tomllib gives none)."""

    def __init__(self, path: Path, what: str):
        self.path = path
        try:
            self.text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path} not found: {what}") from None
        try:
            self.data = tomllib.loads(self.text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path} is not valid TOML: {e}") from None
        self.lines = self.text.splitlines()

    def line_of(self, key: str | None, table: str | None = None, nth: int = 0) -> int:
        """The line where ``key`` is set, inside the ``nth`` occurrence of ``[table]``/``[[table]]`` (1-based);
        a key that is not there: the table's header (or line 1)."""
        headers = [i for i, line in enumerate(self.lines) if re.match(r"^\s*\[", line)]
        start, stop = 0, (headers[0] if headers else len(self.lines))
        if table is not None:
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
            found = [i for i in headers if header.match(self.lines[i])]
            if nth >= len(found):
                return 1
            start = found[nth]
            stop = next((i for i in headers if i > start), len(self.lines))
        if key is not None:
            setting = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*[=.]")
            for i in range(start, stop):
                if setting.match(self.lines[i]):
                    return i + 1
        return start + 1

    def fail(self, message: str, key: str | None = None, table: str | None = None, nth: int = 0):
        line = f":{self.line_of(key, table, nth)}" if key or table else ""
        raise ConfigError(f"{self.path}{line}: {message}")

    def only(self, data: dict, allowed: set, table: str | None = None, nth: int = 0, what: str = "") -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(f"unknown key {key!r}{' in ' + what if what else ''}{hint}; allowed: "
                          f"{', '.join(sorted(allowed))}", key, table, nth)


def load(root: Path) -> Course:
    """Read course.toml and every chapter it lists; the first inconsistency is a ConfigError saying where."""
    root = Path(root)
    top = TomlFile(root / "course.toml", "run `course` from the course folder, or set COURSE_ROOT")
    if top.data.get("schema_version") != SCHEMA_VERSION:
        top.fail(f"schema_version is {top.data.get('schema_version')!r}; this version of the course engine reads "
                 f"schema_version = {SCHEMA_VERSION}", "schema_version")
    top.only(top.data, {"schema_version", "course"})
    meta = top.data.get("course", {})
    top.only(meta, {"name", "version", "languages", "chapters"}, "course", what="[course]")
    languages = meta.get("languages", ["en"])
    if not isinstance(languages, list) or not languages or languages[0] != "en" or \
            not all(isinstance(x, str) and re.fullmatch(r"[a-z]{2}(_[A-Z]{2})?", x) for x in languages):
        top.fail("languages must be a list of codes like 'zh_TW', starting with 'en'", "languages", "course")
    dirs = meta.get("chapters", [])
    if not isinstance(dirs, list) or not dirs:
        top.fail("chapters must list the chapter folders in order, e.g. [\"ch01_tensors\"]", "chapters", "course")
    course = Course(root, str(meta.get("name", "course")), str(meta.get("version", "0")), [], tuple(languages))
    for cdir in dirs:
        if not isinstance(cdir, str) or not re.fullmatch(r"ch\d\d_[a-z0-9_]+", cdir):
            top.fail(f"a chapter folder must look like 'ch01_topic', got {cdir!r}", "chapters", "course")
        cid = cdir[:4]
        if any(c.id == cid for c in course.chapters):
            top.fail(f"chapter {cid} is listed twice", "chapters", "course")
        course.chapters.append(_chapter(course, cid, cdir))
    return course


def _chapter(course: Course, cid: str, cdir: str) -> Chapter:
    where = course.graders_dir / cdir
    decl = TomlFile(where / "chapter.toml", f"chapter {cid} is listed in course.toml but has no declaration")
    decl.only(decl.data, {"exercise"})
    texts = {lang: TomlFile(where / "text" / f"{lang}.toml", f"chapter {cid} needs its {lang} text (titles, hints)")
             for lang in course.languages}
    chapter = Chapter(cid, cdir, {}, str(decl.path))
    for lang, text in texts.items():
        title = text.data.get("title")
        if not isinstance(title, str) or not title:
            text.fail("the chapter's title is missing: title = \"...\" at the top", "title")
        chapter.title[lang] = title
    raw_exercises = decl.data.get("exercise", [])
    if not isinstance(raw_exercises, list) or not raw_exercises:
        decl.fail("declare at least one [[exercise]]")
    for nth, raw in enumerate(raw_exercises):
        chapter.exercises.append(_exercise(chapter, raw, nth, decl, texts))
    declared = {ex.id for ex in chapter.exercises}
    for text in texts.values():
        for key, value in text.data.items():
            if key != "title" and (key not in declared or not isinstance(value, dict)):
                text.fail(f"[{key}] is not an exercise declared in {decl.path.name}", None, key)
    return chapter


def _exercise(chapter: Chapter, raw: dict, nth: int, decl: TomlFile, texts: dict) -> Exercise:
    def fail(message: str, key: str | None = None):
        decl.fail(message, key, "exercise", nth)

    decl.only(raw, {"id", "file", "points", "forbidden", "thresholds", "timeout", "exempt", "preload"}, "exercise",
              nth,
              "[[exercise]]")
    eid = raw.get("id", "")
    if not isinstance(eid, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", eid):
        fail(f"exercise id must be lower_snake_case, got {eid!r}", "id")
    if any(e.id == eid for e in chapter.exercises):
        fail(f"{chapter.id}.{eid} is declared twice", "id")
    file = raw.get("file", f"{eid}.py")
    if not isinstance(file, str) or not re.fullmatch(r"[a-z][a-z0-9_]*\.py", file):
        fail(f"file must be a module name ending in .py, got {file!r}", "file")
    points = raw.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
        fail(f"points must be a positive number, got {points!r}", "points")
    forbidden = raw.get("forbidden", [])
    if not isinstance(forbidden, list) or not all(isinstance(f, str) and "." in f for f in forbidden):
        fail("forbidden must be a list of dotted names like 'torch.cdist'", "forbidden")
    thresholds = raw.get("thresholds", {})
    if not isinstance(thresholds, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in thresholds.values()):
        fail("thresholds must be a table of numbers", "thresholds")
    timeout = raw.get("timeout", 20.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        fail(f"timeout must be a positive number of seconds, got {timeout!r}", "timeout")
    exempt = raw.get("exempt", {})
    if not isinstance(exempt, dict) or any(k not in CHECK_KINDS or not isinstance(v, str) or len(v) < 10
                                           for k, v in exempt.items()):
        fail(f"exempt must be a table {{kind = \"the reason\"}} with kinds among {', '.join(CHECK_KINDS)} and a "
             f"reason a reader can check", "exempt")
    preload = raw.get("preload", [])
    if not isinstance(preload, list) or not all(isinstance(m, str) and re.fullmatch(r"torch(\.\w+)*", m)
                                                for m in preload):
        fail("preload lists torch modules that every worker would import anyway, e.g. [\"torch._dynamo\"]",
             "preload")
    titles, hints = {}, {}
    for lang, text in texts.items():
        entry = text.data.get(eid)
        if not isinstance(entry, dict):
            if lang == "en":
                text.fail(f"[{eid}] is missing: every exercise needs an English title and hints")
            continue                                # a missing translation falls back to English
        text.only(entry, {"title", "hints"}, eid, what=f"[{eid}]")
        if "title" in entry:
            if not isinstance(entry["title"], str) or not entry["title"]:
                text.fail("title must be a non-empty string", "title", eid)
            titles[lang] = entry["title"]
        if "hints" in entry:
            if not isinstance(entry["hints"], list) or not all(isinstance(h, str) and h for h in entry["hints"]):
                text.fail("hints must be a list of non-empty strings", "hints", eid)
            hints[lang] = list(entry["hints"])
    if not titles.get("en"):
        texts["en"].fail(f"[{eid}] needs a title", None, eid)
    return Exercise(chapter, eid, file, float(points), titles, tuple(forbidden), hints, dict(thresholds),
                    float(timeout), dict(exempt), tuple(preload))


def find_root(start: Path | None = None) -> Path:
    """The course folder: $COURSE_ROOT, else the nearest parent of the current directory with course.toml."""
    import os

    if os.environ.get("COURSE_ROOT"):
        return Path(os.environ["COURSE_ROOT"]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "course.toml").is_file():
            return candidate
    # never another clone's course silently (say, the one this package was installed from): say so instead
    raise ConfigError(f"no course.toml in {here} or any folder above it: cd into your copy of the course, or "
                      f"pass --root / set COURSE_ROOT")

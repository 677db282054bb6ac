"""The declarations: the real course loads and is complete; bad ones fail with a message naming file and line."""
import re
import textwrap

import pytest

from torchcourse import config

COURSE_TOML = """\
schema_version = 2

[course]
name = "mini"
version = "0"
languages = ["en", "zh_TW"]
chapters = ["ch01_tensors"]
"""
CHAPTER_TOML = """\
[[exercise]]
id = "pairwise"
points = 10
forbidden = ["torch.cdist"]

[[exercise]]
id = "gather"
points = 5
thresholds = { speed_max_ratio = 8.0 }
"""
EN = """\
title = "Tensors"

[pairwise]
title = "Pairwise"
hints = ["a nudge", "more"]

[gather]
title = "Gather"
hints = ["a nudge", "more"]
"""
ZH = """\
title = "張量操作"

[pairwise]
title = "成對距離"
"""


def write_course(root, *, course=COURSE_TOML, chapter=CHAPTER_TOML, en=EN, zh=ZH):
    (root / "course.toml").write_text(course)
    text = root / "graders" / "ch01_tensors" / "text"
    text.mkdir(parents=True)
    (text.parent / "chapter.toml").write_text(chapter)
    (text / "en.toml").write_text(en)
    if zh is not None:
        (text / "zh_TW.toml").write_text(zh)
    return root


def test_project_course_loads(course):
    assert course.chapter("ch01").title["zh_TW"] == "張量操作"
    assert course.chapter("10").dir == "ch10_attention"
    assert course.exercise("ch10.sdpa").module == "ch10_attention.sdpa"
    assert course.languages == ("en", "zh_TW", "zh_CN")
    for ex in course.all_exercises():
        assert ex.path_in(course.solutions_dir).is_file(), ex.key
        assert ex.grader_path(course.graders_dir).is_file(), ex.key
        assert len(ex.hints_in("en")) >= 2, f"{ex.key}: progressive hints"
        assert ex.title_in("zh_TW") != ex.id, f"{ex.key}: Chinese title"


def test_no_declaration_file_grows_with_the_course(course):
    """One file per chapter and per language: none of them near the size that one course.toml had."""
    files = [course.root / "course.toml"] + [p for ch in course.chapters
                                             for p in (course.chapter_dir(ch) / "chapter.toml",
                                                       *(course.chapter_dir(ch) / "text").glob("*.toml"))]
    assert max(len(p.read_text().splitlines()) for p in files) < 200


def test_a_small_course_loads_with_defaults_and_fallbacks(tmp_path):
    course = config.load(write_course(tmp_path))
    pairwise, gather = course.chapter("ch01").exercises
    assert pairwise.file == "pairwise.py" and pairwise.timeout == 20.0 and pairwise.forbidden == ("torch.cdist",)
    assert gather.threshold("speed_max_ratio") == 8.0
    assert pairwise.title_in("zh_TW") == "成對距離"
    assert pairwise.hints_in("zh_TW") == ["a nudge", "more"]          # no translation yet: English
    assert gather.title_in("zh_TW") == "Gather"
    with pytest.raises(KeyError, match="no threshold 'speed_max_ratio'"):
        pairwise.threshold("speed_max_ratio")


def test_unknown_names_suggest(tmp_path):
    course = config.load(write_course(tmp_path))
    with pytest.raises(config.UnknownName, match="Did you mean ch01"):
        course.chapter("ch0l")
    with pytest.raises(config.UnknownName, match="pairwise"):
        course.chapter("ch01").exercise("pairwse")


@pytest.mark.parametrize("where, old, new, file, line, words", [
    ("course", "schema_version = 2", "schema_version = 1", "course.toml", 1, "schema_version"),
    ("course", 'version = "0"', 'version = "0"\nlanguage = ["en"]', "course.toml", 6, "unknown key 'language'"),
    ("course", '"ch01_tensors"', '"tensors"', "course.toml", 7, "ch01_topic"),
    ("course", '"en", "zh_TW"', '"zh_TW", "en"', "course.toml", 6, "starting with 'en'"),
    ("chapter", "points = 5", "points = 5\nthreshold = { x = 1 }", "chapter.toml", 9, "did you mean 'thresholds'"),
    ("chapter", "points = 5", "points = 0", "chapter.toml", 8, "points must be a positive number"),
    ("chapter", 'forbidden = ["torch.cdist"]', 'forbidden = "torch.cdist"', "chapter.toml", 4, "forbidden"),
    ("chapter", 'id = "gather"', 'id = "pairwise"', "chapter.toml", 7, "declared twice"),
    ("chapter", 'id = "gather"', 'id = "gather"\nfile = "Gather.PY"', "chapter.toml", 8, "file must be"),
    ("chapter", "points = 5", 'points = 5\nexempt = { speed = "x" }', "chapter.toml", 9, "exempt"),
    ("en", 'hints = ["a nudge", "more"]\n\n[gather]', 'hint = ["a nudge"]\n\n[gather]', "en.toml", 5,
     "did you mean 'hints'"),
    ("en", '[gather]\ntitle = "Gather"', '[gathr]\ntitle = "Gather"', "en.toml", None, "[gather] is missing"),
    ("zh", '[pairwise]', '[pairwse]', "zh_TW.toml", 3, "not an exercise declared"),
    ("zh", 'title = "張量操作"', '', "zh_TW.toml", 1, "title is missing"),
])
def test_bad_declarations_name_file_and_line(tmp_path, where, old, new, file, line, words):
    texts = {"course": COURSE_TOML, "chapter": CHAPTER_TOML, "en": EN, "zh": ZH}
    assert old in texts[where]
    texts[where] = texts[where].replace(old, new, 1)
    write_course(tmp_path, **texts)
    with pytest.raises(config.ConfigError) as err:
        config.load(tmp_path)
    message = str(err.value)
    assert re.search(rf"{re.escape(file)}:{line}: " if line else rf"{re.escape(file)}: ", message), message
    assert words in message, message


def test_missing_files_are_clear_errors(tmp_path):
    with pytest.raises(config.ConfigError, match="course.toml not found"):
        config.load(tmp_path)
    (tmp_path / "course.toml").write_text("schema_version = [")
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(tmp_path)
    write_course(tmp_path / "c", zh=None) if (tmp_path / "c").mkdir() is None else None
    with pytest.raises(config.ConfigError, match=r"zh_TW.toml not found: chapter ch01 needs its zh_TW text"):
        config.load(tmp_path / "c")


def test_language_list_is_read_from_course_toml(tmp_path):
    write_course(tmp_path, course=COURSE_TOML.replace('["en", "zh_TW"]', '["en"]'), zh=None)
    course = config.load(tmp_path)
    assert course.languages == ("en",)
    assert textwrap.dedent(course.chapter("ch01").title["en"]) == "Tensors"

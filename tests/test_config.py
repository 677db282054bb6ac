"""course.toml: the real one loads and is complete; bad ones fail with a message that says where."""
import pytest

from torchcourse import config

GOOD = {"schema_version": 1, "chapter": [{"id": "ch01", "dir": "ch01_tensors", "title": {"en": "Tensors"},
                                           "exercise": [{"id": "pairwise", "file": "pairwise.py", "points": 10,
                                                         "title": {"en": "Pairwise"}}]}]}


def test_project_course_loads(course):
    assert course.chapter("ch01").title["zh_TW"] == "張量操作"
    assert course.chapter("10").dir == "ch10_attention"
    assert course.exercise("ch10.sdpa").module == "ch10_attention.sdpa"
    for ex in course.all_exercises():
        assert ex.path_in(course.solutions_dir).is_file(), ex.key
        assert ex.grader_path(course.graders_dir).is_file(), ex.key
        assert len(ex.hints_in("en")) >= 2, f"{ex.key}: progressive hints"
        assert ex.title_in("zh_TW") != ex.id, f"{ex.key}: Chinese title"


def test_unknown_names_suggest():
    course = config.parse(GOOD, __import__("pathlib").Path("."))
    with pytest.raises(config.UnknownName, match="Did you mean ch01"):
        course.chapter("ch0l")
    with pytest.raises(config.UnknownName, match="pairwise"):
        course.chapter("ch01").exercise("pairwse")


def _bad(**changes):
    data = {"schema_version": 1, "chapter": [dict(GOOD["chapter"][0])]}
    ex = dict(GOOD["chapter"][0]["exercise"][0])
    for key, value in changes.items():
        target, _, field = key.partition("__")
        if target == "top":
            data[field] = value
        elif target == "chapter":
            data["chapter"][0][field] = value
        else:
            ex[field] = value
    data["chapter"][0]["exercise"] = [ex]
    return data


@pytest.mark.parametrize("changes, words", [
    ({"top__schema_version": 2}, "schema_version"),
    ({"chapter__id": "chapter1"}, "ch01"),
    ({"chapter__dir": "tensors"}, "dir"),
    ({"ex__points": 0}, "points"),
    ({"ex__file": "Pairwise.PY"}, "file"),
    ({"ex__forbidden": "torch.cdist"}, "forbidden"),
    ({"ex__hints": {"fr": ["x"]}}, "hints"),
    ({"ex__title": {"zh_TW": "x"}}, "title"),
])
def test_bad_configuration_is_a_clear_error(changes, words):
    with pytest.raises(config.ConfigError, match=words):
        config.parse(_bad(**changes), __import__("pathlib").Path("."))


def test_missing_and_invalid_file(tmp_path):
    with pytest.raises(config.ConfigError, match="not found"):
        config.load(tmp_path)
    (tmp_path / "course.toml").write_text("schema_version = [")
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(tmp_path)

"""Keyed interface text in English, Traditional and Simplified Chinese (the book's languages).

Course content (titles, hints) lives in each chapter's ``text/<lang>.toml``; the course's languages are
listed once, in course.toml. Choose with
``--lang`` or ``COURSE_LANG`` (``en``, ``zh_TW``, ``zh_CN``).
"""
from __future__ import annotations

import os

_TEXT = {
    "passed": {"zh_TW": "通過", "zh_CN": "通过"},
    "failing": {"zh_TW": "未通過", "zh_CN": "未通过"},
    "not started": {"zh_TW": "尚未開始", "zh_CN": "尚未开始"},
    "changed since last check": {"zh_TW": "上次檢查後已修改", "zh_CN": "上次检查后已修改"},
    "points": {"zh_TW": "分", "zh_CN": "分"},
    "check": {"zh_TW": "檢查", "zh_CN": "检查"},
    "result": {"zh_TW": "結果", "zh_CN": "结果"},
    "message": {"zh_TW": "訊息", "zh_CN": "信息"},
    "chapter": {"zh_TW": "章節", "zh_CN": "章节"},
    "exercise": {"zh_TW": "練習", "zh_CN": "练习"},
    "status": {"zh_TW": "狀態", "zh_CN": "状态"},
    "progress": {"zh_TW": "進度", "zh_CN": "进度"},
    "hint": {"zh_TW": "提示", "zh_CN": "提示"},
    "no more hints": {"zh_TW": "沒有更多提示了", "zh_CN": "没有更多提示了"},
    "stuck?": {"zh_TW": "卡住了？", "zh_CN": "卡住了？"},
    "title": {"zh_TW": "標題", "zh_CN": "标题"},
    "file missing": {"zh_TW": "檔案不見了", "zh_CN": "文件不见了"},
    "gave up": {"zh_TW": "已放棄", "zh_CN": "已放弃"},
    "restores the stub": {"zh_TW": "可還原練習檔", "zh_CN": "可还原练习文件"},
    "again for the next hint": {"zh_TW": "再執行一次可看下一個提示", "zh_CN": "再运行一次可看下一个提示"},
}


LANGUAGES = ("en", "zh_TW", "zh_CN")      # the interface's translations (the course lists its own in course.toml)


def language(requested: str | None = None) -> str:
    lang = requested or os.environ.get("COURSE_LANG") or "en"
    return lang if lang in LANGUAGES else "en"


def t(key: str, lang: str = "en") -> str:
    if lang == "en":
        return key
    return _TEXT.get(key, {}).get(lang, key)

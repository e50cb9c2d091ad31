"""Dialogue stage: which of the numbered options a villager means.

「1」「１」「1.」「第1个」「第二个」 by number; 「9点半那个」「周六上午那个」 by what the option
says. One parser for every numbered choice, so every list understands the same answers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_CN_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
               "九": 9, "十": 10}
_ORDINAL = re.compile(r"第?(\d{1,2}|[一二两三四五六七八九十])[.、。个项种]?(那个|这个)?(吧|啊)?")
_TIME = re.compile(r"(\d{1,2})\s*(?:点|:|：)\s*(半|\d{2})?")
_DAY_WORDS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日", "上午", "下午", "晚上")
_WEEKDAY_ALIASES = {"星期": "周", "礼拜": "周", "周天": "周日", "周末": "周六"}


def choice_number(text: str) -> int | None:
    """「1」「第2个」「第二个」「三」 → the number; anything else → None."""
    match = _ORDINAL.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    value = match.group(1)
    return int(value) if value.isdigit() else _CN_NUMBERS[value]


def pick_option(text: str, labels: Sequence[str]) -> int | None:
    """The option (1-based) the text means, by number or by the one option it describes."""
    chosen = choice_number(text)
    if chosen is not None:
        return chosen
    said = unicodedata.normalize("NFKC", text)
    for alias, day in _WEEKDAY_ALIASES.items():
        said = said.replace(alias, day)
    marks = [word for word in _DAY_WORDS if word in said]
    time = _TIME.search(said)
    if time:
        minutes = "30" if time.group(2) == "半" else time.group(2) or "00"
        marks.append(f"{int(time.group(1))}:{minutes}")
    if not marks:
        return None
    fitting = [n for n, label in enumerate(labels, 1) if all(mark in label for mark in marks)]
    return fitting[0] if len(fitting) == 1 else None


def describes_option(text: str) -> bool:
    """Whether the text can pick an option: a number, or a time or day it names."""
    said = unicodedata.normalize("NFKC", text)
    return choice_number(text) is not None or _TIME.search(said) is not None \
        or any(word in said for word in _DAY_WORDS)

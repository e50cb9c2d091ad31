"""NLU stage: what may reach the NLU at all.

Rasa treats text starting with "/" as an injected intent (`/apply{"matter":"x"}`); a villager's
message must never be a command, so leading slashes are removed. Empty and symbol-only
messages never reach Rasa, and pasted walls of text are cut.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_NLU_CHARS = 2000  # raw work cap; bot/nlu/core.py cuts again after the question is found


class Skip(StrEnum):
    """Why a message was not sent to the NLU; the dialogue answers each kindly."""

    EMPTY = "empty"  # nothing but white space
    NO_TEXT = "no_text"  # emoji, stickers' alt text, punctuation only


@dataclass(frozen=True, slots=True)
class GuardedText:
    text: str  # what the NLU sees
    skip: Skip | None = None
    truncated: bool = False


def _is_wordlike(char: str) -> bool:
    category = unicodedata.category(char)
    return category.startswith(("L", "N"))  # letters (incl. Chinese) and digits


def guard(raw: str) -> GuardedText:
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return GuardedText("", Skip.EMPTY)
    text = text.lstrip("/ \t\r\n")  # never Rasa's intent-injection syntax
    if not any(_is_wordlike(char) for char in text):
        return GuardedText("", Skip.NO_TEXT)
    text = " ".join(text.split())  # voice input and pasted text carry stray line breaks
    if len(text) > MAX_NLU_CHARS:
        return GuardedText(text[:MAX_NLU_CHARS], truncated=True)
    return GuardedText(text)

"""Outbound delivery: texts shaped for SMS — what fits a 70-character message (the bot's
answers, a clerk's reply).

A Chinese SMS holds 70 characters, the 【sign】 and the template's fixed words included;
longer texts are billed as several messages and some phones show the parts apart, so
replies are split here, where we choose the boundaries: between lines (numbered items),
then sentences, then clauses, never inside a number or a word of Latin letters (a receipt
number, a phone, an ID). Split parts carry (1/3), (2/3)…; the replies of one turn share
messages when they fit together.

WeChat-only words are made SMS-suitable first: no photos or locations can be sent back
by SMS, links and emoji do not belong in a 70-character message, and 【】 is refused by
the providers in template variables (it reads as a sign).
"""

from __future__ import annotations

import re
import unicodedata

from integrations.sms import SINGLE

# WeChat's ways of sending things, said for a phone that can only send text.
WECHAT_ONLY = (
    ("请拍照发过来；或回复 1", "短信发不了照片，请回复 1"),
    ("，也可以点“+”发送位置", ""),
    ("这个微信号", "这个号码"),
)
LINK = re.compile(r"https?://\S+")
BLANK_LINES = re.compile(r"\n\s*\n+")
# Where a long text may be cut, best first: after a line, a sentence, a clause; then
# between any two characters except inside a run of digits or Latin letters.
BOUNDARIES = (
    re.compile(r"(?<=\n)"),
    re.compile(r"(?<=[。！？；!?;])"),
    re.compile(r"(?<=[，、：,:）)])"),
    re.compile(r"(?<![0-9A-Za-z])|(?![0-9A-Za-z])"),
)


def for_sms(text: str) -> str:
    """A reply written for WeChat, in words an SMS can carry."""
    for wechat, sms in WECHAT_ONLY:
        text = text.replace(wechat, sms)
    text = LINK.sub("", text).replace("【", "「").replace("】", "」").replace("　", " ")
    text = "".join(c for c in text if not _decoration(c))
    return BLANK_LINES.sub("\n", "\n".join(line.rstrip() for line in text.splitlines())).strip()


def _decoration(char: str) -> bool:
    """Emoji and their joiners: a "So" symbol outside the CJK blocks, or a selector."""
    return (unicodedata.category(char) == "So" and ord(char) > 0x2FFF) \
        or char in "\u200d\ufe0f\ufe0e"


def room(sign_name: str, fixed: str = "") -> int:
    """Characters one SMS leaves for the reply: 70 less the 【sign】 and the template's own
    words."""
    return SINGLE - len(f"【{sign_name}】") - len(fixed)


def split_for_sms(replies: list[str], space: int) -> list[str]:
    """A turn's replies as SMS texts of at most `space` characters each."""
    text = for_sms("\n".join(replies))
    if not text:
        return []
    if len(text) <= space:
        return [text]
    for digits in (1, 2, 3):
        label = len(f"({'9' * digits}/{'9' * digits})")
        pieces = _pack(_units(text, space - label), space - label)
        if len(pieces) < 10 ** digits:
            break
    return [f"({n}/{len(pieces)}){piece}" for n, piece in enumerate(pieces, 1)]


def _units(text: str, width: int, level: int = 0) -> list[str]:
    """`text` cut at the best boundaries that make every unit fit `width`."""
    if len(text) <= width:
        return [text]
    if level == len(BOUNDARIES):  # one run of digits or letters longer than an SMS
        return [text[i:i + width] for i in range(0, len(text), width)]
    units: list[str] = []
    for part in BOUNDARIES[level].split(text):
        if part:
            units.extend(_units(part, width, level + 1))
    return units


def _pack(units: list[str], width: int) -> list[str]:
    """Units into as few pieces of at most `width` as their order allows."""
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current and len((current + unit).strip()) > width:
            pieces.append(current.strip())
            current = ""
        current += unit
    if current.strip():
        pieces.append(current.strip())
    return pieces

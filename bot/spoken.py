"""Outbound stage: an answer made for listening, before speech synthesis reads it aloud.

What reads well is not what sounds well: numbers are said as words (「3个工作日」 三个工作日,
「12月3日」 十二月三日, 「9:00-12:00」 九点到中午十二点, 「¥20」 二十元), phone, receipt and ID
numbers digit by digit (1 as 幺, as people say them), numbered lists as 第一、第二; links,
emoji, brackets and quote marks are dropped; lines and semicolons end sentences. A long
answer is cut at sentence ends into parts that each fit one synthesis request and one voice
message (WeChat: 60 s; at about 4 characters a second).
"""

from __future__ import annotations

import re
import unicodedata

CHARS_PER_SECOND = 4  # a calm reading speed, for a villager on a phone speaker
DIGITS = "零一二三四五六七八九"
SPELLED = "零幺二三四五六七八九"  # digits one by one: 1 is 幺, not confused with 7
MEASURES = frozenset("个张份本次位岁套页项件天周名户人点")  # 2 before them is 两

_URL = re.compile(r"(https?://|www\.)[\w\-./?%&=#:~+]*", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^[ \t]*(\d{1,2})[ \t]*[.、．)）](?!\d)[ \t]*", re.MULTILINE)
_CIRCLED = {chr(0x2460 + i): f"第{DIGITS[i + 1] if i < 9 else '十'}，" for i in range(10)}
_TIME_RANGE = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-~～—–至到]+\s*(\d{1,2})[:：](\d{2})")
_TIME = re.compile(r"(\d{1,2})[:：](\d{2})")
_YEAR = re.compile(r"(\d{4})\s*年")
_MONEY = re.compile(r"[¥￥]\s*(\d+(?:\.\d+)?)")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_PHONE = re.compile(r"(?<!\d)(?:(1\d{2})[- ](\d{4})[- ](\d{4})|(0\d{2,3})-(\d{7,8}))(?!\d)")
# IDs, phones, receipts (after letters: BM2026…), postcodes: one digit at a time
_SPELL = re.compile(r"\d{7,}[Xx]?|(?<=[A-Za-z])\d+|\d{5,6}(?![\d.元块万人户])")
_RANGE = re.compile(r"(\d+)\s*[-~～—–至]\s*(\d+)")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")
_NUMBER = re.compile(r"\d+")
_PER = re.compile(r"/(?=[月年天日人次户])")  # 「元/月」: 每月
_DROPPED = re.compile(r"[「」『』《》“”\"'*#＊【】\[\]]")
_ONE_CHARACTER = re.compile(r"(?<=[\u4e00-\u9fff])[（(]([\u4e00-\u9fff])[）)]")  # 村（居）委会
_OPENING = re.compile(r"[ \t]*[（(][ \t]*")
_CLOSING = re.compile(r"[ \t]*[）)][ \t]*")
_DOUBLED = re.compile(r"(上午|下午|晚上|中午)[ \t]*(?=中午|下午|晚上)")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９ＸｘＢＭ", "0123456789XxBM")
_SENTENCE_END = re.compile(r"[\n；;]+")
_PAUSE = re.compile(r"[：:,]\s*")
_REPEATED = re.compile(r"[，、\s]*([。！？])[，、。\s]*|[，、][，、\s]+")
_SENTENCES = re.compile(r"[^。！？]+[。！？]?")


def number_words(value: int) -> str:
    """34 → 三十四, 105 → 一百零五, 12000 → 一万二千; up to 99 999 999."""
    if value == 0:
        return "零"
    high, low = divmod(value, 10_000)
    if not high:
        return _below_ten_thousand(low)
    words = number_words(high) + "万"
    if low:
        words += ("零" if low < 1000 else "") + _below_ten_thousand(low, leading=False)
    return words


def _below_ten_thousand(value: int, leading: bool = True) -> str:
    words, zero = "", False
    digits = str(value)
    for place, digit in zip(range(len(digits) - 1, -1, -1), map(int, digits), strict=True):
        if digit == 0:
            zero = bool(words)
            continue
        words += ("零" if zero else "") + DIGITS[digit] + ("", "十", "百", "千")[place]
        zero = False
    return words[1:] if leading and words.startswith("一十") else words


def spelled(digits: str) -> str:
    """Digit by digit: 13800001234 → 幺三八零零零零幺二三四; an ID's X is 叉."""
    return "".join(SPELLED[int(c)] if c.isdigit() else "叉" if c in "Xx" else c
                   for c in digits)


def _clock(hour: int, minute: int) -> str:
    said = f"{'两' if hour % 12 == 2 else number_words(hour % 12 or 12)}点"
    if hour >= 12:
        said = ("中午" if hour == 12 else "下午" if hour <= 18 else "晚上") + said
    if minute == 30:
        return said + "半"
    return said + (f"{'零' if minute < 10 else ''}{number_words(minute)}分" if minute else "")


def _integer(match: re.Match[str]) -> str:
    value = int(match.group())
    after = match.string[match.end():match.end() + 1]
    before = match.string[match.start() - 1:match.start()]
    return "两" if value == 2 and after in MEASURES and before != "第" else number_words(value)


def _plain(text: str) -> str:
    """Emoji and other pictographs dropped; full-width digits folded (punctuation stays
    full-width: it is what the sentences are cut at)."""
    return "".join(c for c in text.translate(_FULL_WIDTH)
                   if unicodedata.category(c) not in ("So", "Cs", "Co", "Sk")
                   and c != "\ufe0f")


def for_listening(text: str) -> str:
    """The text as it should be said."""
    text = _URL.sub("", text)
    for circled, said in _CIRCLED.items():
        text = text.replace(circled, said)
    text = _plain(text)
    text = _LIST_ITEM.sub(lambda m: f"第{number_words(int(m.group(1)))}，", text)
    text = _TIME_RANGE.sub(lambda m: _clock(int(m[1]), int(m[2])) + "到"
                           + _clock(int(m[3]), int(m[4])), text)
    text = _TIME.sub(lambda m: _clock(int(m[1]), int(m[2])), text)
    text = _DOUBLED.sub("", text)  # 「下午14:30」: the time says 下午 itself
    text = _YEAR.sub(lambda m: spelled(m[1]).replace("幺", "一") + "年", text)
    text = _MONEY.sub(lambda m: f"{m[1]}元", text)
    text = _PERCENT.sub(lambda m: "百分之" + m[1], text)
    text = _PHONE.sub(lambda m: "，".join(spelled(g) for g in m.groups() if g), text)
    text = _SPELL.sub(lambda m: spelled(m.group()), text)
    text = _RANGE.sub(lambda m: f"{m[1]}到{m[2]}", text)
    text = _DECIMAL.sub(lambda m: f"{number_words(int(m[1]))}点{spelled(m[2])}"
                        .replace("幺", "一"), text)
    text = _NUMBER.sub(_integer, text)
    text = _PER.sub("每", text).replace("/", "或")
    text = _DROPPED.sub("", text)
    text = _ONE_CHARACTER.sub(r"\1", text)
    text = _CLOSING.sub("，", _OPENING.sub("，", text))
    text = _PAUSE.sub("，", _SENTENCE_END.sub("。", text))
    text = _REPEATED.sub(lambda m: m.group(1) or "，", text).strip("，、。 \n")
    return f"{text}。" if text and text[-1] not in "！？" else text


def parts(text: str, limit: int) -> list[str]:
    """`text` (already for listening) cut at sentence ends into parts of at most `limit`
    characters; a longer sentence is cut at its commas, a longer clause where it must."""
    pieces: list[str] = []
    for sentence in _SENTENCES.findall(text):
        pieces.extend(_fitted(sentence, limit))
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + len(piece) <= limit:
            out[-1] += piece
        else:
            out.append(piece)
    return out


def _fitted(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    clauses = re.findall(r"[^，]+，?", sentence)
    return [clause[i:i + limit] for clause in clauses for i in range(0, len(clause), limit)]

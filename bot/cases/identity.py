"""Domain services stage: checks of what applicants type — ID numbers and phone numbers.

The 18-digit resident ID number (GB 11643-1999) ends in a check digit (ISO 7064 MOD 11-2);
a typo in any digit is caught. Replies and logs only ever show it masked.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from bot import chinatime

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
# The same numbers inside free text (a transcript), as people type them: whole, or in their
# groups (ID 6-8-4, mobile 3-4-4) split by one kind of space or dash; digits half- or
# full-width; never inside a longer run of digits. A number typed with one more group after
# it is masked all the same: better one number too many hidden than one shown.
_GAP = "[ \u00a0\u3000\\-\u2013\u2014\uff0d]"
_ID_IN_TEXT = re.compile(
    rf"(?<!\d)\d{{6}}({_GAP}?)\d{{8}}\1\d{{3}}[\dXxＸｘ](?![\dXxＸｘ])")
_MOBILE_IN_TEXT = re.compile(rf"(?<!\d)[1１][3-9３-９]\d({_GAP}?)\d{{4}}\1\d{{4}}(?!\d)")
_GAPS = re.compile(_GAP)
# The same numbers grouped otherwise: a mobile with +86 or split anywhere (138 12345678,
# 1381234 5678), an ID number in fours (1101 0519 4912 3100 2X), the old 15-digit card, and
# any run of 15 digits or more (a bank card). Dates and other numbers stay as typed.
_OTHER_NUMBERS = re.compile(
    rf"(?<![\d*])(?:\+?86{_GAP}?)?[1１][3-9３-９]\d(?:{_GAP}?\d){{8}}(?![\d*])"
    rf"|(?<![\d*])\d{{4}}({_GAP})\d{{4}}\1\d{{4}}\1\d{{4}}\1\d[\dXxＸｘ](?![\dXxＸｘ])"
    rf"|(?<![\d*])\d{{15,}}[XxＸｘ]?(?![\d*])")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "").upper()


def id_number_problem(text: str) -> str | None:
    """None when valid, else what is wrong, in words a villager understands."""
    number = normalize(text)
    if not _ID.match(number):
        return "身份证号应为18位（最后一位可以是X），请再核对一下"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "身份证号里的出生日期不对，请再核对一下"
    if born > chinatime.today() or born.year < 1890:
        return "身份证号里的出生日期不对，请再核对一下"
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != number[17]:
        return "身份证号有一位不对（校验不通过），请再核对一下"
    return None


def mask_id_number(number: str) -> str:
    """3201**********1234: the region and the last four, as on the issue's example."""
    return f"{number[:4]}{'*' * 10}{number[-4:]}" if len(number) == 18 else "****"


def phone_problem(text: str) -> str | None:
    number = normalize(text)
    if _MOBILE.match(number) or _LANDLINE.match(number):
        return None
    return "电话号码不对：手机号是1开头的11位数字，座机请带区号"


def mask_phone(number: str) -> str:
    return f"{number[:3]}****{number[-4:]}" if len(number) >= 8 else "****"


def mask_numbers_in(text: str) -> str:
    """Free text with every ID number and mobile number in it masked, as in lists."""
    text = _ID_IN_TEXT.sub(lambda found: mask_id_number(_GAPS.sub("", found.group())), text)
    text = _MOBILE_IN_TEXT.sub(lambda found: mask_phone(_GAPS.sub("", found.group())), text)
    return _OTHER_NUMBERS.sub(lambda found: _masked_digits(found.group()), text)


def _masked_digits(number: str) -> str:
    digits = "".join(c for c in unicodedata.normalize("NFKC", number) if c.isdigit())
    if number.lstrip().startswith(("+86", "86")) and len(digits) == 13:
        digits = digits[2:]  # a mobile with the country code
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) <= 12 else \
        f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"


def age_on(number: str, day: date) -> int:
    """Full years of age on `day`, from the birth date in a valid ID number."""
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

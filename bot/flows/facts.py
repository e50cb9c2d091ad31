"""Dialogue stage: the facts a villager's message carries, whatever was asked.

「我妈88岁了走不动，想让人上门办高龄补贴」 says for whom (a family member: 母亲), her age and
why she cannot come; 「王秀英 110101193805121231 13812345678 红旗村」 says a name, an ID number,
a phone and a village. Flows take every fact a message carries, at any step, so that nothing
already said is asked again. Each fact is recognised by its kind: a village is not a name,
a phone is not an ID number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.messages import Channel, Incoming

# Who the matter is for, by the words for them: the relation recorded for clerks.
RELATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("本人", ("我自己", "我本人", "本人", "给我自己", "自己办")),
    ("母亲", ("我妈", "我娘", "俺娘", "俺妈", "我母亲", "老娘", "我老妈", "她妈")),
    ("父亲", ("我爸", "我爹", "俺爹", "俺爸", "我父亲", "老爷子", "我老爸")),
    ("配偶", ("老伴", "我老婆", "我媳妇", "我爱人", "我丈夫", "我老公", "俺媳妇", "俺男人")),
    ("祖父母", ("爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "阿公", "阿婆")),
    ("公婆岳父母", ("公公", "婆婆", "岳父", "岳母", "丈母娘", "老丈人")),
    ("子女", ("儿子", "女儿", "孩子", "娃儿", "闺女")),
    ("家人", ("家里人", "家人", "家里老人", "亲戚")),
)
DISABILITY_WORDS = ("残疾", "残障", "轮椅", "失明", "看不见", "聋", "哑", "截肢", "瘫痪")
ILLNESS_WORDS = ("卧床", "瘫在床", "走不动", "走不了", "下不了床", "行动不便", "腿脚不便",
                 "腿脚不好", "生病", "住院", "病了", "中风", "偏瘫", "起不来")
_ID = re.compile(r"(?<![0-9])[1-9]\d{16}[\dX](?![0-9X])")
_PHONE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])|(?<![0-9])0\d{2,3}-?\d{7,8}(?![0-9])")
_AGE = re.compile(r"(\d{2,3})\s*(?:周岁|岁|了|多了|多岁)")
_CN_AGE = re.compile(r"([一二三四五六七八九])十([一二三四五六七八九])?(?:周岁|岁|了|多)")
_CN_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")}
_NAMED = re.compile(r"(?:(?<!我)叫|(?<!我的)名字是|(?<!我的)名字叫|姓名是?|姓名：)\s*"
                    r"([\u4e00-\u9fff·]{2,5})")
# The messenger's own name (a village agent or a daughter applying for someone).
_SPEAKER = re.compile(r"(?:我叫|我的名字是|我的名字叫)\s*([\u4e00-\u9fff·]{2,4})")
_HAN_NAME = re.compile(r"[\u4e00-\u9fff·]{2,4}")
# Words that end a place or make a phrase no person's name.
_NOT_A_NAME_END = ("村", "组", "社区", "镇", "乡", "县", "街", "路", "号", "队")
# A village or community named without the center's list (the apply flow has none).
_VILLAGE = re.compile(r"(?<![我俺咱本这那哪同])([\u4e00-\u9fff]{2,5}(?:村|社区))")
_GROUP = re.compile(r"([0-9一二三四五六七八九十]{1,3})\s*(?:组|队)")


@dataclass(frozen=True, slots=True)
class Facts:
    relation: str | None = None  # 本人, 母亲, 父亲…
    age: int | None = None
    disabled: bool = False
    ill: bool = False
    name: str | None = None  # only where the message says it is a name (叫…)
    speaker: str | None = None  # 「我叫李红」: the messenger's own name
    id_number: str | None = None  # 18 characters, not yet checked
    phone: str | None = None
    village: str | None = None  # one of the center's villages
    group: str | None = None  # 3组

    @property
    def for_self(self) -> bool | None:
        return None if self.relation is None else self.relation == "本人"


def sender_phone(message: Incoming) -> str | None:
    """The number an SMS came from: the villager's phone, known without asking (a number
    they type in the flow, for someone else, replaces it)."""
    return message.user_id if message.channel is Channel.SMS else None


def plain(text: str) -> str:
    """Full-width digits and letters folded, x made X (ID numbers end in either)."""
    return unicodedata.normalize("NFKC", text).replace("x", "X")


def village_in(text: str) -> str | None:
    """「红旗村」「住在新街社区3组」 → the village; not 「我们村」."""
    match = _VILLAGE.search(plain(text))
    if match is None:
        return None
    village = re.sub(r"^(家住|家在|住在|我在|在|是)", "", match.group(1))
    if len(village) < 3 or village.startswith(("我们", "俺们", "咱们")):
        return None
    return village


def relation_in(text: str) -> str | None:
    for relation, words in RELATIONS:
        if any(word in text for word in words):
            return relation
    return None


def age_in(text: str) -> int | None:
    """「88岁」「她88了」「八十八岁」「八十多了」 → 88, 88, 88, 80."""
    for match in _AGE.finditer(text):
        age = int(match.group(1))
        if 1 <= age <= 120:
            return age
    spoken = _CN_AGE.search(text)
    if spoken:
        return _CN_DIGITS[spoken.group(1)] * 10 + _CN_DIGITS.get(spoken.group(2) or "零", 0)
    return None


# Characters no name starts or ends with: 「好的」「谢谢」「没有」「我问问」「李红的」 are no names.
_NOT_A_NAME_START = frozenset("我你他她它这那没不好是谢请对嗯哦啊喂")
_NOT_A_NAME_LAST = frozenset("的了吗呢啊吧呀哦")


def looks_like_name(text: str) -> bool:
    """A bare answer that can be a person's name: 2–4 Chinese characters, no place, no
    reply word."""
    return bool(_HAN_NAME.fullmatch(text)) and not text.endswith(_NOT_A_NAME_END) \
        and relation_in(text) is None and text[0] not in _NOT_A_NAME_START \
        and text[-1] not in _NOT_A_NAME_LAST


def facts_in(text: str, villages: tuple[str, ...] = ()) -> Facts:
    text = plain(text)
    compact = text.replace(" ", "")
    id_match = _ID.search(compact)
    rest = compact.replace(id_match.group(), " ") if id_match else compact
    phone = _PHONE.search(rest)
    without_numbers = _PHONE.sub(" ", rest)
    named = _NAMED.search(text)
    speaker = _SPEAKER.search(text)
    group = _GROUP.search(text)
    return Facts(
        relation=relation_in(text),
        age=age_in(without_numbers),
        disabled=any(word in text for word in DISABILITY_WORDS),
        ill=any(word in text for word in ILLNESS_WORDS),
        name=named.group(1) if named and looks_like_name(named.group(1))
        else name_after_relation(text),
        speaker=speaker.group(1) if speaker and looks_like_name(speaker.group(1)) else None,
        id_number=id_match.group() if id_match else None,
        phone=phone.group().replace("-", "") if phone else None,
        village=next((v for v in villages if v in text), None),
        group=f"{group.group(1)}组" if group else None,
    )


_LABELS = re.compile(r"身份证号码?|身份证|证号|姓名|名字|电话|手机号?|号码|是|为|[:：]")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff·]+")


# The commonest surnames: a name right after 「我娘」 is taken only if it starts with one
# (「我妈走不动」 names nobody).
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
            "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史"
            "陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")


# Characters that begin what follows a name rather than end it (申请, 办, 的, 要…).
_AFTER_NAME = frozenset("申办的要想去来在是说让给她他今已也和跟")


def name_after_relation(text: str) -> str | None:
    """「给我娘王秀英申请」 → 王秀英."""
    for _, words in RELATIONS:
        for word in words:
            at = text.find(word)
            if at < 0:
                continue
            run = _HAN_RUN.match(text, at + len(word))
            after = run.group() if run else ""
            # 「我娘王芳申请」: 申 starts the rest of the sentence, so the name is 王芳
            sizes = (2,) if after[2:3] and after[2] in _AFTER_NAME else (3, 2)
            for size in sizes:
                name = after[:size]
                if len(name) == size and name[0] in SURNAMES and looks_like_name(name):
                    return name
    return None


def _as_name(run: str) -> str | None:
    for _, words in RELATIONS:
        for word in words:
            run = run.replace(word, "")
    run = _LABELS.sub("", run)
    return run if looks_like_name(run) else None


def name_beside(text: str, number: str) -> str | None:
    """「王秀英 1101…」「我妈王秀英，身份证号1101…」「1101… 王秀英」「李红 138…」: the name
    written next to an ID number or a phone."""
    written = plain(text)
    if number not in written:  # typed with spaces inside: 「1101 0519…」
        written = written.replace(" ", "")
    before, _, after = written.partition(number)
    runs = _HAN_RUN.findall(_LABELS.sub(" ", before))[-1:] + _HAN_RUN.findall(after)[:1]
    return next((name for run in runs if (name := _as_name(run))), None)


def name_in(text: str) -> str | None:
    """A name written bare among other facts: 「李红 138…」, 「电话138…，李红」."""
    runs = _HAN_RUN.findall(_LABELS.sub(" ", plain(text)))
    return next((name for run in runs if (name := _as_name(run))), None)


def for_whom_words(relation: str | None, person: str | None) -> str:
    """「母亲 王秀英」, 「本人」, or "" when the messenger said nothing of it."""
    if relation == "本人":
        return "本人"
    return " ".join(part for part in (relation, person) if part)

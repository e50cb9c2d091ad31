"""Dialogue stage: the fixed words and patterns the dialogue recognises without the NLU, and
how a numbered choice and a long reply are read and cut.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.dialogue.state import ConversationState
from bot.flows.choice import choice_number
from bot.intents import Intent, guide
from bot.messages import Incoming, Kind
from bot.nlu.matters import EXACT

QUESTION_INTENTS = frozenset(guide.ANSWERS)
MIN_INTENT_CONFIDENCE = 0.35  # below this, with no matter named, the bot did not understand
EXACT_MATTER = EXACT  # a matter named by one of its aliases, word for word
FOLLOWUP_CONFIDENCE = 0.55  # a named matter with a weaker intent repeats the last question
# One of several questions in a message is answered too when read on its own it is this sure
# of what it asks; an unsure one is left to the menu under the answers.
ASK_CONFIDENCE = 0.6
MAX_REPLY_BYTES = 2000  # WeChat takes 2048 bytes in one text reply; keep room for a footer

CANCEL_WORDS = frozenset({"算了", "取消", "不问了", "退出", "不要了", "不办了"})
MORE_WORDS = frozenset({"继续", "下一页", "还有呢", "后面"})
YES_WORDS = frozenset({"是", "是的", "是啊", "对", "对的", "对头", "嗯", "嗯嗯", "好", "好的"})
FOLLOWUP = re.compile(r"^(那|还有|那么)?.{1,14}呢[?？]?$")

MISSING_WORDS = frozenset({"还差什么", "还差啥", "还缺什么", "还缺啥", "还要什么"})
BACK_WORDS = frozenset({"上一步", "返回上一步", "退回", "回到上一步", "上一个"})
SUPPLEMENT_WORDS = frozenset({"补交", "补交材料", "补材料", "补正", "我要补交"})
# Notices: 退订 stops them, 只发短信 sends them by SMS only, 恢复通知 undoes 退订.
NOTICE_WORDS: dict[str, dict[str, Any]] = {"退订": {"opted_out": True}, "TD": {"opted_out": True},
                "不要通知": {"opted_out": True}, "别发通知了": {"opted_out": True},
                "恢复通知": {"opted_out": False, "mode": "wechat_first"},
                "只发短信": {"mode": "sms_only"}, "短信通知我": {"mode": "sms_only"}}
# Answers read aloud (bot/dialogue/aloud.py): the last one now, or every one from now on.
READ_ALOUD_WORDS = frozenset({"念给我听", "念一下", "念念", "念一遍", "读一下", "读给我听",
                              "读一遍", "语音", "发语音", "用语音", "说给我听", "我不识字",
                              "看不懂字", "字看不清"})
VOICE_ON_WORDS = frozenset({"以后都用语音", "以后用语音", "都用语音", "一直用语音", "语音回复",
                            "以后都念给我听", "打开语音"})
VOICE_OFF_WORDS = frozenset({"不要语音", "不用语音", "别发语音", "关闭语音", "不要念了",
                             "只要文字", "以后不用语音"})
CANCEL_HANDOFF_WORDS = frozenset({"取消人工", "不用人工了", "不要人工了", "取消转人工"})
DELETE_WORDS = frozenset({"删除我的信息", "删除我的资料", "注销我的信息", "删除我的个人信息"})
QUESTION = re.compile(r"[吗呢?？]$|怎么|什么|啥|多久|多少|哪里|哪儿|几点|能不能|要不要|带什么")
NO_COMMENT_WORDS = frozenset({"没有", "没", "无", "不用了", "没了"})
MAIN_MENU_WORDS = frozenset({"菜单", "主菜单", "目录", "能办什么", "帮助"})
MY_BOOKINGS_WORDS = frozenset({"我的预约", "查预约", "查看预约", "预约记录", "我约的"})
# A person asked for in so many words, whatever else the message says (「低保咋个突然停了，
# 我想找个工作人员问问」): 首问负责, the request is honoured.
PERSON_WANTED = re.compile(r"转人工|人工(服务|客服)|要人工"
                           r"|找(个|一个|一下)?(工作人员|人工|真人|客服)"
                           r"|(和|跟|同)(工作人员|真人)(说|讲|谈)")
PERSON_DECLINED = re.compile(r"(不|别|无须|无需)(用|要|需要)?(转|找)?(人工|工作人员)")
# what is left of 「我要找人工！」 once the request for a person is taken out
_REQUEST_FILLER = re.compile(r"[\s\W_]|我|要|想|请|帮|给|你|您|们|一下|吧|啊|呀|人工|客服")


def only_asks_for_a_person(text: str) -> bool:
    """「转人工」「我要找人工」: a request for a person and no question besides."""
    return not _REQUEST_FILLER.sub("", PERSON_WANTED.sub("", text))
RECEIPT = re.compile(r"BM\d{6}[2-9A-HJ-NP-Z]{5}")

BOOKING_INTENTS = frozenset({Intent.BOOK_APPOINTMENT, Intent.CANCEL_APPOINTMENT,
                             Intent.BOOK_HOME_VISIT})
# Besides questions, what a choice of matter can be asked for: 「公租房申请了一直没消息」
MATTER_CHOICE_INTENTS = frozenset({Intent.BOOK_APPOINTMENT, Intent.CHECK_PROGRESS})
MEDIA_WORDS = {Kind.IMAGE: "图片", Kind.FILE: "文件"}
KEPT_MEDIA = (Kind.IMAGE, Kind.FILE, Kind.VOICE)  # kept as they arrive: a clerk may open them


def parse_choice(text: str) -> int | None:
    """「1」「１」「1.」「第1个」「第二个」 → the number; anything else → None."""
    return choice_number(text)


def paginate(text: str, limit: int = MAX_REPLY_BYTES) -> list[str]:
    """Split at line breaks so that every page fits `limit` UTF-8 bytes."""
    pages: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pages.append(current)
        while len(line.encode()) > limit:  # one line longer than a page: cut it
            cut = len(line.encode()[:limit].decode(errors="ignore"))
            pages.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        pages.append(current)
    return pages


def command_of(message: Incoming) -> str:
    """The text as a command: full-width folded, trimmed, a final 。 or ！ dropped."""
    return unicodedata.normalize("NFKC", message.text).strip().rstrip("。!！")


def pending_choice(command: str, state: ConversationState) -> int | None:
    """The number answering the numbered choices the bot asked, or 「是」 to its one guess."""
    if not (state.awaiting and state.choices):
        return None
    if command in YES_WORDS and state.awaiting == "matter" and len(state.choices) == 1:
        return 1  # 「您问的是这件事吗？」 「是的」
    return parse_choice(command)

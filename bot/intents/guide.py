"""Dialogue stage: answers to questions about one matter, from the service guide.

Each function turns a catalogue record into the text a villager reads: numbered, complete
(一次性告知), original/copy and count for each material, and plain words for time limits.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.catalogue.center import Center
from bot.catalogue.model import CaseType, Matter
from bot.intents import Intent, texts

CASE_TYPE_WORDS = {
    CaseType.IMMEDIATE: "这是即办件：材料齐全当场办。",
    CaseType.PROMISED: "这是承诺件：窗口收下材料后，在承诺时间内办好。",
    CaseType.JOINT: "这是联办件：一个窗口收材料，几个部门一起办，不用您来回跑。",
    CaseType.REPORTED: "这是上报件：乡镇受理后报县里审批。",
    CaseType.AGENT: "这是代办件：中心帮您把材料送到县里办。",
}

# The follow-up menu under every matter answer: digit → question.
MENU_INTENTS = (
    Intent.ASK_MATERIALS, Intent.ASK_PROCEDURE, Intent.ASK_CONDITIONS,
    Intent.ASK_TIME_LIMIT, Intent.ASK_LOCATION, Intent.ASK_FEE, Intent.APPLY,
    Intent.BOOK_APPOINTMENT,
)


def _numbered(lines: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, start=1))


def materials(matter: Matter, variant_id: str | None, center: Center) -> str:
    variant = matter.variant(variant_id) if variant_id else None
    heading = f"【{matter.name}】要带的材料，请一次带齐"
    if variant:
        heading += f"（情形：{variant.name}）"
    lines = [item.describe() for item in matter.materials_for(variant_id)]
    parts = [heading + "：", _numbered(lines)]
    if variant and variant.note:
        parts.append(variant.note)
    parts.append("证件带原件，复印件要清楚。")
    return "\n".join(parts)


def procedure(matter: Matter, variant_id: str | None, center: Center) -> str:
    return f"【{matter.name}】怎么办：\n{_numbered(matter.procedure)}\n办理地点：{matter.place}"


def conditions(matter: Matter, variant_id: str | None, center: Center) -> str:
    lines = "\n".join(f"· {line}" for line in matter.conditions)
    return f"【{matter.name}】谁能办：\n{lines}"


def time_limit(matter: Matter, variant_id: str | None, center: Center) -> str:
    return (f"【{matter.name}】要多久：{matter.time_limit.describe()}。\n"
            f"{CASE_TYPE_WORDS[matter.case_type]}")


def fee(matter: Matter, variant_id: str | None, center: Center) -> str:
    return f"【{matter.name}】收费：{matter.fee}。"


def location(matter: Matter, variant_id: str | None, center: Center) -> str:
    lines = [f"【{matter.name}】在哪办：{matter.place}", f"窗口：{matter.window}"]
    if matter.agent:
        lines.append("村里的代办员可以帮您代办。")
    if matter.home_visit:
        lines.append("行动不便的，可以申请上门服务。")
    if matter.online:
        lines.append("也可以在网上或手机上办。")
    return "\n".join(lines)


AnswerFn = Callable[[Matter, str | None, Center], str]

ANSWERS: dict[Intent, AnswerFn] = {
    Intent.ASK_MATERIALS: materials,
    Intent.ASK_PROCEDURE: procedure,
    Intent.ASK_CONDITIONS: conditions,
    Intent.ASK_TIME_LIMIT: time_limit,
    Intent.ASK_FEE: fee,
    Intent.ASK_LOCATION: location,
}


def answer(intent: Intent, matter: Matter, variant_id: str | None, center: Center) -> str:
    text = ANSWERS[intent](matter, variant_id, center)
    if matter.to_confirm:
        text += "\n" + texts.TO_CONFIRM.format(phone=center.phone)
    return text


def office_hours(center: Center) -> str:
    hours = center.hours
    lines = [f"{center.name}上班时间：", hours.weekdays, hours.lunch_break]
    lines += [f"延时服务：{item}" for item in hours.extended]
    lines += [f"赶集日：{hours.market_days}", hours.holidays, f"电话：{center.phone}"]
    return "\n".join(lines)


def center_location(center: Center) -> str:
    return f"{center.name}地址：{center.address}\n电话：{center.phone}"

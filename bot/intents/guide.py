"""Dialogue stage: answers to questions about one matter, from the service guide.

Each function turns a catalogue record into the text a villager reads: numbered, complete
(一次性告知), original/copy and count for each material, and plain words for time limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.catalogue.center import Center
from bot.catalogue.model import UNCONFIRMED, CaseType, Handling, Matter, Statement
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


def _numbered(lines: Iterable[object]) -> str:
    return "\n".join(f"{number}. {line}" for number, line in enumerate(lines, start=1))


def stated(statement: Statement) -> str:
    """A stated fact as told, marked 待核实 where the center has still to confirm it."""
    return f"{statement}（{UNCONFIRMED}）" if statement.to_confirm else str(statement)


def not_published(matter: Matter, what: str, center: Center,
                  ask: str = texts.ASK_BEFORE_GOING) -> str:
    """What is known when the guide does not say `what`: who does it, where, whom to call —
    never an invented answer. `ask`: how to ask (on paper, nothing to 「回复」)."""
    lines = [f"【{matter.name}】的{what}，本中心还没有公布。"]
    if matter.handling is Handling.ADVICE:
        lines.append(f"这件事不在本中心办理，请找{matter.department}（{matter.window}）。")
    else:
        lines.append(f"由{matter.department}办理，在本中心{matter.window}问。")
    lines.append(ask.format(phone=center.phone))
    return "\n".join(lines)


def materials(matter: Matter, variant_id: str | None, center: Center) -> str:
    variant = matter.variant(variant_id) if variant_id else None
    items = matter.materials_for(variant_id)
    if not items:
        return not_published(matter, "材料清单", center)
    heading = f"【{matter.name}】要带的材料，请一次带齐"
    if variant:
        heading += f"（情形：{variant.name}）"
    parts = [heading + "：", _numbered(item.describe() for item in items)]
    if variant and variant.note:
        parts.append(variant.note)
    parts.append("证件带原件，复印件要清楚。")
    return "\n".join(parts)


def procedure(matter: Matter, variant_id: str | None, center: Center) -> str:
    if not matter.procedure:
        return not_published(matter, "办理步骤", center)
    steps = _numbered(stated(step) for step in matter.procedure)
    place = f"\n办理地点：{stated(matter.place)}" if matter.place else ""
    return f"【{matter.name}】怎么办：\n{steps}{place}"


def conditions(matter: Matter, variant_id: str | None, center: Center) -> str:
    if not matter.conditions:
        return not_published(matter, "办理条件", center)
    lines = "\n".join(f"· {stated(line)}" for line in matter.conditions)
    return f"【{matter.name}】谁能办：\n{lines}"


def time_limit(matter: Matter, variant_id: str | None, center: Center) -> str:
    if not matter.time_limit:
        return not_published(matter, "办理时限", center)
    flag = f"（{UNCONFIRMED}）" if matter.time_limit.to_confirm else ""
    kind = f"\n{CASE_TYPE_WORDS[matter.case_type]}" if matter.case_type else ""
    return f"【{matter.name}】要多久：{matter.time_limit.describe()}{flag}。{kind}"


def fee(matter: Matter, variant_id: str | None, center: Center) -> str:
    if not matter.fee:
        return not_published(matter, "收费", center)
    return f"【{matter.name}】收费：{stated(matter.fee)}。"


def location(matter: Matter, variant_id: str | None, center: Center) -> str:
    place = stated(matter.place) if matter.place else f"{matter.department}"
    lines = [f"【{matter.name}】在哪办：{place}", f"窗口：{matter.window}"]
    if matter.handling is Handling.ADVICE:
        lines.append("这件事不在本中心办理，本中心可以帮您问清楚。")
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
    if UNCONFIRMED in text:  # a fact the center has still to confirm was told
        text += "\n" + texts.TO_CONFIRM.format(phone=center.phone)
    return text


def progress_unknown(matter: Matter, center: Center) -> str:
    """「公租房申请了一直没消息」 with no case of it on this account: what the guide promises,
    and how the villager finds their case (or whom to ask, for a matter done elsewhere)."""
    lines = [f"没查到您用这个微信号申请的【{matter.name}】。"]
    if matter.time_limit:
        lines.append(answer(Intent.ASK_TIME_LIMIT, matter, None, center))
    if matter.handling is Handling.ADVICE:
        lines.append(f"这件事不在本中心办理，进度请问{matter.department}（{matter.window}）。")
    else:
        lines.append(texts.PROGRESS_HOW)
    lines.append(texts.PROGRESS_ASK_CLERK)
    return "\n".join(lines)


def office_hours(center: Center) -> str:
    hours = center.hours
    lines = [f"{center.name}上班时间：", hours.weekdays, hours.lunch_break]
    lines += [f"延时服务：{item}" for item in hours.extended]
    lines += [f"赶集日：{hours.market_days}", hours.holidays, f"电话：{center.phone}"]
    if center.to_confirm:  # the sample center.yml's evening, Saturday and market-day hours
        lines.append(texts.HOURS_TO_CONFIRM)
    return "\n".join(lines)


def center_location(center: Center) -> str:
    return f"{center.name}地址：{center.address}\n电话：{center.phone}"

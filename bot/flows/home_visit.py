"""Dialogue stage: the home-visit flow (上门服务) for the elderly, disabled and ill.

A form, like Rasa's: the slots below are asked in this order, but every message (the first
one, that started the flow, included) fills any slot it carries (bot/flows/facts.py), and only
what is still missing is asked:

    WHO (myself / a family member: the relation) ─→ REASON (age ≥ the threshold, disability,
    illness) ─→ PERSON (name and ID number; the age is checked from it) ─→ PURPOSE (unless
    the matter is known; numbered from booking.yml, or said) ─→ ADDRESS (a village by number,
    text, or a WeChat location checked against the service area) ─→ GROUP (a village picked
    by number: which 组; 「不知道」 leaves the village, as a typed 「石桥村」 does) ─→ VILLAGE
    (numbered, when no village is named) ─→ PHONE ─→ TIMES (the agent's free
    half-days, several may be chosen) ─→ CONFIRM ─→ 1 request ─→ END: who covers the village
    and that they will confirm the time

「我娘王秀英88了，身份证…，电话…，石桥村」 goes straight to TIMES. At CONFIRM a message that
carries a fact corrects it (「电话错了，是139…」) and the summary is shown again. The agent
covering the village schedules it from the clerk API; the villager is told.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any

from bot.appointments.bookings import BookingError
from bot.appointments.home_visits import HalfDay, NewHomeVisit
from bot.cases.identity import (
    age_on,
    id_number_problem,
    mask_id_number,
    mask_phone,
    normalize,
    phone_problem,
)
from bot.catalogue.model import Matter
from bot.flows import END, FlowContext, Slots, Step, StepFn
from bot.flows.booking import Appointments
from bot.flows.choice import choice_number
from bot.flows.facts import Facts, facts_in, looks_like_name, name_beside, sender_phone
from bot.messages import Kind

FLOW_NAME = "home_visit"


class VisitState(StrEnum):
    WHO = "who"
    REASON = "reason"
    PERSON = "person"
    PURPOSE = "purpose"
    ADDRESS = "address"
    GROUP = "group"
    VILLAGE = "village"
    PHONE = "phone"
    TIMES = "times"
    CONFIRM = "confirm"


REASONS = {1: "age", 2: "disability", 3: "illness"}
REASON_WORDS = {"age": "高龄", "disability": "残疾", "illness": "生病或行动不便"}
ASK_WHO = "申请上门服务，给谁申请？\n1. 我自己\n2. 家里人（老人、病人）"
ASK_REASON = ("为什么不方便到中心办？\n1. 年满{age}岁的老人\n2. 残疾人\n"
              "3. 生病或行动不便")
ASK_PERSON = "请发{who}的姓名和身份证号，比如：张秀英 110101193805120023"
ASK_PURPOSE = "上门帮办什么事？回复数字，或直接说：\n{options}"
ASK_ADDRESS = ("住在哪个村？回复数字，或写村名和组（比如：石桥村3组），也可以点“+”发送位置：\n"
               "{options}")
ASK_GROUP = "{village}几组？回复数字；不知道就回复“不知道”。"
BAD_GROUP = "请回复几组的数字，比如 3；不知道就回复“不知道”。"
DONT_KNOW = ("不知道", "不清楚", "不太清楚", "不记得", "记不清", "忘了", "没有组", "没组")
ASK_VILLAGE = "是哪个村（社区）？回复数字：\n{options}"
ASK_PHONE = "联系电话？上门前会先打这个电话。"
ASK_TIMES = ("哪些时间家里有人？可以选几个，比如“1 3”：\n{options}")
NO_TIMES = "最近几天的上门都排满了，工作人员会打电话和您约时间。"
TOO_YOUNG = ("按身份证，{name}今年{age}岁，高龄上门服务是给{minimum}岁以上老人的。"
             "如果是残疾或行动不便，请回复 2 或 3；不然可以请村代办员帮忙办。")
TOO_FAR = ("这个位置离中心约{km:.0f}公里，超出本中心上门服务范围（{radius:.0f}公里）。"
           "请发文字地址，或联系当地便民服务中心。")
CONFIRM = ("请核对上门服务申请：\n对象：{name}（{id_number}），{reason}{age}\n"
           "办什么：{purpose}\n地址：{address}\n电话：{phone}\n方便的时间：{times}\n"
           "回复 1 提交，2 重新填写。")
REQUESTED = ("上门服务申请已提交，编号：{number}\n负责{village}的是{role}{agent}，"
             "会尽快确认上门时间，确认后通知您。\n发“我的预约”可以查看。")
_NUMBERS = re.compile(r"\d{1,2}")
Context = FlowContext[Appointments]


async def start(ctx: Context) -> Step:
    """The first message may already say for whom, why, who, where and which phone: all of
    it is taken, and only what is missing is asked."""
    matter_id = ctx.slots.get("matter")
    slots: dict[str, Any] = {"matter": matter_id, "draft": secrets.token_hex(8),
                             "phone": sender_phone(ctx.message)}
    if matter_id is not None and (matter := ctx.catalogue.get(matter_id)) is not None:
        slots["purpose"] = matter.short_name
    return await _advance(replace(ctx, slots=slots), None)


def _reason_prompt(ctx: Context) -> str:
    return ASK_REASON.format(age=ctx.services.visits.rules.min_age)


def _person_prompt(slots: Slots) -> str:
    return ASK_PERSON.format(who="您" if slots.get("for_self") else "需要上门的那位")


def _numbered(names: list[str]) -> str:
    return "\n".join(f"{n}. {name}" for n, name in enumerate(names, 1))


def _village_prompt(ctx: Context, question: str = ASK_VILLAGE) -> str:
    return question.format(options=_numbered(ctx.services.visits.rules.villages()))


def _purposes(ctx: Context) -> list[Matter]:
    """The matters 「上门帮办什么事？」 offers by number (booking.yml), as the catalogue is."""
    return [m for matter_id in ctx.services.visits.rules.purposes
            if (m := ctx.catalogue.get(matter_id)) is not None]


# The slots in the order they are asked, each with whether it is still missing.
MISSING: tuple[tuple[VisitState, Callable[[Slots], bool]], ...] = (
    (VisitState.WHO, lambda s: s.get("for_self") is None),
    (VisitState.REASON, lambda s: s.get("reason") is None),
    (VisitState.PERSON, lambda s: not (s.get("name") and s.get("id_number"))),
    (VisitState.PURPOSE, lambda s: not s.get("purpose")),
    (VisitState.ADDRESS, lambda s: not s.get("address")),
    (VisitState.GROUP, lambda s: bool(s.get("ask_group"))),
    (VisitState.VILLAGE, lambda s: not s.get("village")),
    (VisitState.PHONE, lambda s: not s.get("phone")),
    (VisitState.TIMES, lambda s: s.get("preferred") is None),
)


async def _advance(ctx: Context, current: VisitState | None) -> Step:
    """Take what the message says, then ask for the first thing still missing."""
    slots, notes = dict(ctx.slots), []
    if current is not None:
        notes = _absorb(ctx, slots, current)
    elif ctx.message.text:
        notes = _absorb(ctx, slots, None)
    wanted = next((state for state, missing in MISSING if missing(slots)), VisitState.CONFIRM)
    if wanted is VisitState.TIMES and slots.get("offered") is None:
        prompt, offered = await _times_prompt(ctx, slots["village"])
        slots["offered"] = offered
        if not offered:  # nothing free: a clerk will phone
            slots["preferred"] = []
            return Step((*notes, prompt, _summary(slots)), VisitState.CONFIRM, slots)
        return Step((*notes, prompt), VisitState.TIMES, slots)
    return Step((*notes, _prompt(wanted, ctx, slots)), wanted, slots)


def _prompt(state: VisitState, ctx: Context, slots: Slots) -> str:
    if state is VisitState.REASON:
        return _reason_prompt(ctx)
    if state is VisitState.PERSON:
        if slots.get("name"):  # half of it told: only the other half is asked
            return f"已记下姓名{slots['name']}，请再发身份证号。"
        if slots.get("id_number"):
            return "已记下身份证号，请再发姓名。"
        return _person_prompt(slots)
    if state is VisitState.VILLAGE:
        return _village_prompt(ctx)
    if state is VisitState.ADDRESS:
        return _village_prompt(ctx, ASK_ADDRESS)
    if state is VisitState.GROUP:
        return ASK_GROUP.format(village=slots["village"])
    if state is VisitState.PURPOSE:
        return ASK_PURPOSE.format(options=_numbered([m.short_name for m in _purposes(ctx)]))
    if state is VisitState.TIMES:
        return _times_options(slots["offered"])
    if state is VisitState.CONFIRM:
        return _summary(slots)
    return PROMPTS[state]


def _times_options(offered: list[str]) -> str:
    return ASK_TIMES.format(options="\n".join(
        f"{n}. {HalfDay.parse(key).label}" for n, key in enumerate(offered, 1)))


def _absorb(ctx: Context, slots: dict[str, Any], current: VisitState | None) -> list[str]:
    """Every fact of the message into the slots; what was wrong with any, in words."""
    message, rules = ctx.message, ctx.services.visits.rules
    text = message.text or ""
    found = facts_in(text, tuple(rules.villages()))
    notes: list[str] = []
    if found.relation is not None:
        slots["for_self"], slots["relation"] = found.for_self, found.relation
    notes += _take_person(ctx, slots, found, text)
    if slots.get("reason") is None:
        slots["reason"] = _reason_from(found, slots, rules.min_age)
    if not slots.get("purpose") or current is VisitState.CONFIRM:
        matter = next((m for m in ctx.catalogue
                       if any(form in text for form in m.surface_forms())), None)
        if matter is not None:
            slots["purpose"], slots["matter"] = matter.short_name, matter.id
    if found.phone:
        slots["phone"] = normalize(found.phone)
    if found.village:
        address, named_before = slots.get("address") or "", slots.get("village")
        # The address follows a village named anew where it was only a village and 组: the
        # visit goes to the new village's agent, the summary must say the same place.
        anew = found.village != named_before or found.group is not None
        if not address or current in (VisitState.GROUP, VisitState.CONFIRM) \
                or (named_before and address.startswith(named_before) and anew):
            slots["address"] = found.village + (found.group or "")
            slots["ask_group"] = None  # typed: its 组 is what was typed, none is asked
        slots["village"] = found.village
    elif found.group and slots.get("village") and current is VisitState.CONFIRM:
        slots["address"] = slots["village"] + found.group  # 「组错了，是5组」
    if current is not None:
        notes += _answer(ctx, slots, current, found)
    return notes


def _take_person(ctx: Context, slots: dict[str, Any], found: Facts,
                 text: str) -> list[str]:
    if found.id_number:  # the name beside it is kept even when the number is wrong
        slots["name"] = found.name or name_beside(text, found.id_number) or slots.get("name")
        problem = id_number_problem(found.id_number)
        if problem:
            return [problem]
        slots["id_number"] = normalize(found.id_number)
        slots["age"] = age_on(slots["id_number"], ctx.services.bookings.today())
    elif found.name:
        slots["name"] = found.name
    if found.age is not None and slots.get("age") is None:
        slots["stated_age"] = found.age
    minimum = ctx.services.visits.rules.min_age
    if slots.get("reason") == "age" and slots.get("age") is not None \
            and slots["age"] < minimum:
        slots["reason"] = None
        return [TOO_YOUNG.format(name=slots.get("name") or "这位", age=slots["age"],
                                 minimum=minimum)]
    return []


def _reason_from(found: Facts, slots: Slots, minimum: int) -> str | None:
    """「走不动」「坐轮椅」「88了」: why the person cannot come, where the message says."""
    age = slots.get("age") or slots.get("stated_age") or 0
    if found.disabled:
        return "disability"
    if age >= minimum:
        return "age"
    return "illness" if found.ill else None


def _answer(ctx: Context, slots: dict[str, Any], current: VisitState,
            found: Facts) -> list[str]:
    """The bare answer to the question asked: a digit, a name, a free-text address."""
    text = unicodedata.normalize("NFKC", ctx.message.text or "").strip()
    choice = choice_number(text)
    if current is VisitState.WHO and choice in (1, 2):
        slots["for_self"] = choice == 1
    elif current is VisitState.REASON and choice in REASONS:
        slots["reason"] = REASONS[choice]
        return _take_person(ctx, slots, Facts(), text)
    elif current is VisitState.PERSON and looks_like_name(text):
        slots["name"] = text
    elif current in PICKED_BY_NUMBER and choice is not None:
        return _picked(ctx, slots, current, choice)
    elif current is VisitState.PURPOSE and not slots.get("purpose") and 2 <= len(text) <= 100:
        slots["purpose"] = text
    elif current is VisitState.ADDRESS:
        return _address(ctx, slots, text)
    elif current is VisitState.GROUP:
        return _group(slots, text, found)
    elif current is VisitState.PHONE and not found.phone:
        return [phone_problem(text) or "电话号码不对。"]
    elif current is VisitState.TIMES:
        return _times(slots, text)
    return []


PICKED_BY_NUMBER = frozenset({VisitState.PURPOSE, VisitState.ADDRESS, VisitState.VILLAGE})


def _picked(ctx: Context, slots: dict[str, Any], current: VisitState, choice: int) -> list[str]:
    """A matter or a village chosen by number (the address is then the village)."""
    if current is VisitState.PURPOSE:
        offered = _purposes(ctx)
        if not 1 <= choice <= len(offered):
            return ["没有这个选项。"]
        slots["purpose"], slots["matter"] = offered[choice - 1].short_name, offered[choice - 1].id
        return []
    villages = ctx.services.visits.rules.villages()
    if not 1 <= choice <= len(villages):
        return ["没有这个村。"]
    slots["village"] = villages[choice - 1]
    if current is VisitState.ADDRESS:  # a number names the village only, 「石桥村3组」 its 组 too
        slots["address"] = slots["village"]
        if slots["village"].endswith("村"):  # a 社区 has none
            slots["ask_group"] = True
    return []


def _group(slots: dict[str, Any], text: str, found: Facts) -> list[str]:
    """Which 组 of the village picked by number: 「3」, 「3组」, or 「不知道」."""
    if found.village:  # another village typed instead: the address was taken with it
        return []
    choice = choice_number(text)
    group = found.group or (f"{choice}组" if choice else None)
    if group is None and not any(word in text for word in DONT_KNOW):
        return [BAD_GROUP]
    slots["ask_group"] = False
    slots["address"] = slots["village"] + (group or "")
    return []


def _address(ctx: Context, slots: dict[str, Any], text: str) -> list[str]:
    rules, message = ctx.services.visits.rules, ctx.message
    if message.kind is Kind.LOCATION and message.location is not None:
        spot = message.location
        km = rules.distance_km(spot.latitude, spot.longitude)
        if km > rules.radius_km:
            return [TOO_FAR.format(km=km, radius=rules.radius_km)]
        slots.update(address=spot.label or f"位置 {spot.latitude:.5f},{spot.longitude:.5f}",
                     latitude=spot.latitude, longitude=spot.longitude)
    elif not slots.get("address") and 2 <= len(text) <= 100:
        slots["address"] = text
    if slots.get("address") and not slots.get("village"):
        slots["village"] = next((v for v in rules.villages() if v in slots["address"]), None)
    return []


def _times(slots: dict[str, Any], text: str) -> list[str]:
    offered = slots.get("offered") or []
    numbers = [int(n) for n in _NUMBERS.findall(text)]
    if not numbers or not all(1 <= n <= len(offered) for n in numbers):
        return [f"请回复 1 到 {len(offered)} 的数字，可以选几个，比如“1 3”。"]
    slots["preferred"] = [offered[n - 1] for n in dict.fromkeys(numbers)]
    return []


async def _times_prompt(ctx: Context, village: str) -> tuple[str, list[str]]:
    desk = ctx.services
    agent = desk.visits.rules.agent_for(village)
    halves = await desk.visits.half_days(agent) if agent else []
    if not halves:
        return NO_TIMES, []
    offered = [h.key for h in halves]
    return _times_options(offered), offered


def _summary(slots: Slots) -> str:
    times = "、".join(HalfDay.parse(k).label for k in slots["preferred"]) or "等工作人员电话约"
    age = f"，{slots['age']}岁" if slots.get("age") is not None else ""
    return CONFIRM.format(name=slots["name"], id_number=mask_id_number(slots["id_number"]),
                          reason=REASON_WORDS[slots["reason"]], age=age,
                          purpose=slots["purpose"], address=slots["address"],
                          phone=mask_phone(slots["phone"]), times=times)


async def confirm(ctx: Context) -> Step:
    choice, slots, desk = choice_number(ctx.message.text), ctx.slots, ctx.services
    if choice == 2:
        return Step(("好的，重新填写。", ASK_WHO), VisitState.WHO,
                    {key: None for key in slots} | {"draft": secrets.token_hex(8)})
    if choice != 1:  # 「电话错了，是139…」: corrected, and shown again
        return await _advance(ctx, VisitState.CONFIRM)
    try:
        visit = await desk.visits.request(NewHomeVisit(
            user_id=ctx.message.user_id, channel=ctx.message.channel.value,
            person_name=slots["name"], id_number=slots["id_number"],
            for_self=bool(slots["for_self"]), reason=slots["reason"], age=slots.get("age"),
            matter_id=slots.get("matter"), purpose=slots["purpose"],
            village=slots["village"], address=slots["address"], phone=slots["phone"],
            preferred=tuple(slots["preferred"]), key=slots["draft"],
            latitude=slots.get("latitude"), longitude=slots.get("longitude"),
            relation=slots.get("relation") or ("本人" if slots["for_self"] else None)))
    except BookingError as refused:
        return Step((str(refused),), END)
    agent = desk.visits.rules.agent(visit.agent_id)
    assert agent is not None
    return Step((REQUESTED.format(number=visit.visit_no, village=visit.village,
                                  role=agent.role, agent=agent.name),), END)


def _step(state: VisitState) -> StepFn[Appointments]:
    async def step(ctx: Context) -> Step:
        return await _advance(ctx, state)
    return step


STEPS: dict[str, StepFn[Appointments]] = {state: _step(state) for state, _ in MISSING}
STEPS[VisitState.CONFIRM] = confirm
PROMPTS = {VisitState.WHO: ASK_WHO, VisitState.PHONE: ASK_PHONE}


def looks_like_answer(current: str, kind: Kind, text: str) -> bool:
    """Whether a message answers (else it is a side question): it carries a fact, or has the
    form the question asked for; a question carrying no number is asked of the bot."""
    state = VisitState(current)
    if kind is Kind.LOCATION:
        return state is VisitState.ADDRESS
    if kind is not Kind.TEXT:
        return False
    plain_text = unicodedata.normalize("NFKC", text).strip()
    found = facts_in(plain_text)
    numbers = bool(found.id_number or found.phone)
    if plain_text.endswith(("吗", "?", "？", "呢")) and not numbers:
        return False
    if numbers or found.relation or found.age or found.disabled or found.ill or found.name \
            or "村" in plain_text or "社区" in plain_text:
        return True
    if state in (VisitState.ADDRESS, VisitState.PURPOSE):
        return True
    if state is VisitState.PERSON:
        return looks_like_name(plain_text)
    if state is VisitState.GROUP and (found.group or found.village
                                      or any(w in plain_text for w in DONT_KNOW)):
        return True
    return choice_number(plain_text) is not None or any(c.isdigit() for c in plain_text)


def prompt_again(current: str, ctx: Context) -> str:
    """The question to repeat after a side question."""
    return _prompt(VisitState(current), ctx, ctx.slots)


# What each question's answer fills, for 「上一步」.
ANSWERED_BY = {
    VisitState.WHO: ("for_self", "relation"), VisitState.REASON: ("reason",),
    VisitState.PERSON: ("name", "id_number", "age", "stated_age"),
    VisitState.PURPOSE: ("purpose", "matter"),
    VisitState.ADDRESS: ("address", "village", "latitude", "longitude", "ask_group"),
    VisitState.GROUP: ("ask_group",),
    VisitState.VILLAGE: ("village",), VisitState.PHONE: ("phone",),
    VisitState.TIMES: ("preferred",),
}


def step_back(current: str, slots: Slots) -> tuple[str, dict[str, Any]] | None:
    """「上一步」: the last thing told is asked again (the times from the same list)."""
    order = [*ANSWERED_BY, VisitState.CONFIRM]
    for state in reversed(order[:order.index(VisitState(current))]):
        keys = ANSWERED_BY[state]
        if state is VisitState.TIMES and not slots.get("offered"):
            continue  # none were free: nothing was chosen
        if state is VisitState.VILLAGE and slots.get("village") \
                and slots["village"] in (slots.get("address") or ""):
            continue  # the address named it: the village was never asked on its own
        if state is VisitState.GROUP:
            if slots.get("ask_group") is False:  # asked and answered: ask it again
                return state, {"ask_group": True, "address": slots["village"]}
            continue
        if slots.get(keys[0]) is not None:
            return state, dict.fromkeys(keys)
    return None


def remaining(slots: Slots) -> str:
    """「还差什么」: what is still to be told."""
    needed = [("reason", "原因"), ("name", "姓名和身份证号"), ("address", "地址"),
              ("phone", "电话"), ("preferred", "方便的时间")]
    left = [word for key, word in needed if slots.get(key) is None]
    return "还差：" + "、".join(left) if left else "都填好了，回复 1 提交。"

"""Dialogue stage: the home-visit flow (上门服务) for the elderly, disabled and ill.

    book_home_visit ─→ WHO (myself / a family member) ─→ REASON (age ≥ the threshold,
        disability, illness) ─→ PERSON (name and ID number; the age is checked from it)
        ─→ [PURPOSE, unless the matter is known] ─→ ADDRESS (text, or a WeChat location,
        checked against the service area) ─→ [VILLAGE, numbered, when no village is named]
        ─→ PHONE ─→ TIMES (the agent's free half-days, several may be chosen) ─→ CONFIRM
        ─→ 1 request ─→ END: who covers the village and that they will confirm the time

The agent covering the village schedules it from the clerk API; the villager is told.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from enum import StrEnum
from typing import Any

from bot.appointments.home_visits import HalfDay, NewHomeVisit
from bot.appointments.service import BookingError
from bot.cases.identity import (
    age_on,
    id_number_problem,
    mask_id_number,
    mask_phone,
    normalize,
    phone_problem,
)
from bot.flows import END, FlowContext, Step, StepFn
from bot.flows.booking import Appointments
from bot.messages import Kind

FLOW_NAME = "home_visit"


class VisitState(StrEnum):
    WHO = "who"
    REASON = "reason"
    PERSON = "person"
    PURPOSE = "purpose"
    ADDRESS = "address"
    VILLAGE = "village"
    PHONE = "phone"
    TIMES = "times"
    CONFIRM = "confirm"


REASONS = {"1": "age", "2": "disability", "3": "illness"}
REASON_WORDS = {"age": "高龄", "disability": "残疾", "illness": "生病或行动不便"}
ASK_WHO = "申请上门服务，给谁申请？\n1. 我自己\n2. 家里人（老人、病人）"
ASK_REASON = ("为什么不方便到中心办？\n1. 年满{age}岁的老人\n2. 残疾人\n"
              "3. 生病或行动不便")
ASK_PERSON = "请发{who}的姓名和身份证号，比如：张秀英 110101193805120023"
ASK_PURPOSE = "上门帮办什么事？比如：高龄补贴、养老认证、残疾证。"
ASK_ADDRESS = "住在哪里？请写村名和组，比如：石桥村3组；也可以点“+”发送位置。"
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
_NAME = re.compile(r"[\u4e00-\u9fff·]{2,10}")
_ID = re.compile(r"\d{17}[\dXx]")
_NUMBERS = re.compile(r"\d{1,2}")


def _desk(ctx: FlowContext) -> Appointments:
    desk: Appointments = ctx.services
    return desk


def _digit(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().rstrip(".、。")


def start(matter_id: str | None) -> Step:
    return Step((ASK_WHO,), VisitState.WHO,
                {"matter": matter_id, "draft": secrets.token_hex(8)})


def _reason_prompt(ctx: FlowContext) -> str:
    return ASK_REASON.format(age=_desk(ctx).visits.rules.min_age)


async def ask_who(ctx: FlowContext) -> Step:
    choice = _digit(ctx.message.text)
    if choice not in ("1", "2"):
        return Step(("请回复 1 或 2。", ASK_WHO), VisitState.WHO)
    return Step((_reason_prompt(ctx),), VisitState.REASON, {"for_self": choice == "1"})


async def ask_reason(ctx: FlowContext) -> Step:
    reason = REASONS.get(_digit(ctx.message.text))
    if reason is None:
        return Step(("请回复 1、2 或 3。", _reason_prompt(ctx)), VisitState.REASON)
    return Step((_person_prompt(ctx.slots),), VisitState.PERSON, {"reason": reason})


def _person_prompt(slots: Any) -> str:
    return ASK_PERSON.format(who="您" if slots.get("for_self") else "需要上门的那位")


async def ask_person(ctx: FlowContext) -> Step:
    text = unicodedata.normalize("NFKC", ctx.message.text)
    name, number = _NAME.search(text), _ID.search(text.replace(" ", ""))
    if name is None or number is None:
        what = "姓名" if name is None else "身份证号"
        return Step((f"没看到{what}。", _person_prompt(ctx.slots)), VisitState.PERSON)
    problem = id_number_problem(number.group())
    if problem:
        return Step((problem,), VisitState.PERSON)
    id_number = normalize(number.group())
    desk = _desk(ctx)
    age = age_on(id_number, desk.bookings.today())
    minimum = desk.visits.rules.min_age
    if ctx.slots["reason"] == "age" and age < minimum:
        return Step((TOO_YOUNG.format(name=name.group(), age=age, minimum=minimum),),
                    VisitState.REASON)
    slots = {"name": name.group(), "id_number": id_number, "age": age}
    matter = ctx.catalogue.get(ctx.slots.get("matter") or "")
    if matter is not None:
        return Step((ASK_ADDRESS,), VisitState.ADDRESS, {**slots, "purpose": matter.short_name})
    return Step((ASK_PURPOSE,), VisitState.PURPOSE, slots)


async def ask_purpose(ctx: FlowContext) -> Step:
    purpose = unicodedata.normalize("NFKC", ctx.message.text).strip()
    if not 2 <= len(purpose) <= 100:
        return Step((ASK_PURPOSE,), VisitState.PURPOSE)
    matter = next((m for m in ctx.catalogue
                   if any(form in purpose for form in m.surface_forms())), None)
    return Step((ASK_ADDRESS,), VisitState.ADDRESS,
                {"purpose": purpose, "matter": matter.id if matter else None})


def _village_prompt(ctx: FlowContext) -> str:
    villages = _desk(ctx).visits.rules.villages()
    return ASK_VILLAGE.format(options="\n".join(f"{n}. {v}" for n, v in enumerate(villages, 1)))


async def ask_address(ctx: FlowContext) -> Step:
    rules, message = _desk(ctx).visits.rules, ctx.message
    if message.kind is Kind.LOCATION and message.location is not None:
        spot = message.location
        km = rules.distance_km(spot.latitude, spot.longitude)
        if km > rules.radius_km:
            return Step((TOO_FAR.format(km=km, radius=rules.radius_km),), VisitState.ADDRESS)
        address = spot.label or f"位置 {spot.latitude:.5f},{spot.longitude:.5f}"
        slots: dict[str, Any] = {"address": address, "latitude": spot.latitude,
                                 "longitude": spot.longitude}
    else:
        address = unicodedata.normalize("NFKC", message.text).strip()
        if not 2 <= len(address) <= 100:
            return Step((ASK_ADDRESS,), VisitState.ADDRESS)
        slots = {"address": address}
    village = next((v for v in rules.villages() if v in address), None)
    if village is None:
        return Step((_village_prompt(ctx),), VisitState.VILLAGE, slots)
    return Step((ASK_PHONE,), VisitState.PHONE, {**slots, "village": village})


async def ask_village(ctx: FlowContext) -> Step:
    villages = _desk(ctx).visits.rules.villages()
    choice = _digit(ctx.message.text)
    named = next((v for v in villages if v in ctx.message.text), None)
    if choice.isdigit() and 1 <= int(choice) <= len(villages):
        named = villages[int(choice) - 1]
    if named is None:
        return Step(("没有这个村。", _village_prompt(ctx)), VisitState.VILLAGE)
    return Step((ASK_PHONE,), VisitState.PHONE, {"village": named})


async def _times_prompt(ctx: FlowContext, village: str) -> tuple[str, list[str]]:
    desk = _desk(ctx)
    agent = desk.visits.rules.agent_for(village)
    halves = await desk.visits.half_days(agent) if agent else []
    if not halves:
        return NO_TIMES, []
    options = "\n".join(f"{n}. {h.label}" for n, h in enumerate(halves, 1))
    return ASK_TIMES.format(options=options), [h.key for h in halves]


async def ask_phone(ctx: FlowContext) -> Step:
    problem = phone_problem(ctx.message.text)
    if problem:
        return Step((problem, ASK_PHONE), VisitState.PHONE)
    slots = {**ctx.slots, "phone": normalize(ctx.message.text)}
    prompt, offered = await _times_prompt(ctx, slots["village"])
    if not offered:
        slots["preferred"] = []
        return Step((prompt, _summary(slots)), VisitState.CONFIRM,
                    {"phone": slots["phone"], "preferred": []})
    return Step((prompt,), VisitState.TIMES, {"phone": slots["phone"], "offered": offered})


async def ask_times(ctx: FlowContext) -> Step:
    offered = ctx.slots["offered"]
    numbers = [int(n) for n in _NUMBERS.findall(unicodedata.normalize("NFKC",
                                                                      ctx.message.text))]
    if not numbers or not all(1 <= n <= len(offered) for n in numbers):
        return Step((f"请回复 1 到 {len(offered)} 的数字，可以选几个，比如“1 3”。",),
                    VisitState.TIMES)
    preferred = [offered[n - 1] for n in dict.fromkeys(numbers)]
    return Step((_summary({**ctx.slots, "preferred": preferred}),), VisitState.CONFIRM,
                {"preferred": preferred})


def _summary(slots: Any) -> str:
    times = "、".join(HalfDay.parse(k).label for k in slots["preferred"]) or "等工作人员电话约"
    age = f"，{slots['age']}岁" if slots.get("age") is not None else ""
    return CONFIRM.format(name=slots["name"], id_number=mask_id_number(slots["id_number"]),
                          reason=REASON_WORDS[slots["reason"]], age=age,
                          purpose=slots["purpose"], address=slots["address"],
                          phone=mask_phone(slots["phone"]), times=times)


async def confirm(ctx: FlowContext) -> Step:
    choice, slots, desk = _digit(ctx.message.text), ctx.slots, _desk(ctx)
    if choice == "2":
        return Step(("好的，重新填写。", ASK_WHO), VisitState.WHO,
                    {"draft": secrets.token_hex(8)})
    if choice != "1":
        return Step(("请回复 1 或 2。",), VisitState.CONFIRM)
    try:
        visit = await desk.visits.request(NewHomeVisit(
            user_id=ctx.message.user_id, channel=ctx.message.channel.value,
            person_name=slots["name"], id_number=slots["id_number"],
            for_self=bool(slots["for_self"]), reason=slots["reason"], age=slots.get("age"),
            matter_id=slots.get("matter"), purpose=slots["purpose"],
            village=slots["village"], address=slots["address"], phone=slots["phone"],
            preferred=tuple(slots["preferred"]), key=slots["draft"],
            latitude=slots.get("latitude"), longitude=slots.get("longitude")))
    except BookingError as refused:
        return Step((str(refused),), END)
    agent = desk.visits.rules.agent(visit.agent_id)
    assert agent is not None
    return Step((REQUESTED.format(number=visit.visit_no, village=visit.village,
                                  role=agent.role, agent=agent.name),), END)


STEPS: dict[str, StepFn] = {
    VisitState.WHO: ask_who,
    VisitState.REASON: ask_reason,
    VisitState.PERSON: ask_person,
    VisitState.PURPOSE: ask_purpose,
    VisitState.ADDRESS: ask_address,
    VisitState.VILLAGE: ask_village,
    VisitState.PHONE: ask_phone,
    VisitState.TIMES: ask_times,
    VisitState.CONFIRM: confirm,
}
PROMPTS = {VisitState.WHO: ASK_WHO, VisitState.PURPOSE: ASK_PURPOSE,
           VisitState.ADDRESS: ASK_ADDRESS, VisitState.PHONE: ASK_PHONE}


def looks_like_answer(current: str, kind: Kind, text: str) -> bool:
    """Whether a message answers the current question (else it is a side question)."""
    state = VisitState(current)
    if state is VisitState.ADDRESS:
        return kind is Kind.LOCATION or (kind is Kind.TEXT and not text.strip().endswith(
            ("吗", "?", "？", "呢")))
    if kind is not Kind.TEXT:
        return False
    if state in (VisitState.PERSON, VisitState.PHONE, VisitState.TIMES):
        return any(char.isdigit() for char in unicodedata.normalize("NFKC", text))
    if state is VisitState.PURPOSE:
        return not text.strip().endswith(("吗", "?", "？", "呢"))
    if state is VisitState.VILLAGE:
        return _digit(text).isdigit() or "村" in text or "社区" in text
    return _digit(text).isdigit()


def prompt_again(current: str, slots: dict[str, Any], ctx: FlowContext) -> str:
    state = VisitState(current)
    if state is VisitState.REASON:
        return _reason_prompt(ctx)
    if state is VisitState.PERSON:
        return _person_prompt(slots)
    if state is VisitState.VILLAGE:
        return _village_prompt(ctx)
    if state is VisitState.TIMES:
        options = "\n".join(f"{n}. {HalfDay.parse(k).label}"
                            for n, k in enumerate(slots["offered"], 1))
        return ASK_TIMES.format(options=options)
    if state is VisitState.CONFIRM:
        return _summary(slots)
    return PROMPTS[state]


def remaining(slots: dict[str, Any]) -> str:
    """「还差什么」: what is still to be told."""
    needed = [("reason", "原因"), ("name", "姓名和身份证号"), ("address", "地址"),
              ("phone", "电话"), ("preferred", "方便的时间")]
    left = [word for key, word in needed if slots.get(key) is None]
    return "还差：" + "、".join(left) if left else "都填好了，回复 1 提交。"

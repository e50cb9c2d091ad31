"""Dialogue stage: the application flow — apply from the phone, photos of the papers in chat.

    start ─→ [VARIANT] ─→ WHO ─┬─ for myself ─────────────┐
                               └─ for someone (代办) ─→ AGENT_NAME
          ─→ NAME ─→ ID_NUMBER ─→ PHONE ─→ VILLAGE ─→ [CONSENT: a registered agent filing
             for a villager ─┬─ 1 a code by SMS to the applicant ─→ CONSENT_CODE ─┐
                             └─ 2 no phone: the signed 授权委托书 ─→ CONSENT_LETTER ─┘]
          ─→ MATERIALS (one item at a time:
             a photo/file, 1 到窗口再交, 2 没有; a photo the check faults waits for
             1 重拍 2 就用这张, bot/flows/papers.py) ─→ CONFIRM ─→ 1 submit ─→ END (receipt)
                                                                  2 start the answers again

A bound agent (bot/agents) is not asked their name, and is offered their own villages; a
family member applying for someone sends the 授权委托书 among the materials instead.
Each answer is validated where it is given (ID check digit, phone format) and asked again
with the reason. 「算了」, 「还差什么」 and side questions are the dialogue manager's; the draft
is the flow's slots, kept with the conversation for days, and resumes where it stopped.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from enum import StrEnum
from typing import Any, Protocol

from bot.agents.consent import ConsentCheck
from bot.agents.service import AgentCard
from bot.cases.application import MaterialItem, NewCase, Receipt
from bot.cases.identity import (
    id_number_problem,
    mask_id_number,
    mask_phone,
    normalize,
    phone_problem,
)
from bot.catalogue.model import Matter
from bot.flows import END, FlowContext, Slots, Step, StepFn, papers
from bot.flows.choice import choice_number
from bot.flows.facts import facts_in, looks_like_name, name_beside, sender_phone, village_in
from bot.flows.papers import PaperServices
from bot.messages import Kind

FLOW_NAME = "apply"


class ApplyState(StrEnum):
    VARIANT = "variant"
    WHO = "who"
    AGENT_NAME = "agent_name"
    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    VILLAGE = "village"
    CONSENT = "consent"
    CONSENT_CODE = "consent_code"
    CONSENT_LETTER = "consent_letter"
    MATERIALS = "materials"
    CONFIRM = "confirm"


class ApplyServices(PaperServices, Protocol):
    async def submit(self, application: NewCase) -> Receipt: ...

    def villages(self) -> tuple[str, ...]: ...  # offered by number for 「住哪个村」

    def center_phone(self) -> str: ...  # where a refusal says whom to ask

    async def agent_of(self, user_id: str) -> AgentCard | None: ...  # a bound 代办员

    async def ask_consent(self, draft: str, *, phone: str, person: str, agent: str,
                          matter: str) -> None: ...  # a code by SMS to the applicant

    async def check_consent(self, draft: str, code: str) -> ConsentCheck: ...


Context = FlowContext[ApplyServices]


ASK_WHO = "给谁申请？\n1. 给我自己\n2. 替别人办（我是代办员或家里人）"
ASK_AGENT_NAME = "请问您（代办人）的姓名？"
ASK_NAME = "申请人的姓名？"
ASK_ID_NUMBER = "申请人的身份证号？（18位）"
ASK_PHONE = "联系电话？（办好了会通知这个号码）"
ASK_VILLAGE = "申请人住哪个村（社区）？"
ASK_VILLAGE_NUMBERED = "申请人住哪个村（社区）？回复数字，或写村名：\n{options}"
BAD_NAME = "姓名请写2到10个汉字。"
BAD_ID = "身份证号应为18位（最后一位可以是X），请再核对一下"
ITEM_PROMPT = (
    "第{number}/{total}项：{item}\n"
    "请拍照发过来；或回复 1 到窗口再交，2 没有这个。"
)
AUTHORIZATION = "授权委托书"
AUTHORIZATION_NOTE = "替别人办要有申请人签字的授权委托书"
CONFIRM = (
    "请核对：\n事项：{matter}\n申请人：{name}\n身份证：{id_number}\n电话：{phone}"
    "\n村（社区）：{village}{agent}\n材料：\n{materials}\n回复 1 提交申请，2 重新填写。"
)
SUBMITTED = "申请已受理！受理编号：{receipt}\n{matter}{due}\n{window}查进度请发“办到哪了”。"
DUE = "，预计{day}前办结（{days}个工作日）"
DUE_BY = "，预计{day}前办结"
DUE_TODAY = "，材料齐全当天办好"
DUE_ASSUMED = "\n（明年的放假安排还没公布，日期按周一到周五估算，以窗口通知为准）"
AT_WINDOW = "到窗口时请带上：{items}。\n"
STILL_MISSING = "还缺：{items}。办理需要这些材料，请备齐后交到窗口。\n"
REPLY_1_OR_2 = "请回复 1 或 2。"
ASK_CONSENT = (
    "申请人同意由您代办吗？请选一种方式确认：\n1. 给申请人手机 {phone} 发验证码，"
    "申请人把验证码告诉您\n2. 申请人没有手机：拍申请人签字（或按手印）的授权委托书"
)
CODE_SENT = "验证码已发到 {phone}。请申请人看短信，把6位验证码告诉您，您发过来。"
CODE_ASK = "请发申请人收到的6位验证码；没收到回复 1 再发一次，回复 2 改拍授权委托书。"
CODE_WRONG = "验证码不对，请再核对一下。" + CODE_ASK
CODE_LENGTH = "验证码是6位数字，请再核对一下。" + CODE_ASK
CODE_GONE = "验证码已过期或错的次数太多，请回复 1 再发一次，或回复 2 改拍授权委托书。"
CONSENTED = "申请人已同意由您代办。"
CODE_OWN_PHONE = (
    "{phone} 是您自己的号码，验证码要发到申请人本人的手机。请发申请人的手机号；"
    "申请人没有手机请回复 2 拍授权委托书。"
)
AGENT_STOPPED = "您的代办员身份已停用，这份代办申请不能提交了。有疑问请打中心电话 {phone}。"
ASK_LETTER = (
    "请拍申请人签字（或按手印）的授权委托书发过来。\n没有委托书？回复 1 改发验证码到申请人手机。"
)
LETTER_KEPT = "收到授权委托书。"
CONSENT_WORDS = {"sms_code": "短信验证码", "letter": "授权委托书"}
STATE_WORDS = {"received": "已拍照", "at_window": "到窗口再交", "none": "没有"}
def _items_for(matter: Matter, slots: Slots) -> list[dict[str, Any]]:
    """The matter's materials; for someone else, the 授权委托书 too — already received
    where the agent sent it as the consent, not asked where the applicant agreed by code."""
    items = [{"name": m.describe(), "short": m.name, "state": None, "file_id": None}
             for m in matter.materials_for(slots.get("variant"))]
    if slots.get("agent") and slots.get("consent") != "sms_code":
        letter = slots.get("letter")
        items.append({"name": f"{AUTHORIZATION}（{AUTHORIZATION_NOTE}）", "short": AUTHORIZATION,
                      "state": "received" if letter else None, "file_id": letter})
    return items


async def start(ctx: Context) -> Step:
    """A new application for the opening slots' matter, taking what the message that asked
    says already (「我要给我娘王秀英申请高龄补贴，身份证…，电话…，红旗村」)."""
    agent = await ctx.services.agent_of(ctx.message.user_id)
    known = _as_agent(agent, ctx.services.villages())
    if agent is not None and ctx.slots.get("for_villager"):  # 代办菜单 「替村民申请」
        known["agent"] = True
    return _fresh(ctx.matter(), ctx.slots.get("variant"), ctx.message.text,
                  sender_phone(ctx.message), known)


def _as_agent(agent: AgentCard | None, villages: tuple[str, ...]) -> dict[str, Any]:
    """What a bound agent need not be asked: their name, and their villages to pick from."""
    if agent is None:
        return {"villages": list(villages)}
    return {"agent_id": agent.id, "agent_name": agent.name, "agent_phone": agent.phone,
            "villages": list(agent.villages or villages)}


AGENT_SLOTS = ("agent_id", "agent_name", "agent_phone", "villages")


def _fresh(matter: Matter, variant: str | None, said: str = "",
           phone: str | None = None, known: Slots | None = None) -> Step:
    """A new application with a fresh draft, taking what `said` tells (and the phone an
    SMS comes from, and what is `known` of a bound agent); the villages offered by number
    are kept with it, so that a number means what was shown."""
    slots: dict[str, Any] = {"matter": matter.id, "variant": variant, "phone": phone,
                             "draft": secrets.token_hex(8), "items": [], "index": 0,
                             "villages": [], **(known or {})}
    step = _advance(matter, slots, _absorb(said, slots))
    if step.next_state == ApplyState.VARIANT:  # its question names the matter already
        return step
    first, *rest = step.replies  # the first reply says which matter is being applied for
    return Step((f"申请【{matter.name}】，我一步步问您。\n{first}", *rest), step.next_state,
                step.slots)


def _name(text: str) -> str | None:
    name = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    return name if re.fullmatch(r"[\u4e00-\u9fff·]{2,10}", name) and looks_like_name(
        name[:4]) else None


def _missing(matter: Matter, slots: Slots) -> ApplyState | None:
    """The first thing still to be told, in the order it is asked."""
    if matter.variants and not slots.get("variant"):
        return ApplyState.VARIANT
    if slots.get("agent") is None:
        return ApplyState.WHO
    if slots["agent"] and not slots.get("agent_name"):
        return ApplyState.AGENT_NAME
    for state, key in ((ApplyState.NAME, "name"), (ApplyState.ID_NUMBER, "id_number"),
                       (ApplyState.PHONE, "phone"), (ApplyState.VILLAGE, "village")):
        if not slots.get(key):
            return state
    if slots["agent"] and slots.get("agent_id") and slots.get("consented") != _consented(slots):
        return ApplyState.CONSENT  # not given yet, or given for another phone or person
    return None


def _consented(slots: Slots) -> str:
    """Whom a consent is for: a code, the applicant at that phone; a letter, the person."""
    person = f"{slots.get('name')}|{slots.get('id_number')}"
    return f"{person}|{slots.get('phone')}" if slots.get("consent") == "sms_code" else person


def _advance(matter: Matter, slots: dict[str, Any], notes: list[str]) -> Step:
    """Ask for what is missing; with everything told, on to the materials."""
    missing = _missing(matter, slots)
    if missing is ApplyState.VARIANT:
        options = "\n".join(f"{n}. {v.name}" for n, v in enumerate(matter.variants, 1))
        return Step((*notes, f"申请【{matter.name}】。{matter.variant_question}\n{options}"),
                    ApplyState.VARIANT, slots)
    if missing is not None:
        return Step((*notes, _prompt(missing, slots)), missing, slots)
    if not slots["items"]:  # everything about the applicant told: the papers, one by one
        slots["items"] = _items_for(matter, slots)
        slots["index"] = _unanswered(slots["items"], 0)
        if slots["index"] < len(slots["items"]):  # some situations ask for no paper
            notes = [*notes, f"接下来交材料，一共{len(slots['items'])}项，一项一项来。"]
    if int(slots["index"]) < len(slots["items"]):
        return Step((*notes, _item_prompt(slots["items"], int(slots["index"]))),
                    ApplyState.MATERIALS, slots)
    return Step((*notes, _summary(matter, slots)), ApplyState.CONFIRM, slots)


def _absorb(text: str, slots: dict[str, Any]) -> list[str]:
    """Every fact of the message into the draft; what was wrong with any, in words."""
    found = facts_in(text)
    notes: list[str] = []
    if found.relation is not None:
        slots["agent"], slots["relation"] = found.relation != "本人", found.relation
    if found.id_number:  # the name beside it is kept even when the number is wrong
        slots["name"] = found.name or name_beside(text, found.id_number) or slots.get("name")
        problem = id_number_problem(found.id_number)
        if problem:
            notes.append(problem)
        else:
            slots["id_number"] = normalize(found.id_number)
            notes.append(f"身份证 {mask_id_number(slots['id_number'])} 已记下。")
    elif found.name:
        slots["name"] = found.name
    if found.speaker:  # 「我叫李红」: the applicant, or the one applying for them
        slots["agent_name" if slots.get("agent") else "name"] = found.speaker
    if found.phone:
        slots["phone"] = normalize(found.phone)
    village = found.village or village_in(text)
    if village:
        slots["village"] = village
    return notes


def _prompt(state: ApplyState, slots: Slots) -> str:
    if state is ApplyState.CONSENT:
        return ASK_CONSENT.format(phone=mask_phone(slots["phone"]))
    villages = slots.get("villages") or []
    if state is ApplyState.VILLAGE and villages:
        return ASK_VILLAGE_NUMBERED.format(
            options="\n".join(f"{n}. {v}" for n, v in enumerate(villages, 1)))
    return PROMPTS[state]


def _village(text: str, slots: dict[str, Any]) -> list[str]:
    """The village by the number offered, or its name written."""
    villages, number = slots.get("villages") or [], choice_number(text)
    if number is not None and villages:
        if not 1 <= number <= len(villages):
            return [f"请回复 1 到 {len(villages)} 的数字，或写村名。"]
        slots["village"] = villages[number - 1]
    elif 2 <= len(text) <= 30 and number is None:
        slots["village"] = text
    else:
        return ["请写村（社区）的名字。"]
    return []


async def _answer(ctx: Context, current: ApplyState) -> Step:
    """The message's facts, then the bare answer to the question asked."""
    matter, slots = ctx.matter(), dict(ctx.slots)
    text = unicodedata.normalize("NFKC", ctx.message.text).strip()
    notes = _absorb(text, slots)
    told = {key: slots.get(key)
            for key in ("name", "agent_name", "id_number", "phone", "village")}
    if current is ApplyState.VARIANT:
        number = choice_number(text) or 0
        if 1 <= number <= len(matter.variants):
            slots["variant"] = matter.variants[number - 1].id
        else:
            notes.append(f"请回复 1 到 {len(matter.variants)} 的数字。")
    elif current is ApplyState.WHO and slots.get("agent") is None:
        choice = choice_number(text)
        if choice in (1, 2):
            slots["agent"] = choice == 2
        else:
            notes.append(REPLY_1_OR_2)
    elif current in (ApplyState.AGENT_NAME, ApplyState.NAME) and told == \
            {key: ctx.slots.get(key) for key in told}:  # nothing else was said: a name
        name = _name(text)
        if name is None:
            notes.append(BAD_NAME)
        else:
            slots["agent_name" if current is ApplyState.AGENT_NAME else "name"] = name
    elif current is ApplyState.ID_NUMBER and not slots.get("id_number") and not notes:
        notes.append(id_number_problem(text) or BAD_ID)
    elif current is ApplyState.PHONE and not slots.get("phone"):
        notes.append(phone_problem(text) or "电话号码不对。")
    elif current is ApplyState.VILLAGE and not slots.get("village"):
        notes += _village(text, slots)
    return _advance(matter, slots, notes)


def _step(state: ApplyState) -> StepFn[ApplyServices]:
    async def step(ctx: Context) -> Step:
        return await _answer(ctx, state)
    return step


async def consent(ctx: Context) -> Step:
    """How the applicant agrees to the agent filing: a code to their phone, or the letter.
    A phone number sent instead corrects the applicant's."""
    found = facts_in(unicodedata.normalize("NFKC", ctx.message.text))
    if found.phone:
        slots = {**ctx.slots, "phone": normalize(found.phone)}
        return Step((_prompt(ApplyState.CONSENT, slots),), ApplyState.CONSENT, slots)
    choice = choice_number(ctx.message.text)
    if choice == 1 and ctx.slots["phone"] == ctx.slots.get("agent_phone"):
        return Step((CODE_OWN_PHONE.format(phone=mask_phone(ctx.slots["phone"])),),
                    ApplyState.CONSENT)
    if choice == 1:
        return await _send_code(ctx)
    if choice == 2:
        return Step((ASK_LETTER,), ApplyState.CONSENT_LETTER)
    return Step((REPLY_1_OR_2, _prompt(ApplyState.CONSENT, ctx.slots)), ApplyState.CONSENT)


async def _send_code(ctx: Context) -> Step:
    slots = ctx.slots
    await ctx.services.ask_consent(slots["draft"], phone=slots["phone"], person=slots["name"],
                                   agent=slots["agent_name"], matter=slots["matter"])
    return Step((CODE_SENT.format(phone=mask_phone(slots["phone"])),), ApplyState.CONSENT_CODE)


async def consent_code(ctx: Context) -> Step:
    """The code the applicant read to the agent; 1 sends another, 2 takes the letter."""
    text = unicodedata.normalize("NFKC", ctx.message.text).strip()
    code = _code_in(text)
    if code:
        checked = await ctx.services.check_consent(ctx.slots["draft"], code)
        if checked is ConsentCheck.RIGHT:
            slots = {**ctx.slots, "consent": "sms_code"}
            return _advance(ctx.matter(), {**slots, "consented": _consented(slots)}, [CONSENTED])
        return Step((CODE_WRONG if checked is ConsentCheck.WRONG else CODE_GONE,),
                    ApplyState.CONSENT_CODE)
    choice = choice_number(text)
    if choice == 1:
        return await _send_code(ctx)
    if choice == 2:
        return Step((ASK_LETTER,), ApplyState.CONSENT_LETTER)
    digits = re.sub(r"\D", "", text)
    return Step((CODE_LENGTH if len(digits) > 2 else CODE_ASK,), ApplyState.CONSENT_CODE)


def _code_in(text: str) -> str | None:
    """The 6 digits of a consent code however sent: 「验证码是123456」, 「123 456」."""
    found = re.search(r"(?<!\d)\d{6}(?!\d)", re.sub(r"(?<=\d)[\s-]+(?=\d)", "", text))
    return found.group() if found else None


async def consent_letter(ctx: Context) -> Step:
    """The photo of the signed 授权委托书: checked like any paper, then the first material."""
    sent = await papers.take(ctx)
    if sent is None and choice_number(ctx.message.text) == 1:  # no letter to hand: the code
        return await consent(ctx)
    if sent is None:
        return Step((ASK_LETTER,), ApplyState.CONSENT_LETTER)
    if sent.file_id is None:
        return papers.again(sent, ASK_LETTER, ApplyState.CONSENT_LETTER)
    slots = {**ctx.slots, "consent": "letter", "letter": sent.file_id, "pending": None}
    for item in slots.get("items") or []:  # a letter sent again after a correction
        if item["short"] == AUTHORIZATION:
            item.update(state="received", file_id=sent.file_id)
    return _advance(ctx.matter(), {**slots, "consented": _consented(slots)},
                    [*sent.replies, LETTER_KEPT])


def _unanswered(items: list[dict[str, Any]], index: int) -> int:
    """The first item from `index` on not yet answered (the letter sent as the consent is)."""
    return next((n for n in range(index, len(items)) if items[n]["state"] is None), len(items))


def _item_prompt(items: list[dict[str, Any]], index: int) -> str:
    return ITEM_PROMPT.format(number=index + 1, total=len(items), item=items[index]["name"])


async def collect_material(ctx: Context) -> Step:
    items = [dict(item) for item in ctx.slots["items"]]
    index = int(ctx.slots["index"])
    sent = await papers.take(ctx)
    if sent is not None and sent.file_id is None:
        return papers.again(sent, _item_prompt(items, index), ApplyState.MATERIALS)
    if sent is not None:
        items[index].update(state="received", file_id=sent.file_id)
        acknowledged = (*sent.replies, f"收到【{items[index]['short']}】的照片。")
    else:
        choice = choice_number(ctx.message.text)
        if choice not in (1, 2):
            return Step((_item_prompt(items, index),), ApplyState.MATERIALS)
        items[index]["state"] = "at_window" if choice == 1 else "none"
        acknowledged = ("好的，到窗口再交。" if choice == 1 else "好的，记下没有这项。",)
    index = _unanswered(items, index + 1)
    moved = {"items": items, "index": index, "pending": None}
    if index < len(items):
        return Step((*acknowledged, _item_prompt(items, index)), ApplyState.MATERIALS, moved)
    return Step((*acknowledged, _summary(ctx.matter(), {**ctx.slots, **moved})),
                ApplyState.CONFIRM, moved)


def _summary(matter: Matter, slots: Slots) -> str:
    materials = "\n".join(f"{n}. {item['short']}：{STATE_WORDS[item['state']]}"
                          for n, item in enumerate(slots["items"], 1))
    agent = f"\n代办人：{slots['agent_name']}" if slots.get("agent") else ""
    if slots.get("consent"):
        agent += f"（申请人同意：{CONSENT_WORDS[slots['consent']]}）"
    return CONFIRM.format(matter=matter.name, name=slots["name"],
                          id_number=mask_id_number(slots["id_number"]),
                          phone=mask_phone(slots["phone"]), village=slots["village"],
                          agent=agent, materials=materials)


async def confirm(ctx: Context) -> Step:
    choice = choice_number(ctx.message.text)
    if choice == 2:  # a bound agent stays the agent, filing for the same villager or not
        known = {key: ctx.slots.get(key) for key in AGENT_SLOTS}
        if ctx.slots.get("agent_id") and ctx.slots.get("agent"):
            known["agent"] = True
        restarted = _fresh(ctx.matter(), ctx.slots.get("variant"),
                           phone=sender_phone(ctx.message), known=known)
        return Step(("好的，重新填写。", *restarted.replies), restarted.next_state,
                    {**restarted.slots, "draft": ctx.slots["draft"]})
    if choice != 1:  # 「电话错了，是139…」: corrected, and shown again
        corrected = dict(ctx.slots)
        notes = _absorb(ctx.message.text, corrected)
        corrected["agent"] = ctx.slots["agent"]  # the materials asked depend on it
        if corrected == dict(ctx.slots):
            return Step((REPLY_1_OR_2,), ApplyState.CONFIRM)
        return _advance(ctx.matter(), corrected, notes)  # another phone asks consent again
    slots, matter = ctx.slots, ctx.matter()
    if slots.get("agent") and slots.get("agent_id"):  # stopped since the draft began?
        agent = await ctx.services.agent_of(ctx.message.user_id)
        if agent is None or agent.id != slots["agent_id"]:
            return Step((AGENT_STOPPED.format(phone=ctx.services.center_phone()),), END)
    receipt = await ctx.services.submit(NewCase(
        matter_id=matter.id, channel=ctx.message.channel.value, user_id=ctx.message.user_id,
        applicant_name=slots["name"], applicant_id_number=slots["id_number"],
        phone=slots["phone"], village=slots["village"], variant_id=slots.get("variant"),
        agent_name=slots.get("agent_name") if slots.get("agent") else None,
        agent_id=slots.get("agent_id") if slots.get("agent") else None,
        consent=slots.get("consent"), draft_key=slots["draft"],
        relation=slots.get("relation") or ("本人" if not slots.get("agent") else None),
        materials=[MaterialItem(i["short"], i["state"], i["file_id"]) for i in slots["items"]],
    ))
    return Step((_receipt_text(matter, receipt, slots["items"]),), END)


def _receipt_text(matter: Matter, receipt: Receipt, items: list[dict[str, Any]]) -> str:
    if receipt.due_date is None:
        due = ""
    elif receipt.promised_days == 0:
        due = DUE_TODAY
    elif receipt.promised_days is None:  # a guide that counts calendar days (「30天」)
        due = DUE_BY.format(day=f"{receipt.due_date.month}月{receipt.due_date.day}日")
    else:
        due = DUE.format(day=f"{receipt.due_date.month}月{receipt.due_date.day}日",
                         days=receipt.promised_days)
    if receipt.due_assumed:
        due += DUE_ASSUMED
    later = [item["short"] for item in items if item["state"] == "at_window"]
    lacking = [item["short"] for item in items if item["state"] == "none"]
    window = AT_WINDOW.format(items="、".join(later)) if later else ""
    if lacking:
        window += STILL_MISSING.format(items="、".join(lacking))
    return SUBMITTED.format(receipt=receipt.receipt_no, matter=matter.name, due=due,
                            window=window)


# The applicant's facts in the order they are asked, each with the slots its answer fills.
ASKED: tuple[tuple[ApplyState, tuple[str, ...]], ...] = (
    (ApplyState.WHO, ("agent", "agent_name", "relation")),
    (ApplyState.AGENT_NAME, ("agent_name",)), (ApplyState.NAME, ("name",)),
    (ApplyState.ID_NUMBER, ("id_number",)), (ApplyState.PHONE, ("phone",)),
    (ApplyState.VILLAGE, ("village",)),
)


ASKED_STATES = frozenset({ApplyState.VARIANT, *(state for state, _ in ASKED)})


def step_back(current: str, slots: Slots) -> tuple[str, dict[str, Any]] | None:
    """「上一步」 while telling who applies: the last fact told is asked again."""
    states = [state for state, _ in ASKED]
    if current not in states:
        return None  # the situation, the materials, the confirmation: not a step back
    bound = bool(slots.get("agent_id"))  # a bound agent's name is known, never asked
    for state, keys in reversed(ASKED[:states.index(ApplyState(current))]):
        if bound and state is ApplyState.AGENT_NAME:
            continue
        if slots.get(keys[0]) is not None:
            return state, dict.fromkeys(k for k in keys if not (bound and k == "agent_name"))
    return None


def has_answers(slots: Slots) -> bool:
    """Whether the villager has told anything that leaving would throw away."""
    told = ("name", "id_number", "phone", "village") if slots.get("agent_id") else \
        ("name", "id_number", "phone", "village", "agent_name")  # a bound agent's is known
    return any(slots.get(key) for key in told)


def remaining(slots: Slots) -> str:
    """「还差什么」: the items not yet answered, or what is left to fill in."""
    items = slots.get("items") or []
    left = [item["short"] for item in items if item["state"] is None]
    if not items:
        return "还没到交材料这一步，先把申请人的信息填完。"
    if not left:
        return "材料都问完了，确认后就能提交。"
    return "还差这些材料：\n" + "\n".join(f"{n}. {name}" for n, name in enumerate(left, 1))


STEPS: dict[str, StepFn[ApplyServices]] = {
    **{state: _step(state) for state in (
        ApplyState.VARIANT, ApplyState.WHO, ApplyState.AGENT_NAME, ApplyState.NAME,
        ApplyState.ID_NUMBER, ApplyState.PHONE, ApplyState.VILLAGE)},
    ApplyState.CONSENT: consent,
    ApplyState.CONSENT_CODE: consent_code,
    ApplyState.CONSENT_LETTER: consent_letter,
    ApplyState.MATERIALS: collect_material,
    ApplyState.CONFIRM: confirm,
}
PROMPTS = {
    ApplyState.WHO: ASK_WHO, ApplyState.AGENT_NAME: ASK_AGENT_NAME, ApplyState.NAME: ASK_NAME,
    ApplyState.ID_NUMBER: ASK_ID_NUMBER, ApplyState.PHONE: ASK_PHONE,
    ApplyState.VILLAGE: ASK_VILLAGE,
}


def looks_like_answer(current: str, kind: Kind, text: str) -> bool:
    """Whether a message answers (else it is a side question): it carries a fact, or has the
    form the question asked for; a question carrying no number is asked of the bot."""
    state = ApplyState(current)
    if kind in (Kind.IMAGE, Kind.FILE):
        return state in (ApplyState.MATERIALS, ApplyState.CONSENT_LETTER)
    plain_text = unicodedata.normalize("NFKC", text).strip()
    if state is ApplyState.CONSENT_CODE and any(char.isdigit() for char in plain_text):
        return True  # a code, or digits that are not one: said so, not asked of the NLU
    found = facts_in(plain_text)
    numbers = bool(found.id_number or found.phone)
    if plain_text.endswith(("吗", "?", "？", "呢")) and not numbers:
        return False
    if state is ApplyState.CONSENT and numbers:  # the applicant's phone, corrected
        return True
    if state in ASKED_STATES and (
            numbers or found.relation or found.name or found.speaker or village_in(plain_text)):
        return True
    if state in (ApplyState.NAME, ApplyState.AGENT_NAME):
        return _name(text) is not None
    if state in (ApplyState.ID_NUMBER, ApplyState.PHONE):
        return any(char.isdigit() for char in plain_text)
    if state is ApplyState.VILLAGE:
        return len(plain_text) <= 15
    if state is ApplyState.CONFIRM and numbers:
        return True
    return choice_number(plain_text) is not None


def prompt_again(current: str, ctx: Context) -> str:
    """The question to repeat after a side question, so the villager knows where they are."""
    state, slots = ApplyState(current), ctx.slots
    pending = slots.get("pending")
    if state is ApplyState.MATERIALS:
        return papers.ask(pending) if pending else _item_prompt(slots["items"],
                                                                int(slots["index"]))
    if state is ApplyState.CONSENT_LETTER:
        return papers.ask(pending) if pending else ASK_LETTER
    if state is ApplyState.CONSENT_CODE:
        return CODE_ASK
    if state is ApplyState.CONFIRM:
        return _summary(ctx.matter(), slots)
    if state is ApplyState.VARIANT:
        return "请回复数字选择情形。"
    return _prompt(state, slots)

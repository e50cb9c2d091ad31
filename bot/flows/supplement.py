"""Dialogue stage: the 补正 flow — hand in what the clerk asked for, from the phone.

    「补交」 ─→ [CASE: which application, when several wait] ─→ ITEMS (each item asked for:
             a photo/file, or 1 到窗口再交; a photo the check faults waits for
             1 重拍 2 就用这张, bot/flows/papers.py) ─→ END: every item sent → back to 审核中, the
             promised clock runs again; some to bring → the case waits for the window
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from bot.cases.application import MaterialItem
from bot.flows import END, FlowContext, Slots, Step, StepFn, papers
from bot.flows.choice import choice_number
from bot.flows.papers import PaperServices
from bot.messages import Kind

FLOW_NAME = "supplement"


class SupplementState(StrEnum):
    CASE = "case"
    ITEMS = "items"


class SupplementServices(PaperServices, Protocol):
    async def waiting(self, user_id: str) -> list[tuple[str, list[str]]]: ...

    async def supplement(self, receipt_no: str, user_id: str,
                         items: list[MaterialItem]) -> str: ...


Context = FlowContext[SupplementServices]


NOTHING_WAITING = "您没有需要补交材料的申请。查进度请发“办到哪了”。"
WHICH_CASE = "您有几件申请要补交材料，补哪一件？"
ITEM_PROMPT = "补交第{number}/{total}项：{item}\n请拍照发过来；或回复 1 到窗口再交。"
RECEIVED = "收到【{item}】。"
AT_WINDOW = "好的，【{item}】到窗口再交。"
ALL_SENT = "补交好了！申请 {receipt} 已回到「{status}」，接着办理、接着计时。"
SOME_AT_WINDOW = (
    "已记下。请把要带的材料交到窗口，交齐后接着办理。申请 {receipt} 现在是「{status}」。"
)


async def start(ctx: Context) -> Step:
    waiting = await ctx.services.waiting(ctx.message.user_id)
    if not waiting:
        return Step((NOTHING_WAITING,), END)
    if len(waiting) == 1:
        return _begin(*waiting[0])
    options = "\n".join(f"{n}. {receipt}：{'、'.join(items)}"
                        for n, (receipt, items) in enumerate(waiting, 1))
    return Step((f"{WHICH_CASE}\n{options}",), SupplementState.CASE,
                {"waiting": [[receipt, items] for receipt, items in waiting]})


def _begin(receipt: str, missing: list[str]) -> Step:
    items = [{"name": name, "state": None, "file_id": None} for name in missing]
    return Step((_prompt(items, 0),), SupplementState.ITEMS,
                {"receipt": receipt, "items": items, "index": 0})


def _prompt(items: list[dict[str, Any]], index: int) -> str:
    return ITEM_PROMPT.format(number=index + 1, total=len(items), item=items[index]["name"])


async def choose_case(ctx: Context) -> Step:
    waiting = ctx.slots["waiting"]
    number = choice_number(ctx.message.text)
    if number is None or not 1 <= number <= len(waiting):
        return Step((f"请回复 1 到 {len(waiting)} 的数字。",), SupplementState.CASE)
    return _begin(*waiting[number - 1])


async def collect(ctx: Context) -> Step:
    items = [dict(item) for item in ctx.slots["items"]]
    index = int(ctx.slots["index"])
    name = items[index]["name"]
    sent = await papers.take(ctx)
    if sent is not None and sent.file_id is None:
        return papers.again(sent, _prompt(items, index), SupplementState.ITEMS)
    if sent is not None:
        items[index].update(state="received", file_id=sent.file_id)
        acknowledged = (*sent.replies, RECEIVED.format(item=name))
    elif choice_number(ctx.message.text) == 1:
        items[index]["state"] = "at_window"
        acknowledged = (AT_WINDOW.format(item=name),)
    else:
        return Step((_prompt(items, index),), SupplementState.ITEMS)
    index += 1
    if index < len(items):
        return Step((*acknowledged, _prompt(items, index)), SupplementState.ITEMS,
                    {"items": items, "index": index, "pending": None})
    receipt = ctx.slots["receipt"]
    status = await ctx.services.supplement(
        receipt, ctx.message.user_id,
        [MaterialItem(item["name"], item["state"], item["file_id"]) for item in items])
    every_one_sent = all(item["state"] == "received" for item in items)
    done = (ALL_SENT if every_one_sent else SOME_AT_WINDOW).format(receipt=receipt,
                                                                 status=status)
    return Step((*acknowledged, done), END)


STEPS: dict[str, StepFn[SupplementServices]] = {
    SupplementState.CASE: choose_case,
    SupplementState.ITEMS: collect,
}


def looks_like_answer(state: str, kind: Kind, text: str) -> bool:
    if kind in (Kind.IMAGE, Kind.FILE):
        return state == SupplementState.ITEMS
    return choice_number(text) is not None


def prompt_again(state: str, ctx: Context) -> str:
    if state == SupplementState.CASE:
        return "请回复数字选择要补交的申请。"
    pending = ctx.slots.get("pending")
    return papers.ask(pending) if pending else _prompt(ctx.slots["items"],
                                                       int(ctx.slots["index"]))


def remaining(slots: Slots) -> str:
    left = [item["name"] for item in slots.get("items", []) if item["state"] is None]
    return "还要补交：" + "、".join(left) if left else "都补交好了。"


def step_back(current: str, slots: Slots) -> tuple[str, dict[str, Any]] | None:
    """「上一步」: not here (each item is answered once)."""
    return None

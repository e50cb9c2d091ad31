"""Dialogue stage: a photo of a paper sent in a flow (apply, 补正), shared by both — kept, or
answered with what the photo check found and 「1 重拍 2 就用这张」 until the villager sends
another one or keeps it.

    photo ─┬─ fine (or straightened) ──────────────────────────→ kept: the flow moves on
           └─ a hint ─→ PENDING ─┬─ 2 就用这张 ─────────────────→ kept (the clerk sees the note)
                                 ├─ 1 重拍 ─→ the item asked again
                                 ├─ another photo ─→ checked as the first (replaces it)
                                 └─ another photo refused ─→ PENDING (the first still waits)

The pending photo is the flow's slot `pending`; the flow stays in its own state meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.cases.application import KeptPaper, MediaRefused
from bot.flows import FlowContext, Step
from bot.flows.choice import choice_number
from bot.messages import Kind

RETAKE_OR_KEEP = "{hints}\n请回复：1 重拍 2 就用这张"
RETAKE = "好的，请重拍一张发过来。"
KEPT_ANYWAY = "好的，就用这张。"
TURNED = "照片是歪着或倒着的，已帮您转正。"
MEDIA_FAILED = "照片没收到：{reason}"
STILL_WAITING = "上一张还留着。"


class PaperServices(Protocol):
    async def keep_paper(self, media_id: str) -> KeptPaper: ...


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of a message about the current item's paper."""

    replies: tuple[str, ...]
    file_id: int | None = None  # the paper kept for the item: the flow moves on
    pending: dict[str, Any] | None = None  # a photo waiting for 1 重拍 or 2 就用这张


def again(sent: Sent, item_prompt: str, state: str) -> Step:
    """A photo not kept (yet): its hint waits for 1 or 2; else (refused, 重拍) the item is
    asked again."""
    prompt = () if sent.pending else (item_prompt,)
    return Step((*sent.replies, *prompt), state, {"pending": sent.pending})


def ask(pending: dict[str, Any]) -> str:
    """The pending photo's hints and 「1 重拍 2 就用这张」."""
    return RETAKE_OR_KEEP.format(hints="\n".join(pending["hints"]))


async def take(ctx: FlowContext[PaperServices]) -> Sent | None:
    """The paper the message sends, or keeps after a hint; None when the message is neither a
    paper nor an answer to 「1 重拍 2 就用这张」 (the flow's own choices apply)."""
    message, pending = ctx.message, ctx.slots.get("pending")
    if message.kind in (Kind.IMAGE, Kind.FILE) and message.media_id:
        try:
            kept = await ctx.services.keep_paper(message.media_id)
        except MediaRefused as refused:  # a photo waiting for 1 or 2 still waits
            failed = MEDIA_FAILED.format(reason=refused)
            if pending:
                return Sent((failed, STILL_WAITING + ask(pending)), pending=pending)
            return Sent((failed,))
        turned = (TURNED,) if kept.turned else ()
        if kept.hints:
            waiting = {"file_id": kept.file_id, "hints": list(kept.hints)}
            return Sent((*turned, ask(waiting)), pending=waiting)
        return Sent(turned, file_id=kept.file_id)
    if not pending:
        return None
    choice = choice_number(message.text)
    if choice == 2:
        return Sent((KEPT_ANYWAY,), file_id=int(pending["file_id"]))
    if choice == 1:
        return Sent((RETAKE,))
    return Sent((ask(pending),), pending=pending)

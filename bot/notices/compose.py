"""Domain services stage: a domain event → the notice the villager reads, or none.

Events carry what happened (bookings and visits also their time and place as shown);
this adds the matter's name and place and the center's phone, picks the template by
kind (a case's status change by its new status), and fills it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.cases.status import Status
from bot.catalogue.center import Center
from bot.catalogue.model import Catalogue
from bot.notices.rules import NoticeRules, fill

CASE_STATUSES = frozenset({"accepted", "needs_materials", "completed", "rejected", "returned"})
WECHAT = "wechat"
SMS = "sms"
# What a villager writing by SMS has just read in the answer to their own message: a
# second SMS saying it again would cost twice (reminders and clerks' moves still go).
SAID_IN_THE_ANSWER = frozenset({"case.accepted", "booking.created", "booking.changed",
                                "booking.cancelled"})


AGENT_COPY = "agent.case"  # an agent's copy of a case notice: the text, and whose case
HANDED_TO_AGENT = {"case.needs_materials": "case.needs_materials.via_agent",
                   "case.waiting_reminder": "case.needs_materials.via_agent"}
STATUSES = frozenset(Status)


@dataclass(frozen=True, slots=True)
class Draft:
    kind: str
    user_id: str
    openid: str | None
    phone: str | None
    values: dict[str, str]
    text: str
    urgent: bool


def notice_kind(kind: str, payload: dict[str, Any]) -> str:
    if kind == "case.status_changed":
        return f"case.{payload.get('to')}"
    return kind


def _due(payload: dict[str, Any]) -> str:
    raw = payload.get("due_date")
    if not raw:
        return "材料齐全当天办好"
    due = date.fromisoformat(str(raw))
    return f"预计{due.month}月{due.day}日前办结"


class Composer:
    def __init__(self, rules: NoticeRules, catalogue: Catalogue, center: Center) -> None:
        self.rules = rules
        self._catalogue = catalogue
        self._center = center

    def compose(self, kind: str, payload: dict[str, Any]) -> Draft | None:
        """The notice for an event, or None when the event needs none (审核中, marks…)."""
        template = self.rules.templates.get(self._kind(kind, payload))
        user_id = str(payload.get("user_id") or "")
        phone = str(payload.get("phone") or "") or None
        openid = user_id if payload.get("channel") == WECHAT and user_id else None
        if template is None or not (openid or phone):
            return None
        if payload.get("channel") == SMS and user_id == phone and not payload.get("via_agent") \
                and notice_kind(kind, payload) in SAID_IN_THE_ANSWER:
            return None
        matter = self._catalogue.get(str(payload.get("matter") or ""))
        values = {
            "matter": matter.short_name if matter else "",
            "receipt": str(payload.get("receipt_no") or ""),
            "due": _due(payload), "reason": str(payload.get("reason") or ""),
            "missing": "、".join(str(m) for m in payload.get("missing") or []),
            "place": str(payload.get("place") or (matter.place if matter else "")),
            "phone": self._center.phone,
            "booking": str(payload.get("booking_no") or ""),
            "when": str(payload.get("when") or ""), "visit": str(payload.get("visit_no") or ""),
            "person": str(payload.get("person") or ""), "agent": str(payload.get("agent") or ""),
            "address": str(payload.get("address") or ""),
            "text": str(payload.get("text") or ""), "code": str(payload.get("code") or ""),
        }
        values["outcome"] = (f"请带身份证到{values['place']}领取"
                             if payload.get("result") == "可领取" else "结果已送达")
        status = str(payload.get("to") or "")
        values["status"] = Status(status).label if status in STATUSES else ""
        text = fill(template.sms, values)
        copy = self.rules.templates.get(AGENT_COPY) if payload.get("for_agent") else None
        if copy is not None:  # the agent's copy: its own template, saying whose case it is
            template, values["text"] = copy, text
            text = fill(template.sms, values)
        return Draft(template.kind, user_id, openid, phone, values, text, template.urgent)

    @staticmethod
    def _kind(kind: str, payload: dict[str, Any]) -> str:
        """The template's kind; the applicant of a case an agent filed hands missing papers
        to the agent (the case's chat is the agent's: her 「补交」 would find nothing)."""
        shown = notice_kind(kind, payload)
        return HANDED_TO_AGENT.get(shown, shown) if payload.get("via_agent") else shown

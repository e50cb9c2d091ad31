"""Domain services stage: the statuses of a case and the moves allowed between them.

    已受理 ─→ 审核中 ─→ 已上报 (上报件, 代办件) ─┐
       │        │  └─→ 联办中 (联办件) ───────┼─→ 已办结 (可领取 / 已送达)
       │        └── (即办件, 承诺件) ─────────┘   即办件 may also be done on acceptance
       │        ↕ 待补正 (the exact list; the promised clock stops meanwhile)
       └─→ 不予受理            any open status ─→ 退回 (with the reason)
"""

from __future__ import annotations

from enum import StrEnum

from bot.catalogue.model import CaseType


class Status(StrEnum):
    ACCEPTED = "accepted"
    REVIEWING = "reviewing"
    NEEDS_MATERIALS = "needs_materials"
    REPORTED = "reported"
    JOINT = "joint"
    COMPLETED = "completed"
    REJECTED = "rejected"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def closed(self) -> bool:
        return self in CLOSED


LABELS = {
    Status.ACCEPTED: "已受理",
    Status.REVIEWING: "审核中",
    Status.NEEDS_MATERIALS: "待补正",
    Status.REPORTED: "已上报",
    Status.JOINT: "联办中",
    Status.COMPLETED: "已办结",
    Status.REJECTED: "不予受理",
    Status.RETURNED: "退回",
}
CLOSED = frozenset({Status.COMPLETED, Status.REJECTED, Status.RETURNED})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.ACCEPTED: frozenset({Status.REVIEWING, Status.NEEDS_MATERIALS, Status.COMPLETED,
                                Status.REJECTED}),
    Status.REVIEWING: frozenset({Status.NEEDS_MATERIALS, Status.REPORTED, Status.JOINT,
                                 Status.COMPLETED, Status.RETURNED}),
    Status.NEEDS_MATERIALS: frozenset({Status.REVIEWING, Status.RETURNED}),
    Status.REPORTED: frozenset({Status.NEEDS_MATERIALS, Status.COMPLETED, Status.RETURNED}),
    Status.JOINT: frozenset({Status.NEEDS_MATERIALS, Status.COMPLETED, Status.RETURNED}),
    Status.COMPLETED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.RETURNED: frozenset(),
}

# Which escalation a case type takes: reported to the county, or handled jointly.
ESCALATION = {CaseType.REPORTED: Status.REPORTED, CaseType.AGENT: Status.REPORTED,
              CaseType.JOINT: Status.JOINT}


def move_problem(case_type: CaseType, current: Status, target: Status) -> str | None:
    """None when the move is allowed, else why not (for the clerk)."""
    if target not in TRANSITIONS[current]:
        return f"不能从「{current.label}」改为「{target.label}」"
    escalation = ESCALATION.get(case_type)
    if target in (Status.REPORTED, Status.JOINT) and escalation is not target:
        return f"{case_type.value}不走「{target.label}」这一步"
    if target is Status.COMPLETED:
        if current is Status.ACCEPTED and case_type is not CaseType.IMMEDIATE:
            return f"{case_type.value}要先审核，不能受理后直接办结"
        if escalation is not None and current is not escalation:
            return f"{case_type.value}要先「{escalation.label}」才能办结"
    return None

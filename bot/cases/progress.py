"""Domain services stage: a case's progress in plain words, for the villager's phone.

「11月20日 已受理 → 11月21日 审核中 → 预计12月4日前办结」, and what to do when the case waits
for something (补正 list) or is ready (可领取).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from bot import chinatime
from bot.cases.status import Status


class ChangeRecord(Protocol):
    to_status: str
    at: datetime
    missing: list[str]


class CaseRecord(Protocol):
    receipt_no: str
    status: str
    result: str | None
    due_date: date | None
    due_assumed: bool

    @property
    def changes(self) -> Sequence[ChangeRecord]: ...


def _day(value: date) -> str:
    return f"{value.month}月{value.day}日"


def timeline(case: CaseRecord, matter_name: str) -> str:
    steps = [f"{_day(chinatime.day_of(change.at))} {Status(change.to_status).label}"
             for change in case.changes]
    status = Status(case.status)
    if status is Status.COMPLETED:
        steps[-1] += f"（{case.result}）" if case.result else ""
    elif not status.closed and case.due_date is not None:
        steps.append(f"预计{_day(case.due_date)}前办结")
    lines = [f"【{matter_name}】受理编号 {case.receipt_no}", " → ".join(steps)]
    if status is Status.NEEDS_MATERIALS and case.changes:
        missing = "、".join(case.changes[-1].missing)
        lines.append(f"请补交：{missing}（补齐后接着办，期间不计时）。发“补交”把材料拍照发过来。")
    if status is Status.COMPLETED and case.result == "可领取":
        lines.append("请带身份证到窗口领取。")
    if case.due_assumed and not status.closed:
        lines.append("（明年放假安排未公布，日期按周一到周五估算）")
    return "\n".join(lines)

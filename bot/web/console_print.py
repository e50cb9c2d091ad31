"""Channel stage (staff): the console's printouts, laid out for A4 (templates print.html,
receipt.html, notice.html; the 「打印」 button calls window.print(), no header when printed).

    /console/cases/{receipt}/receipt               受理回执: what the villager takes home —
                                                   the case's window only; printing is audited
    /console/catalogue/{matter_id}/notice?variant= 一次性告知单: the complete list for a matter
                                                   (and a situation of it), from the guide

The facts come from the catalogue model and the guide's own wording (bot/intents/guide.py),
never written again here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from bot import chinatime
from bot.cases.identity import mask_id_number
from bot.cases.status import Status
from bot.catalogue.center import Center
from bot.catalogue.model import UNCONFIRMED, Handling, Matter
from bot.console.accounts import Who
from bot.intents import guide, texts
from bot.storage.tables import Case
from bot.web.console_base import CONSOLE, ConsoleServices, page, render
from bot.web.console_words import MATERIAL_WORDS
from bot.web.console_work import case_for
from bot.web.filters import typed

PROGRESS_WAYS = ("在本中心微信公众号发受理编号 {receipt}，随时查看办理进度；",
                 "或打电话 {phone}，报受理编号查询；",
                 "或带上本回执到{window}（{place}）询问。")
NOTICE_PROMISE = ("以上为办理本事项需要的全部材料和条件（一次性告知）。材料齐全、符合条件的，"
                  "窗口当场受理；窗口不再要求本告知单以外的材料。")


def chinese_day(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def owed(case: Case) -> list[str]:
    """What a case in 待补正 waits for: the list its last move asked for (none otherwise)."""
    waiting = Status(case.status) is Status.NEEDS_MATERIALS and case.changes
    return list(case.changes[-1].missing) if waiting else []


def _window(services: ConsoleServices, matter_id: str | None) -> tuple[str, str]:
    """(name, place) of the window that takes a matter's cases."""
    window = services.bookings.rules.window(services.window_of(matter_id))
    return (window.name, window.place) if window else ("综合窗口", "便民服务大厅")


def _due(case: Case, matter: Matter | None) -> str:
    """The time promised when the case was accepted (not the matter's time limit today,
    which an admin may have changed since) and the day it runs out."""
    accepted = chinatime.day_of(case.accepted_at)
    if case.promised_days is not None:
        promised = "即办" if case.promised_days == 0 else \
            f"{case.promised_days}个工作日内办结（不算周末和法定节假日）"
    elif case.due_date is not None:
        promised = f"{(case.due_date - accepted).days}天内办结（周末和节假日也算在内）"
    else:
        promised = matter.time_limit.describe() if matter and matter.time_limit else ""
    if case.due_date is None:
        return promised or "按办事指南的时限办理"
    assumed = "（按周一到周五估算，遇节假日顺延）" if case.due_assumed else ""
    return f"{promised}；预计{chinese_day(case.due_date)}前办结{assumed}".lstrip("；")


@page()
async def case_receipt(request: web.Request, who: Who) -> web.Response:
    """受理回执 of a case of `who`'s window (403 otherwise); who printed it is logged."""
    services = request.app[CONSOLE]
    case = await case_for(request, who)
    status = Status(case.status)
    if status in (Status.REJECTED, Status.RETURNED):  # no stamp on what was not accepted
        return render("error.html", who, 409,
                      message=f"这件申请{status.label}，不能打印受理回执")
    await services.accounts.audit(who.username, "case.receipt", f"case:{case.receipt_no}")
    matter = services.catalogue.get(case.matter_id)
    variant = matter.variant(case.variant_id) if matter and case.variant_id else None
    window, place = _window(services, case.matter_id)
    return render(
        "receipt.html", who, center=services.center, case=case,
        matter=matter.name if matter else case.matter_id,
        variant=variant.name if variant else "", id_number=mask_id_number(
            case.applicant_id_number),
        materials=[(m.name, MATERIAL_WORDS.get(m.state, m.state)) for m in case.materials],
        owed=owed(case),
        accepted=chinese_day(chinatime.day_of(case.accepted_at)), due=_due(case, matter),
        window=window, place=place, printed=chinese_day(services.bookings.today()),
        progress=[line.format(receipt=case.receipt_no, phone=services.center.phone,
                              window=window, place=place) for line in PROGRESS_WAYS])


def _materials(matter: Matter, variant_id: str | None) -> list[tuple[str, list[str]]]:
    """(heading, items) sections of the list: the chosen situation's complete list; with
    none chosen, the common items, then what each situation adds (empty ones left out)."""
    if variant_id or not matter.variants:
        sections = [("", matter.materials_for(variant_id))]
    else:
        sections = [("各种情形都要带", matter.materials),
                    *((f"情形「{v.name}」另带", v.materials) for v in matter.variants)]
    return [(heading, [m.describe() for m in items]) for heading, items in sections if items]


def _facts(matter: Matter, center: Center) -> dict[str, Any]:
    """The guide's facts for the form; what it does not say, in the guide's own words."""
    def missing(what: str) -> str:  # on paper: nothing to 「回复」
        return guide.not_published(matter, what, center, texts.ASK_BEFORE_GOING_PAPER)

    limit = matter.time_limit
    return {
        "conditions": [guide.stated(c) for c in matter.conditions],
        "no_conditions": "" if matter.conditions else missing("办理条件"),
        "procedure": [guide.stated(step) for step in matter.procedure],
        "time_limit": (limit.describe() + (f"（{UNCONFIRMED}）" if limit.to_confirm
                                           else "")) if limit else missing("办理时限"),
        "case_type": guide.CASE_TYPE_WORDS[matter.case_type] if matter.case_type else "",
        "fee": guide.stated(matter.fee) if matter.fee else missing("收费"),
        "place": guide.stated(matter.place) if matter.place else matter.department,
        "hours": guide.office_hours(center).splitlines()[1:],
    }


@page()
async def matter_notice(request: web.Request, who: Who) -> web.Response:
    """一次性告知单 of a matter, optionally for one situation (?variant=), as admins last
    edited it: the sheet handed out at the window says what the window asks for today."""
    services = request.app[CONSOLE]
    matter = (await services.editor.catalogue()).get(request.match_info["matter_id"])
    if matter is None:
        raise web.HTTPNotFound(text="没有这个事项")
    variant_id = typed(request.query, "variant") or None
    variant = matter.variant(variant_id) if variant_id else None
    if variant_id and variant is None:
        raise web.HTTPNotFound(text="这个事项没有这种情形")
    sections = _materials(matter, variant_id)
    facts = _facts(matter, services.center)
    unlisted = not sections  # a matter (or situation) the guide lists no materials for
    # 「全部材料，当场受理」 only where the center takes the matter and its list is known
    promised = not (unlisted or matter.to_confirm or matter.handling is Handling.ADVICE)
    return render(
        "notice.html", who, center=services.center, matter=matter, variant=variant,
        sections=sections, printed=chinese_day(services.bookings.today()),
        no_materials=guide.not_published(matter, "材料清单", services.center,
                                         texts.ASK_BEFORE_GOING_PAPER) if unlisted else "",
        promise=NOTICE_PROMISE if promised else "",
        to_confirm=texts.TO_CONFIRM.format(phone=services.center.phone)
        if UNCONFIRMED in str((sections, facts)) else "", **facts)

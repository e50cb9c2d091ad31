"""Channel stage (staff): the window rule, one check for the console and the clerk API.

A clerk reads and moves their own window's work and the general desk's (综合窗口);
supervisors, directors and admins (and API tokens given `@*`) reach every window. Work
belongs to a window by its matter (cases, home visits, notices) or by its slot (bookings);
work with no matter, or a matter no window takes, is the general desk's.
"""

from __future__ import annotations

from bot.appointments.bookings import NotFound
from bot.appointments.home_visits import HomeVisitService
from bot.appointments.rules import BookingRules
from bot.appointments.service import BookingService
from bot.console.accounts import Who
from bot.storage.tables import HomeVisit

GENERAL = "general"
MOVERS = ("clerk", "supervisor", "admin")  # roles that move work; directors only read


class OtherWindow(Exception):
    """A clerk reached for another window's work: 403 at every edge, with this message."""

    def __init__(self, what: str) -> None:
        super().__init__(f"这是别的窗口的{what}，您不能查看或办理")


def matter_window(rules: BookingRules, matter_id: str | None) -> str:
    window = rules.window_for(matter_id or "")
    return window.id if window else GENERAL


def visit_window(rules: BookingRules, visit: HomeVisit) -> str:
    return matter_window(rules, visit.matter_id)


def require(who: Who, window: str, what: str) -> None:
    """Raise OtherWindow unless `who` may touch `window`'s work."""
    if not who.sees(window):
        raise OtherWindow(what)


def hidden_matters(rules: BookingRules, who: Who) -> list[str]:
    """The matters of the windows `who` does not see (empty: they see all)."""
    return [m for w in rules.windows if not who.sees(w.id) for m in w.matters]


async def booking_in_window(bookings: BookingService, booking_no: str, who: Who) -> None:
    """NotFound if there is no such booking; OtherWindow if it is not `who`'s."""
    booking = await bookings.get(booking_no)
    if booking is None:
        raise NotFound("没有这个预约号")
    require(who, booking.slot.window, "预约")


async def visit_in_window(visits: HomeVisitService, rules: BookingRules, visit_no: str,
                          who: Who) -> None:
    """NotFound if there is no such home visit; OtherWindow if it is not `who`'s."""
    visit = await visits.get(visit_no)
    if visit is None:
        raise NotFound("没有找到这个上门服务申请")
    require(who, visit_window(rules, visit), "上门服务")

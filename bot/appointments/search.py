"""Domain services stage: finding bookings (预约查询) for the clerks — by booking number,
name (or its beginning), phone (in full or its last 4 digits), matter, status and the days
of the appointment (China days), a page at a time, earliest first.

Each filter is one an index serves (alembic 0010: name, phone and the phone's last four on
bookings; the slot's start time). The window rule travels with the query: another
window's booking is neither listed nor counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, select

from bot import chinatime
from bot.cases.identity import normalize
from bot.storage.finding import LIKE_ESCAPE, starts_with
from bot.storage.tables import Booking, LastFour, ServiceSlot


@dataclass(frozen=True, slots=True)
class BookingQuery:
    windows: Sequence[str] | None  # the window rule (with the general desk); None: all
    number: str = ""
    name: str = ""  # who booked or whom it is for, or its beginning
    phone: str = ""  # the whole number, or its last 4 digits
    matter: str = ""
    status: str = ""
    first: date | None = None  # the appointment's day, both ends included
    last: date | None = None

    def filters(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.windows is not None:
            found.append(ServiceSlot.window.in_([*self.windows, "general"]))
        if self.number.strip():
            found.append(Booking.booking_no == normalize(self.number))
        if self.name.strip():
            pattern = starts_with(self.name.strip())
            found.append(Booking.name.like(pattern, escape=LIKE_ESCAPE)
                         | Booking.person_name.like(pattern, escape=LIKE_ESCAPE))
        phone = normalize(self.phone)
        if phone:
            found.append(LastFour(Booking.phone) == phone if len(phone) == 4
                         else Booking.phone == phone)
        if self.matter:
            found.append(Booking.matter_id == self.matter)
        if self.status:
            found.append(Booking.status == self.status)
        if self.first is not None:
            found.append(ServiceSlot.starts_at >= chinatime.day_start(self.first))
        if self.last is not None:
            found.append(ServiceSlot.starts_at < chinatime.day_start(
                self.last + timedelta(days=1)))
        return found


def booking_search(query: BookingQuery) -> Select[Booking]:
    """Matching bookings, the earliest appointment first."""
    return select(Booking).join(ServiceSlot).where(*query.filters()).order_by(
        ServiceSlot.starts_at, Booking.id)

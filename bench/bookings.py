"""Appointment benchmarks (issue #5 targets), printed as figures, on PostgreSQL.

- 200 concurrent villagers booking the last 50 places: exactly 50 bookings, no slot over
  its capacity;
- slot search with a year of calendar for 5 windows and 50,000 bookings: p99 ≤ 50 ms.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import func, select, update

from bench.common import fresh_database, percentile
from bot.appointments.bookings import BookingError
from bot.appointments.rules import Session, load_booking_rules
from bot.appointments.service import BookingRequest, BookingService
from bot.appointments.when import When
from bot.config import ROOT
from bot.storage.db import open_database
from bot.storage.tables import Booking, ServiceSlot
from bot.workdays import load_work_calendar

DATABASE = "bianmin_bench_bookings"
RULES = load_booking_rules(ROOT / "catalogue")
# The example center's 4 windows hold ~30,000 places a year: three such centers' windows
# in one database hold the 50,000 bookings.
WINDOWS = [dataclasses.replace(w, id=f"{w.id}-{n}") for w in RULES.windows for n in range(3)]
BOOKINGS = 50_000
SEARCHES = 1000




async def main() -> None:
    calendar = load_work_calendar(ROOT / "catalogue")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    url = await fresh_database(DATABASE)
    async with open_database(url) as sessions:
        service = BookingService(sessions, calendar, RULES, lambda: now)
        for window in WINDOWS:
            await service.ensure_slots(window.id, window.sessions, date(2026, 1, 2), 365)
        async with sessions.begin() as session:
            slots = list(await session.scalars(select(ServiceSlot.id)))
            roomy = list(await session.scalars(select(ServiceSlot.id)
                                               .where(ServiceSlot.capacity >= 2)))
            chosen = random.Random(3).sample(roomy, BOOKINGS // 2)  # full: 2 bookings each
            await session.execute(update(ServiceSlot).where(ServiceSlot.id.in_(chosen))
                                  .values(booked=2))
            await session.execute(Booking.__table__.insert(), [
                {"booking_no": f"YB{n:010d}", "idempotency_key": f"bench-{n}",
                 "slot_id": slot_id, "user_id": f"o_{n}", "matter_id": "dibao",
                 "status": "booked", "created_at": now}
                for n, slot_id in enumerate(chosen * 2)])
        print(f"bookings benchmark: {len(slots)} slots (a year, {len(WINDOWS)} windows), "
              f"{len(chosen) * 2} bookings", flush=True)

        searches = []
        rng = random.Random(5)
        for _ in range(SEARCHES):
            first = date(2026, 1, 2) + timedelta(days=rng.randrange(330))
            started = time.perf_counter()
            await service.offer(rng.choice(WINDOWS), When(first, first + timedelta(days=7)))
            searches.append(time.perf_counter() - started)

        last_day = date(2026, 12, 30)
        await service.ensure_slots("抢号窗口", [Session("regular", "workdays", clock_time(9),
                                   clock_time(17), 60, 1)], last_day - timedelta(days=9), 10)
        free = await service.open_slots("抢号窗口", last_day - timedelta(days=9), last_day,
                                        limit=50)

        async def attempt(n: int) -> bool:
            try:
                await service.book(BookingRequest(free[n % len(free)].id, f"o_rush_{n}",
                                                  "id_card", f"r-{n}"))
            except BookingError:
                return False
            return True

        started = time.perf_counter()
        won = sum(await asyncio.gather(*(attempt(n) for n in range(200))))
        rush = time.perf_counter() - started
        async with sessions() as session:
            over = await session.scalar(select(func.count()).select_from(ServiceSlot)
                                        .where(ServiceSlot.booked > ServiceSlot.capacity))
    await fresh_database(DATABASE)
    print(f"slot search (offer, 7 days of one window): "
          f"p50 {statistics.median(searches) * 1000:.1f} ms,"
          f" p99 {percentile(searches, 0.99) * 1000:.1f} ms")
    print(f"200 concurrent villagers for the last {len(free)} places: {won} bookings, "
          f"{over} slots over capacity, {rush:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())

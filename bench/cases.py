"""Case benchmarks (issue #4 targets), printed as figures, on PostgreSQL.

- case creation with 6 photos: keep 6 photos (check, checksum, write) and submit the case
  (one transaction with checklist, history and outbox event) — server time, the WeChat media
  download excluded (target ≤ 300 ms);
- progress query with 100,000 cases in the table: a villager's own cases with their history,
  and a receipt-number lookup (target p99 ≤ 50 ms).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.common import fresh_database, percentile
from bot.cases.application import MaterialItem, NewCase
from bot.cases.service import CaseService
from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from bot.storage.db import open_database
from bot.storage.files import LocalFileStore
from bot.storage.tables import Case, CaseStatusChange
from bot.workdays import load_work_calendar

DATABASE = "bianmin_bench"
EXISTING_CASES = 100_000
USERS = 20_000
SUBMISSIONS = 100
QUERIES = 1000
ID_NUMBER = "11010519491231002X"




async def fill(sessions: object, matters: list[str]) -> list[tuple[str, str]]:
    """100,000 cases with two history rows each, in batches; returns (receipt, user) pairs."""
    started = datetime(2026, 1, 5, tzinfo=UTC)
    pairs = []
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        for batch in range(0, EXISTING_CASES, 5000):
            rows = []
            for n in range(batch, batch + 5000):
                accepted = started + timedelta(minutes=5 * n)
                receipt, user = f"BX{n:011d}", f"o_user_{n % USERS}"
                pairs.append((receipt, user))
                rows.append({"receipt_no": receipt, "matter_id": matters[n % len(matters)],
                             "channel": "wechat", "user_id": user, "applicant_name": "张三",
                             "applicant_id_number": ID_NUMBER, "phone": "13800001234",
                             "village": "石桥村", "status": "reviewing", "accepted_at": accepted,
                             "due_date": accepted.date() + timedelta(days=30),
                             "due_assumed": False, "promised_days": 20})
            ids = list(await session.scalars(insert(Case).returning(Case.id), rows))
            await session.execute(insert(CaseStatusChange), [
                {"case_id": case_id, "from_status": old, "to_status": new, "actor": "窗口",
                 "reason": "", "missing": [], "at": started}
                for case_id in ids for old, new in ((None, "accepted"), ("accepted", "reviewing"))
            ])
    return pairs


async def main() -> None:
    catalogue = load_catalogue(ROOT / "catalogue")
    calendar = load_work_calendar(ROOT / "catalogue")
    url = await fresh_database(DATABASE)
    print(f"case benchmark: PostgreSQL, {os.cpu_count()} CPUs", flush=True)
    async with open_database(url) as sessions:
        loaded = time.perf_counter()
        pairs = await fill(sessions, [m.id for m in catalogue])
        print(f"loaded {EXISTING_CASES} cases in {time.perf_counter() - loaded:.1f} s",
              flush=True)
        cases = CaseService(sessions, catalogue, calendar)
        with tempfile.TemporaryDirectory() as directory:
            files = LocalFileStore(Path(directory))
            creation = []
            for n in range(SUBMISSIONS):
                photos = [b"\xff\xd8\xff\xe0" + os.urandom(2 * 1024 * 1024) for _ in range(6)]
                started = time.perf_counter()
                items = []
                for index, photo in enumerate(photos):
                    saved = await files.save(photo)
                    items.append(MaterialItem(f"材料{index + 1}", "received",
                                              await cases.record_file(saved)))
                await cases.submit(NewCase(
                    matter_id="senior_allowance", channel="wechat", user_id=f"o_new_{n}",
                    applicant_name="王秀英", applicant_id_number=ID_NUMBER,
                    phone="13800001234", village="石桥村", materials=items,
                    draft_key=f"bench-{n}"))
                creation.append(time.perf_counter() - started)
        own, lookup = [], []
        for receipt, user in random.Random(7).sample(pairs, QUERIES):
            started = time.perf_counter()
            await cases.cases_of(user)
            own.append(time.perf_counter() - started)
            started = time.perf_counter()
            await cases.find_for(receipt, user_id=user)
            lookup.append(time.perf_counter() - started)
    print(f"case creation with 6 photos of 2 MB (no media download): "
          f"p50 {statistics.median(creation) * 1000:.0f} ms, "
          f"p99 {percentile(creation, 0.99) * 1000:.0f} ms")
    print(f"progress with {EXISTING_CASES} cases: own cases p50 "
          f"{statistics.median(own) * 1000:.1f} ms p99 {percentile(own, 0.99) * 1000:.1f} ms; "
          f"by receipt p50 {statistics.median(lookup) * 1000:.1f} ms "
          f"p99 {percentile(lookup, 0.99) * 1000:.1f} ms")
    await fresh_database(DATABASE)


if __name__ == "__main__":
    asyncio.run(main())

"""The one clock: China time whatever the server's time zone, in both databases."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot import chinatime
from bot.cases.service import CaseService
from bot.console.figures import figures
from bot.handoff.service import HandoffService
from bot.storage.db import open_database
from bot.storage.tables import Case
from bot.web.console_base import TEMPLATES
from tests import conftest
from tests.test_cases import CALENDAR, CATALOGUE, NIGHT, application


def test_china_dates_and_times_do_not_depend_on_the_servers_zone(server_tz):
    late = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on 1 December in Beijing
    assert chinatime.day_of(late) == date(2026, 12, 1)
    assert chinatime.shown(late) == "2026-12-01 00:30"
    assert chinatime.shown(late.replace(tzinfo=None), "%m-%d %H:%M") == "12-01 00:30"
    assert chinatime.day_of(NIGHT["23:30"]) == date(2026, 12, 1)
    assert chinatime.day_start(date(2026, 12, 1)) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    console = TEMPLATES.from_string("{{ t }} {{ t|china('%H:%M') }} {{ d }}")
    assert console.render(t=late, d=date(2026, 12, 1)) == "2026-12-01 00:30 00:30 2026-12-01"
    before = (datetime.now(UTC) + timedelta(hours=8)).date()
    today = chinatime.today()
    assert before <= today <= (datetime.now(UTC) + timedelta(hours=8)).date()


@pytest.fixture(params=["postgresql", "sqlite"])
async def any_database(request, sessions, tmp_path):
    """PostgreSQL (production) and SQLite (`make run`)."""
    if request.param == "postgresql":
        yield sessions
        return
    async with open_database(f"sqlite+aiosqlite:///{tmp_path}/bot.db") as sessions:
        yield sessions


async def test_the_database_keeps_the_instant_whatever_zone_it_is_given(any_database):
    cases = CaseService(any_database, CATALOGUE, CALENDAR, conftest.Clock(NIGHT["00:30"]))
    case = await cases.submit(application())
    async with any_database() as session:
        stored = await session.get(Case, case.id)
    assert stored.accepted_at == NIGHT["00:30"]
    assert chinatime.shown(stored.accepted_at) == "2026-12-01 00:30"


@pytest.mark.parametrize("beijing", NIGHT.values(), ids=NIGHT.keys())
async def test_todays_figures_and_the_month_are_counted_in_china_days(any_database,
                                                                      real_redis, beijing):
    clock = conftest.Clock(beijing.astimezone(UTC))  # the server's clock runs in UTC
    await CaseService(any_database, CATALOGUE, CALENDAR, clock).submit(application())
    handoffs = HandoffService(any_database, CALENDAR, [(time(9), time(17))],
                              lambda matter: "general", {"general": "综合窗口"}, clock=clock)
    await handoffs.open("o_night", "wechat", "asked", None, [])
    today = chinatime.day_of(clock())
    found = await figures(any_database, real_redis, handoffs, today, today, {})
    assert (found.cases, found.handoffs["handoffs"]) == (1, 1)
    assert found.by_month == [("2026-12", 1)]

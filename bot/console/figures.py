"""Domain services stage: the director's figures (办件量, 按时办结率, 满意度…) for a period.

Counted in the database (GROUP BY), so a month among 100,000 cases stays fast; the questions
the bot was asked, and those it answered from the guide, are counted per day in Redis by the
dialogue (bot containment, bot/dialogue/state.py): only answered ones count as contained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.handoff.service import HandoffService
from bot.storage import keys as storage_keys
from bot.storage.tables import Case


@dataclass
class Figures:
    first: date
    last: date
    cases: int = 0
    by_matter: list[tuple[str, int]] = field(default_factory=list)
    by_village: list[tuple[str, int]] = field(default_factory=list)
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    by_month: list[tuple[str, int]] = field(default_factory=list)
    completed: int = 0
    on_time: int = 0
    average_days: float | None = None
    handoffs: dict[str, Any] = field(default_factory=dict)
    questions: int = 0
    answered: int = 0  # of the questions, those the bot answered from the guide

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.completed if self.completed else None

    @property
    def containment(self) -> float | None:
        """The share of questions the bot answered from the guide; a bare menu, 「没听懂」
        or a handoff contains nothing."""
        if not self.questions:
            return None
        return min(1.0, self.answered / self.questions)

    @property
    def satisfaction(self) -> float | None:
        rated = self.handoffs.get("rated", 0)
        return int(self.handoffs.get("satisfied", 0)) / int(rated) if rated else None


async def figures(sessions: async_sessionmaker[AsyncSession], redis: Redis,
                  handoffs: HandoffService, first: date, last: date,
                  names: dict[str, str]) -> Figures:
    in_period = (Case.accepted_at >= chinatime.day_start(first),
                 Case.accepted_at < chinatime.day_start(last + timedelta(days=1)))
    found = Figures(first, last)
    async with sessions() as session:
        async def grouped(column: Any) -> list[tuple[str, int]]:
            rows = await session.execute(select(column, func.count()).where(*in_period)
                                         .group_by(column).order_by(func.count().desc()))
            return [(str(key), int(count)) for key, count in rows]

        found.by_matter = [(names.get(k, k), n) for k, n in await grouped(Case.matter_id)]
        found.by_village = await grouped(Case.village)
        found.by_channel = await grouped(Case.channel)
        found.cases = sum(n for _, n in found.by_matter)
        found.by_month = sorted(await grouped(_china_month(session)))
        closed = list(await session.execute(
            select(Case.accepted_at, Case.closed_at, Case.due_date).where(
                *in_period, Case.status == "completed")))
    found.completed = len(closed)
    found.on_time = sum(1 for accepted, done, due in closed
                        if due is None or (done and chinatime.day_of(done) <= due))
    spans = [(done - accepted).total_seconds() / 86400 for accepted, done, _ in closed
             if done and accepted]
    found.average_days = sum(spans) / len(spans) if spans else None
    found.handoffs = await handoffs.figures(first, last)
    found.questions = await _per_day(redis, storage_keys.QUESTIONS_ON, first, last)
    found.answered = await _per_day(redis, storage_keys.ANSWERED_ON, first, last)
    return found


async def _per_day(redis: Redis, pattern: str, first: date, last: date) -> int:
    """A daily Redis counter summed over the period."""
    keys = [pattern.format(day=(first + timedelta(days=n)).isoformat())
            for n in range((last - first).days + 1)]
    return sum(int(v or 0) for v in await redis.mget(keys)) if keys else 0


def _china_month(session: AsyncSession) -> Any:
    """「2026-12」 of a case's acceptance in China, in SQL (stored UTC; SQLite has no zones)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(chinatime.ZONE_NAME, Case.accepted_at), "YYYY-MM")
    hours = int(chinatime.OFFSET.total_seconds() // 3600)
    return func.strftime("%Y-%m", Case.accepted_at, f"{hours:+d} hours")

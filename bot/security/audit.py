"""Storage stage: the audit log (table audit_log) — who did what, when, before and after.

Written by the console for every clerk action and by the lockouts when a guesser is
locked out; read by the console's 「操作记录」 page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.tables import AuditEntry

# the columns' sizes: a typed-in name of any length is cut rather than failing the insert
ACTOR_CHARS, ACTION_CHARS, TARGET_CHARS = 64, 64, 128


class AuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._clock = clock

    async def record(self, actor: str, action: str, target: str,
                     before: dict[str, Any] | None = None,
                     after: dict[str, Any] | None = None) -> None:
        async with self._sessions.begin() as session:
            session.add(AuditEntry(at=self._clock(), actor=actor[:ACTOR_CHARS],
                                   action=action[:ACTION_CHARS], target=target[:TARGET_CHARS],
                                   before=before, after=after))

    async def latest(self, limit: int = 200) -> list[AuditEntry]:
        async with self._sessions() as session:
            return list(await session.scalars(select(AuditEntry).order_by(
                AuditEntry.id.desc()).limit(limit)))

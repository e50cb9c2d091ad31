"""Domain services stage: admins' edits of a matter, kept as revisions in PostgreSQL.

Why revisions overlaid on the YAML files, not the files rewritten: several bot workers (on
several machines) share one PostgreSQL but not one disk, and the files are the center's
reviewed source (comments, seeds' line numbers) under version control. A revision holds a
whole set of the editable fields (bot/catalogue/editing.py EDITABLE) as the YAML file would
say them; the latest revision of a matter replaces those fields of its file
(`load_catalogue(edits=…)`), checked exactly as the file is. Every worker applies the
latest revisions when it starts, and 「发布更新」 checks and trains on them; nothing is ever
overwritten, so 「恢复此版本」 is one more revision with an older one's fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.tables import MatterRevision


class MatterRevisions:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._clock = clock

    async def latest(self) -> dict[str, dict[str, Any]]:
        """Each edited matter's fields as its latest revision says them."""
        newest = select(func.max(MatterRevision.id)).group_by(MatterRevision.matter_id)
        async with self._sessions() as session:
            rows = await session.scalars(select(MatterRevision).where(
                MatterRevision.id.in_(newest)))
            return {row.matter_id: dict(row.fields) for row in rows}

    async def newest(self) -> int:
        """The newest revision's id (0: none yet): it changes with every save or restore."""
        async with self._sessions() as session:
            return await session.scalar(select(func.max(MatterRevision.id))) or 0

    async def history(self, matter_id: str) -> list[MatterRevision]:
        """The matter's revisions, newest first."""
        async with self._sessions() as session:
            return list(await session.scalars(select(MatterRevision).where(
                MatterRevision.matter_id == matter_id).order_by(MatterRevision.id.desc())))

    async def add(self, matter_id: str, fields: dict[str, Any], author: str, follows: int,
                  restored_from: int | None = None) -> MatterRevision | None:
        """The new revision after `follows` (0: the file); None when another was saved
        after `follows` meanwhile (the constraint decides, whichever worker saves)."""
        revision = MatterRevision(matter_id=matter_id, fields=fields, author=author,
                                  at=self._clock(), restored_from=restored_from,
                                  follows=follows)
        try:
            async with self._sessions.begin() as session:
                session.add(revision)
        except IntegrityError:
            return None
        return revision

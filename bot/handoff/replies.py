"""Domain services stage: 常用回复 — each window's ready answers (what to bring for a lost
card, the hours on market days), picked in the console instead of typed again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.storage.tables import SavedReply

TITLE_MAX, TEXT_MAX = 40, 1500


class SavedReplyError(ValueError):
    """Refused, with the reason in words for the clerk."""


class SavedReplies:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = chinatime.now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def of(self, windows: Sequence[str] | None) -> list[SavedReply]:
        """The replies of these windows (None: all), by window and title."""
        query = select(SavedReply).order_by(SavedReply.window, SavedReply.title)
        if windows is not None:
            query = query.where(SavedReply.window.in_(windows))
        async with self._sessions() as session:
            return list(await session.scalars(query))

    async def add(self, window: str, title: str, text: str, by: str) -> SavedReply:
        title, text = title.strip(), text.strip()
        if not title or not text:
            raise SavedReplyError("标题和内容都要填")
        if len(title) > TITLE_MAX or len(text) > TEXT_MAX:
            raise SavedReplyError(f"标题最多{TITLE_MAX}个字，内容最多{TEXT_MAX}个字")
        async with self._sessions.begin() as session:
            saved = SavedReply(window=window, title=title, text=text, created_by=by,
                               created_at=self._clock())
            session.add(saved)
        return saved

    async def get(self, reply_id: int) -> SavedReply | None:
        async with self._sessions() as session:
            return await session.get(SavedReply, reply_id)

    async def remove(self, reply_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(SavedReply).where(SavedReply.id == reply_id))

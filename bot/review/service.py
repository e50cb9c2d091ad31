"""Domain services stage: 「教机器人」 — the questions the bot did not answer, and the training
examples clerks make of them.

The dialogue notes a question when the bot did not understand it, answered it only with a
bare menu or with numbered choices it could not narrow, or handed it to a person (the
villager asked, or the bot twice did not understand). Numbers (ID, phone) are masked before
anything is stored; the same question typed again (same normalized text) is one row, counted.

A clerk attaches the matter and intent it meant: a training example, pending. An admin
approves it (it joins the training data of the next 「发布更新」, bot/nlu/training.py
`build_training_input(taught=…)`) or rejects it; the question then leaves the review list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cases.identity import mask_numbers_in
from bot.intents import Intent
from bot.storage.tables import ReviewQuestion, TrainingExample

NORMALIZED_CHARS = 500  # the column's size: a longer text is grouped by its start
PER_PAGE = 20


class ReviewReason(StrEnum):
    """Why a question is up for review (the turn's outcome, bot/dialogue/state.py)."""

    NOT_UNDERSTOOD = "not_understood"  # 「没听懂」
    BARE_MENU = "bare_menu"  # a matter named, the bot asked what about it
    CHOICES = "choices"  # numbered matters offered, none picked by the bot
    ASKED_PERSON = "asked"  # the villager asked for a person (words or the menu)
    HANDED_OVER = "handed_over"  # twice not understood: handed to a person


class ExampleStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Order(StrEnum):
    NEWEST = "new"
    MOST = "count"


class ReviewError(ValueError):
    """A teaching step refused; the reason in a clerk's words."""


@dataclass(frozen=True, slots=True)
class Taught:
    """An approved example as the trainer reads it: matter None means about no matter."""

    intent: str
    matter_id: str | None
    text: str


_NOT_WORDS = re.compile(r"[\s\W_]+")


def normalized(text: str) -> str:
    """What groups repeats: full-width folded, lower case, no spaces or punctuation."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _NOT_WORDS.sub("", folded)[:NORMALIZED_CHARS]


class ReviewService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._sessions = sessions
        self._clock = clock

    async def note(self, text: str, reason: str, at: datetime) -> None:
        """One more time the bot did not answer `text` (numbers masked here, before storing)."""
        masked = mask_numbers_in(text.strip())
        key = normalized(masked)
        if not key:
            return
        async with self._sessions.begin() as session:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" \
                else sqlite_insert
            row = insert(ReviewQuestion).values(normalized=key, text=masked, reason=reason,
                                                count=1, first_seen=at, last_seen=at,
                                                taught=False)
            await session.execute(row.on_conflict_do_update(
                index_elements=["normalized"],
                # a taught question stays off the list: its example waits for the next
                # publication, and teaching it twice would only repeat it
                set_={"count": ReviewQuestion.count + 1, "text": masked, "reason": reason,
                      "last_seen": at}))

    async def questions(self, order: Order, page: int,
                        per_page: int = PER_PAGE) -> tuple[list[ReviewQuestion], int]:
        """One page of the questions still to review, and how many pages there are."""
        sort: tuple[Any, ...] = (ReviewQuestion.last_seen.desc(),) if order is Order.NEWEST \
            else (ReviewQuestion.count.desc(), ReviewQuestion.last_seen.desc())
        open_ = ReviewQuestion.taught.is_(False)
        async with self._sessions() as session:
            total = int(await session.scalar(
                select(func.count()).select_from(ReviewQuestion).where(open_)) or 0)
            rows = await session.scalars(select(ReviewQuestion).where(open_).order_by(
                *sort, ReviewQuestion.id.desc()).offset((page - 1) * per_page).limit(per_page))
            return list(rows), max(1, -(-total // per_page))

    async def propose(self, question_id: int, intent: str, matter_id: str | None, by: str,
                      matters: Collection[str]) -> TrainingExample:
        """The question as a training example, pending an admin's decision."""
        if intent not in {i.value for i in Intent}:
            raise ReviewError("请选择村民想问什么（意图）")
        if matter_id is not None and matter_id not in matters:
            raise ReviewError("没有这个事项，请从列表里选")
        async with self._sessions.begin() as session:
            question = await session.get(ReviewQuestion, question_id, with_for_update=True)
            if question is None or question.taught:
                raise ReviewError("这个问题已经处理过了，请刷新页面")
            question.taught = True
            example = TrainingExample(
                question_id=question.id, text=question.text, intent=intent, matter_id=matter_id,
                status=ExampleStatus.PENDING, proposed_by=by, proposed_at=self._clock())
            session.add(example)
        return example

    async def decide(self, example_id: int, approve: bool, by: str) -> TrainingExample:
        """An admin's decision on a pending example; a rejected one's question goes back on
        the list, to be taught right."""
        status = ExampleStatus.APPROVED if approve else ExampleStatus.REJECTED
        async with self._sessions.begin() as session:
            decided = await session.execute(
                update(TrainingExample).where(TrainingExample.id == example_id,
                                              TrainingExample.status == ExampleStatus.PENDING)
                .values(status=status, decided_by=by, decided_at=self._clock())
                .returning(TrainingExample))
            example = decided.scalar_one_or_none()
            if example is not None and not approve and example.question_id is not None:
                await session.execute(update(ReviewQuestion).where(
                    ReviewQuestion.id == example.question_id).values(taught=False))
        if example is None:
            raise ReviewError("这条例句已经审核过了，请刷新页面")
        return example

    async def examples(self, status: ExampleStatus, limit: int = 100) -> list[TrainingExample]:
        """Pending ones oldest first (each decided moves the next up: none waits for ever);
        decided ones newest first."""
        order = TrainingExample.id if status is ExampleStatus.PENDING else \
            TrainingExample.id.desc()
        async with self._sessions() as session:
            return list(await session.scalars(
                select(TrainingExample).where(TrainingExample.status == status)
                .order_by(order).limit(limit)))

    async def taught(self) -> list[Taught]:
        """Every approved example, oldest first, for the trainer."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(TrainingExample.intent, TrainingExample.matter_id, TrainingExample.text)
                .where(TrainingExample.status == ExampleStatus.APPROVED)
                .order_by(TrainingExample.id))
            return [Taught(intent, matter, text) for intent, matter, text in rows]

"""Dialogue stage: what the dialogue needs of the domain services, as protocols (the
implementations live in bot/cases, bot/notices and bot/handoff; bot/dialogue/runtime.py wires
them).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from bot.agents.service import AgentCard, Undelivered
from bot.flows import apply as apply_flow
from bot.flows import supplement as supplement_flow
from bot.handoff.service import Opened
from bot.storage.tables import Case, HomeVisit


class Intake(apply_flow.ApplyServices, supplement_flow.SupplementServices, Protocol):
    """What the flows need of the case services (bot/cases/intake.py), and the dialogue:
    each photo or voice message kept as it arrives, for the clerks to see."""

    async def keep_media(self, media_id: str, voice: bool = ...) -> int: ...

    async def hear(self, media_id: str) -> str: ...


class Preferences(Protocol):
    """How the villager wants notices (bot/notices/outbox.py)."""

    async def set_preference(self, key: str, *, mode: str | None = None,
                             opted_out: bool | None = None) -> None: ...


class Voice(Protocol):
    """Who wants every answer read aloud (bot/voice.py)."""

    async def wants_voice(self, user_id: str) -> bool: ...

    async def set_voice(self, user_id: str, on: bool) -> None: ...


class HandoffDesk(Protocol):
    """转人工 (bot/handoff/service.py)."""

    async def open(self, user_id: str, channel: str, reason: str, matter_id: str | None,
                   transcript: list[dict[str, str]]) -> Opened: ...

    async def state(self, handoff_id: int) -> tuple[str, int | None] | None: ...

    async def villager_says(self, handoff_id: int, text: str, kind: str = ...,
                            file_id: int | None = ...) -> None: ...

    async def cancel(self, handoff_id: int) -> None: ...

    async def rate(self, handoff_id: int, rating: int) -> None: ...

    async def comment(self, handoff_id: int, text: str) -> None: ...


class CaseLookup(Protocol):
    """What the dialogue needs of the case service for 「办到哪了」."""

    async def cases_of(self, user_id: str) -> Sequence[Case]: ...

    async def find_for(self, receipt_no: str, *, user_id: str | None = None,
                       phone_last4: str | None = None) -> Case | None: ...


class AgentDesk(Protocol):
    """Village agents: binding, and what waits in their villages (bot/agents/service.py)."""

    async def bind(self, user_id: str, code: str) -> AgentCard | None: ...

    async def agent_of(self, user_id: str) -> AgentCard | None: ...

    async def village_cases(self, villages: Collection[str], *,
                            statuses: Sequence[str] = ..., limit: int = ...) -> list[Case]: ...

    async def village_visits(self, villages: Collection[str],
                             limit: int = ...) -> list[HomeVisit]: ...

    async def undelivered(self, villages: Collection[str] | None = ...,
                          since: datetime | None = ..., limit: int = ...
                          ) -> list[Undelivered]: ...


class ReviewDesk(Protocol):
    """Questions the bot did not answer, for the clerks to teach it (bot/review/service.py)."""

    async def note(self, text: str, reason: str, at: datetime) -> None: ...

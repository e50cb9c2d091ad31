"""Domain services stage: what an application carries, independent of storage.

Shared by the apply flow (which fills it in) and the case service (which stores it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


class CaseError(Exception):
    """A request the case rules refuse; the message is for the person who made it."""


class MediaRefused(Exception):
    """A photo or file that cannot be kept; the message says why, for the villager."""


@dataclass(frozen=True, slots=True)
class KeptPaper:
    """A photo (or PDF) of a paper, kept: its file, and what the photo check asks of the
    villager (the hints for a retake; none when it is fine)."""

    file_id: int
    hints: tuple[str, ...] = ()
    turned: bool = False  # lying on its side or upside down, and straightened


@dataclass(frozen=True, slots=True)
class MaterialItem:
    name: str
    state: str  # "received" (photo or file kept), "at_window" (到窗口再交), "none" (没有)
    file_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewCase:
    matter_id: str
    channel: str
    user_id: str
    applicant_name: str
    applicant_id_number: str
    phone: str
    village: str
    materials: Sequence[MaterialItem]
    variant_id: str | None = None
    agent_name: str | None = None
    draft_key: str | None = None
    relation: str | None = None  # the applicant to the one who messaged: 本人, 母亲…
    agent_id: int | None = None  # a registered agent filing it (bot/agents)
    consent: str | None = None  # how the applicant agreed to that: "sms_code" / "letter"


@dataclass(frozen=True, slots=True)
class Receipt:
    receipt_no: str
    due_date: date | None
    due_assumed: bool
    promised_days: int | None

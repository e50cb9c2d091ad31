"""Storage stage: the tables. Changes go through Alembic migrations (alembic/versions/).

    cases                  one application (办件): matter, applicant, status, deadline
    case_materials         the checklist of one case: each item received, at window or none
    stored_files           uploaded photos and files (content in the file store, checksum here)
    case_status_changes    who moved a case, when, why (and the 补正 list)
    service_slots          bookable periods per window, capacity enforced by the database
    bookings               a villager's appointment in a slot (one per confirmation)
    home_visits            a request for 上门服务, its agent and (once agreed) its half-day slot
    domain_events          the outbox: written in the same transaction as the change, read
                           by the notice workers, each turned into at most one notice
    notices                one message to one villager: text, channel plan, next attempt,
                           the lease of the worker sending it
    notice_attempts        the delivery log: each try, its channel, provider, outcome, id
    notice_preferences     per villager: WeChat first or SMS only, opted out
    clerks                 console users: role, window, scrypt password hash
    agents                 village agents (代办员): their villages, the WeChat account bound
                           with a one-time code; cases they filed point to them
    handoffs               转人工: window, who claimed it, promised time, rating
    handoff_messages       what the villager and the clerk said after the handoff
    audit_log              every console action: who, what, when, before and after
    review_questions       what the bot could not answer, one row per normalized text, counted
    training_examples      a question a clerk labelled with its matter and intent; an admin
                           approves it into the next training, or rejects it
    matter_revisions       admins' edits of a matter, each a full set of the edited fields,
                           overlaid on the YAML catalogue (the latest one counts)
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class Base(DeclarativeBase):
    pass


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, kept in UTC. SQLite stores no zone: without this a time held in China
    time would be read back 8 hours off, and compared as text with UTC ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo else value

    def process_result_value(self, value: datetime | None,
                             dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and not value.tzinfo else value


class StoredFile(Base):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(500))  # key in the file store
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # WeChat's media id where a villager sent it: each photo or voice is downloaded once
    media_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # what the photo check found, comma-separated (bot/cases/photo_check.py Defect values)
    photo_defects: Mapped[str] = mapped_column(String(100), default="", server_default="")


class LastFour(FunctionElement[str]):
    """The last four characters of a text (a phone's last 4 digits): `right(x, 4)` on
    PostgreSQL, `substr(x, -4)` on SQLite, which has no right(). The index on it and the
    search both use this one expression, so each database finds its index."""

    type = String()
    name = "last_four"
    inherit_cache = True


@compiles(LastFour)
def _last_four(element: LastFour, compiler: SQLCompiler, **kw: object) -> str:
    return f"right({compiler.process(element.clauses, **kw)}, 4)"


@compiles(LastFour, "sqlite")
def _last_four_sqlite(element: LastFour, compiler: SQLCompiler, **kw: object) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, -4)"


# A prefix search (LIKE '王秀%') uses a btree index only with the pattern operators where
# the collation is not "C" (C.UTF-8 is not, to PostgreSQL 15).
PREFIX_OPS = "varchar_pattern_ops"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # the console's search (issue #15): newest first, and each filter by an index
        Index("ix_cases_accepted_at", "accepted_at", "id"),
        Index("ix_cases_applicant_name", "applicant_name",
              postgresql_ops={"applicant_name": PREFIX_OPS}),
        Index("ix_cases_applicant_id_number", "applicant_id_number"),
        Index("ix_cases_village", "village", postgresql_ops={"village": PREFIX_OPS}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(20), unique=True)
    draft_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # one case a draft
    matter_id: Mapped[str] = mapped_column(String(64), index=True)
    variant_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128), index=True)  # who applied (openid…)
    applicant_name: Mapped[str] = mapped_column(String(64))
    applicant_id_number: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    village: Mapped[str] = mapped_column(String(64))
    agent_name: Mapped[str | None] = mapped_column(String(64))  # 代办员 applying for them
    # a registered agent who filed it: they get its notices too (the applicant keeps theirs)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    # how the applicant agreed to the agent filing: "sms_code" (a code sent to their phone,
    # told to the agent) or "letter" (the signed 授权委托书, photographed)
    consent: Mapped[str | None] = mapped_column(String(16))
    # who the applicant is to the one who messaged (本人, 母亲, 父亲…), where they said
    relation: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    result: Mapped[str | None] = mapped_column(String(16))  # 可领取 / 已送达 when completed
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    due_assumed: Mapped[bool] = mapped_column(Boolean, default=False)
    promised_days: Mapped[int | None] = mapped_column(Integer)
    paused_since: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    materials: Mapped[list[CaseMaterial]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseMaterial.position")
    changes: Mapped[list[CaseStatusChange]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseStatusChange.id")


# 「电话后4位」: an expression index, declared once the table's columns exist
Index("ix_cases_phone_last4", LastFour(Case.__table__.c.phone))


class CaseMaterial(Base):
    __tablename__ = "case_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # received / at_window / none
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))

    case: Mapped[Case] = relationship(back_populates="materials")


class CaseStatusChange(Base):
    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UtcDateTime())

    case: Mapped[Case] = relationship(back_populates="changes")


class DomainEvent(Base):
    __tablename__ = "domain_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # when the notice workers turned it into a notice (or decided it needs none)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    # reminders are written by every worker's scheduler: the key makes one of them win
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)


class ServiceSlot(Base):
    """A bookable period at one window (or for one matter group): 预约、延时、逢场日."""

    __tablename__ = "service_slots"
    __table_args__ = (
        UniqueConstraint("window", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="slot_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    window: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # regular / extended / market
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (  # 预约查询 (issue #15): by name or its beginning, by phone
        Index("ix_bookings_name", "name", postgresql_ops={"name": PREFIX_OPS}),
        Index("ix_bookings_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_no: Mapped[str] = mapped_column(String(20), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)  # a retried 「1」
    slot_id: Mapped[int] = mapped_column(ForeignKey("service_slots.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    matter_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64), default="")  # who booked, and comes
    phone: Mapped[str] = mapped_column(String(20), default="")
    # whom the matter is for, where not the one who booked (「帮我妈约」: 母亲, her name)
    person_name: Mapped[str | None] = mapped_column(String(64))
    relation: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="wechat")
    # booked → arrived → done; booked → cancelled / late_cancelled / no_show / moved
    status: Mapped[str] = mapped_column(String(16))
    moved_to: Mapped[str | None] = mapped_column(String(20))  # the booking it was changed to
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    slot: Mapped[ServiceSlot] = relationship(lazy="joined", innerjoin=True)


Index("ix_bookings_phone_last4", LastFour(Booking.__table__.c.phone))


class HomeVisit(Base):
    """上门服务: requested by the villager, scheduled by the agent covering the village."""

    __tablename__ = "home_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_no: Mapped[str] = mapped_column(String(20), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    person_name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18))
    for_self: Mapped[bool] = mapped_column(Boolean)
    relation: Mapped[str | None] = mapped_column(String(16))  # 母亲, 父亲… where said
    reason: Mapped[str] = mapped_column(String(16))  # age / disability / illness
    age: Mapped[int | None] = mapped_column(Integer)
    matter_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(200))
    village: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    phone: Mapped[str] = mapped_column(String(20))
    preferred: Mapped[list[str]] = mapped_column(JSON)  # ["2026-11-24 am", …]
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # requested/scheduled/done/…
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("service_slots.id"), index=True)
    # the agent proposed a time the villager had not offered
    proposed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    slot: Mapped[ServiceSlot | None] = relationship(lazy="joined")


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_due", "status", "next_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("domain_events.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    openid: Mapped[str | None] = mapped_column(String(128))  # a WeChat follower
    phone: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)  # the SMS / customer-service text
    values: Mapped[dict[str, str]] = mapped_column(JSON)  # template parameters
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # pending / sent / failed / cancelled
    sent_via: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    event_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class NoticeAttempt(Base):
    __tablename__ = "notice_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    channel: Mapped[str] = mapped_column(String(16))  # wechat / sms
    provider: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # sent / retry / fallback / failed / later
    code: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    # the provider's delivery receipt (it may come more than once; the first one counts)
    receipt: Mapped[str | None] = mapped_column(String(64))
    receipt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NoticePreference(Base):
    """How a villager wants to be told; keyed by user id (openid…) or by phone number."""

    __tablename__ = "notice_preferences"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default="wechat_first")  # or sms_only
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Clerk(Base):
    """A console user: clerk of a window, supervisor, director or admin."""

    __tablename__ = "clerks"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # clerk / supervisor / director / admin
    window: Mapped[str | None] = mapped_column(String(64))  # a clerk's window (booking.yml)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # bumped by a new password or disabling: sessions of an older generation are refused
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Agent(Base):
    """A village agent (代办员), registered by a clerk; bound to a WeChat account by a
    one-time code (only its hash is kept)."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    villages: Mapped[list[str]] = mapped_column(JSON)
    user_id: Mapped[str | None] = mapped_column(String(128), unique=True)  # bound openid
    bound_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Handoff(Base):
    """转人工: one villager's question handed to the clerks, from opening to the rating."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))  # asked / complaint / not_understood / …
    matter_id: Mapped[str | None] = mapped_column(String(64))
    window: Mapped[str] = mapped_column(String(64), index=True)  # or "general"
    status: Mapped[str] = mapped_column(String(16), index=True)  # waiting/claimed/closed/…
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    transcript: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # the chat before it
    # what the villager wrote, before and after: the clerks search it (人工记录)
    said: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())  # promised answer
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_reply_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)  # 1 非常满意 … 5 非常不满意
    comment: Mapped[str | None] = mapped_column(Text)


class HandoffMessage(Base):
    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    author: Mapped[str] = mapped_column(String(64))  # "villager" or the clerk's username
    text: Mapped[str] = mapped_column(Text)
    # text / image / voice from the villager; "note": between clerks, never sent (a transfer)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))


class SavedReply(Base):
    """常用回复: a window's ready answers a clerk picks instead of typing."""

    __tablename__ = "saved_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    window: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditEntry(Base):
    """Who did what in the console, when, with the state before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, object] | None] = mapped_column(JSON)
    after: Mapped[dict[str, object] | None] = mapped_column(JSON)


class ReviewQuestion(Base):
    """A question the bot did not answer (numbers masked), its repeats counted."""

    __tablename__ = "review_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    normalized: Mapped[str] = mapped_column(String(500), unique=True)  # what groups repeats
    text: Mapped[str] = mapped_column(Text)  # the latest wording, numbers masked
    reason: Mapped[str] = mapped_column(String(32))  # the latest: not_understood / menu / …
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    # set when a clerk turned it into a training example (then off the review list)
    taught: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class TrainingExample(Base):
    """A reviewed question with the matter and intent it should have been understood as."""

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("review_questions.id"),
                                                    index=True)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(32))
    matter_id: Mapped[str | None] = mapped_column(String(64))  # None: about no matter
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending/approved/rejected
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MatterRevision(Base):
    """One saved edit of a matter: the edited fields as the YAML file would hold them."""

    __tablename__ = "matter_revisions"
    # two admins saving over the same version: the second save is refused, not lost
    __table_args__ = (UniqueConstraint("matter_id", "follows"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[str] = mapped_column(String(64), index=True)
    fields: Mapped[dict[str, object]] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    restored_from: Mapped[int | None] = mapped_column(Integer)  # 「恢复此版本」 of that one
    follows: Mapped[int] = mapped_column(Integer, default=0)  # the revision it replaced (0: file)

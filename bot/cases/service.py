"""Domain services stage: applications (办件) — submit, move along, look up, supervise.

Every change is one transaction that also writes its domain event (the outbox the notice
workers deliver from, issue #6). Deadlines are in working days from the day of acceptance;
while a case waits for 补正 its clock stops, and the pause is added back when it resumes.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from datetime import date, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot import chinatime
from bot.cases.application import CaseError, MaterialItem, NewCase, Receipt
from bot.cases.identity import id_number_problem, normalize, phone_problem
from bot.cases.photo_check import clerk_note
from bot.cases.search import CaseQuery, search_query
from bot.cases.status import Status, move_problem
from bot.catalogue.model import Catalogue
from bot.storage.db import write_events_once
from bot.storage.files import FileStore, SavedFile
from bot.storage.finding import PAGE_SIZE, Page, fetch_page
from bot.storage.tables import (
    Agent,
    Case,
    CaseMaterial,
    CaseStatusChange,
    DomainEvent,
    HandoffMessage,
    StoredFile,
)
from bot.workdays import DueDate, WorkCalendar

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
WARNING_SHARE = 0.8  # 电子监察: a case that has used 80 % of its promised time


def new_receipt_no(today: date) -> str:
    suffix = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(5))
    return f"BM{today:%y%m%d}{suffix}"


class CaseService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], catalogue: Catalogue,
                 calendar: WorkCalendar, clock: chinatime.Clock = chinatime.now) -> None:
        self._sessions = sessions
        self._catalogue = catalogue
        self._calendar = calendar
        self._clock = clock

    def today(self) -> date:
        """The China date now: receipts, deadlines and 电子监察 count China days."""
        return chinatime.day_of(self._clock())

    async def submit(self, new: NewCase) -> Case:
        """Accept an application; the same draft submitted twice gives the same case."""
        matter = self._catalogue.get(new.matter_id)
        if matter is None:
            raise CaseError("没有这个事项")
        if matter.case_type is None:  # the seeds only name it: no guide to accept it by
            raise CaseError("这个事项的办事指南本中心还没有公布，暂时不能在这里申请")
        for problem in (id_number_problem(new.applicant_id_number), phone_problem(new.phone)):
            if problem:
                raise CaseError(problem)
        if new.draft_key and (existing := await self._by_draft(new.draft_key)):
            return existing
        now = self._clock()
        accepted = chinatime.day_of(now)
        limit = matter.time_limit
        days = 0 if limit.immediate else limit.working_days
        due = self._calendar.add_working_days(accepted, days) if days is not None else \
            DueDate(accepted + timedelta(days=limit.days), assumed=False) if limit.days else None
        for _ in range(5):  # a receipt number collision is rare; draw again
            case = Case(
                receipt_no=new_receipt_no(accepted), draft_key=new.draft_key,
                matter_id=matter.id, variant_id=new.variant_id, channel=new.channel,
                user_id=new.user_id, applicant_name=new.applicant_name.strip(),
                applicant_id_number=normalize(new.applicant_id_number),
                phone=normalize(new.phone), village=new.village.strip(),
                agent_name=new.agent_name, relation=new.relation, agent_id=new.agent_id,
                consent=new.consent,
                status=Status.ACCEPTED.value, accepted_at=now,
                due_date=due.day if due else None, due_assumed=bool(due and due.assumed),
                promised_days=days,
                materials=[CaseMaterial(position=n, name=m.name, state=m.state,
                                        file_id=m.file_id)
                           for n, m in enumerate(new.materials)],
                changes=[CaseStatusChange(from_status=None, to_status=Status.ACCEPTED.value,
                                          actor=new.agent_name or "申请人", reason="",
                                          missing=[], at=now)],
            )
            try:
                async with self._sessions.begin() as session:
                    session.add(case)
                    await session.flush()
                    session.add_all(await self._events(session, case, None, "", []))
                return await self.get(case.receipt_no)
            except IntegrityError:
                if new.draft_key and (existing := await self._by_draft(new.draft_key)):
                    return existing  # the same draft won a race with itself
        raise CaseError("系统繁忙，请稍后再试")

    async def move(self, receipt_no: str, target: Status, actor: str, reason: str = "",
                   missing: Sequence[str] = (), result: str | None = None) -> Case:
        """A clerk moves a case along; illegal moves are refused with the reason."""
        if target is Status.NEEDS_MATERIALS and not missing:
            raise CaseError("要求补正时请列出缺少或不合格的材料（一次性告知）")
        if target in (Status.REJECTED, Status.RETURNED) and not reason.strip():
            raise CaseError("不予受理或退回时请写明理由")
        async with self._sessions.begin() as session:
            case = await session.scalar(
                select(Case).where(Case.receipt_no == receipt_no).with_for_update())
            if case is None:
                raise CaseError("没有这个受理编号")
            matter = self._catalogue.get(case.matter_id)
            current = Status(case.status)
            problem = move_problem(matter.case_type, current, target) \
                if matter and matter.case_type else "事项已下线或还没有办事指南"
            if problem:
                raise CaseError(problem)
            now = self._clock()
            self._run_clock(case, current, target, chinatime.day_of(now))
            case.status = target.value
            if target.closed:
                case.closed_at = now
                case.result = result if target is Status.COMPLETED else None
            session.add(CaseStatusChange(case_id=case.id, from_status=current.value,
                                         to_status=target.value, actor=actor, reason=reason,
                                         missing=list(missing), at=now))
            session.add_all(await self._events(session, case, current, reason, list(missing)))
        return await self.get(receipt_no)

    async def supplement(self, receipt_no: str, user_id: str,
                         items: Sequence[MaterialItem]) -> Case:
        """The applicant hands in what 补正 asked for. Every item sent as a photo or file →
        the case goes back to 审核中 (the clock runs again); items to bring → it waits."""
        async with self._sessions.begin() as session:
            case = await session.scalar(
                select(Case).where(Case.receipt_no == receipt_no, Case.user_id == user_id)
                .options(selectinload(Case.materials)).with_for_update())
            if case is None or Status(case.status) is not Status.NEEDS_MATERIALS:
                raise CaseError("这个申请现在不需要补交材料")
            position = len(case.materials)
            for offset, item in enumerate(items):
                session.add(CaseMaterial(case_id=case.id, position=position + offset,
                                         name=item.name, state=item.state,
                                         file_id=item.file_id))
            if items and all(item.state == "received" for item in items):
                now = self._clock()
                self._run_clock(case, Status.NEEDS_MATERIALS, Status.REVIEWING,
                                chinatime.day_of(now))
                case.status = Status.REVIEWING.value
                reason = "申请人已补交：" + "、".join(item.name for item in items)
                session.add(CaseStatusChange(case_id=case.id, from_status="needs_materials",
                                             to_status=case.status, actor="申请人",
                                             reason=reason, missing=[], at=now))
                session.add_all(await self._events(session, case, Status.NEEDS_MATERIALS,
                                                   reason, []))
        return await self.get(receipt_no)

    async def waiting_for_materials(self, user_id: str) -> list[Case]:
        """The applicant's cases in 待补正, with the list each is waiting for."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Case).where(Case.user_id == user_id,
                                   Case.status == Status.NEEDS_MATERIALS.value)
                .options(selectinload(Case.changes)).order_by(Case.accepted_at))
            return list(rows)

    async def remind_waiting(self, days: int) -> int:
        """A reminder event for each case waiting `days` days or more in 待补正, once per
        pause (dedup_key)."""
        today = self.today()  # the same day paused_since was written with
        events = []
        async with self._sessions() as session:
            waiting = list(await session.scalars(
                select(Case).where(Case.status == Status.NEEDS_MATERIALS.value,
                                   Case.paused_since <= today - timedelta(days=days))
                .options(selectinload(Case.changes))))
            for case in waiting:
                asked = case.changes[-1].missing if case.changes else []
                for event in await self._events(session, case, Status.NEEDS_MATERIALS, "",
                                                list(asked)):
                    agent_copy = ":agent" if event.payload.get("for_agent") else ""
                    event.kind, event.dedup_key = "case.waiting_reminder", \
                        f"waiting:{case.receipt_no}:{case.paused_since}{agent_copy}"
                    events.append(event)
        return await write_events_once(self._sessions, events)

    def _run_clock(self, case: Case, current: Status, target: Status, today: date) -> None:
        """Stop the promised clock during 补正; on resuming, push the due date by the pause."""
        if target is Status.NEEDS_MATERIALS:
            case.paused_since = today
        elif current is Status.NEEDS_MATERIALS and case.paused_since is not None:
            paused = self._calendar.working_days_between(case.paused_since, today)
            if case.due_date is not None and paused:
                due = self._calendar.add_working_days(case.due_date, paused)
                case.due_date, case.due_assumed = due.day, case.due_assumed or due.assumed
            case.paused_since = None

    @staticmethod
    def receipt(case: Case) -> Receipt:
        return Receipt(case.receipt_no, case.due_date, case.due_assumed, case.promised_days)

    async def record_file(self, saved: SavedFile, media_id: str | None = None,
                          photo_defects: str = "") -> int:
        """The database row of a kept upload (with what the photo check found); the id goes
        on the material item, the transcript line or the handoff message."""
        async with self._sessions.begin() as session:
            row = StoredFile(sha256=saved.sha256, size=saved.size,
                             content_type=saved.content_type, location=saved.location,
                             created_at=self._clock(), media_id=media_id,
                             photo_defects=photo_defects)
            session.add(row)
            await session.flush()
            return row.id

    async def file_of_media(self, media_id: str) -> int | None:
        """The file already kept for a WeChat media id, if any."""
        async with self._sessions() as session:
            return await session.scalar(select(StoredFile.id).where(
                StoredFile.media_id == media_id).order_by(StoredFile.id).limit(1))

    async def content_types(self, file_ids: Collection[int]) -> dict[int, str]:
        async with self._sessions() as session:
            rows = await session.execute(select(StoredFile.id, StoredFile.content_type).where(
                StoredFile.id.in_(file_ids)))
            return {row.id: row.content_type for row in rows}

    async def photo_notes(self, file_ids: Collection[int]) -> dict[int, str]:
        """For the clerk, what the photo check found in each photo that has a note."""
        async with self._sessions() as session:
            rows = await session.execute(select(StoredFile.id, StoredFile.photo_defects).where(
                StoredFile.id.in_(file_ids), StoredFile.photo_defects != ""))
            return {row.id: clerk_note(row.photo_defects) for row in rows}

    async def stored_file(self, file_id: int) -> StoredFile | None:
        async with self._sessions() as session:
            return await session.get(StoredFile, file_id)

    async def purge_files(self, days: int, store: FileStore) -> int:
        """Retention: the photos of cases closed more than `days` days ago are deleted. The
        store is content-addressed, so a photo another case still uses stays. The rows go
        first, then the content: a failure leaves an unused file, never a dangling row."""
        cutoff = self._clock() - timedelta(days=days)
        async with self._sessions.begin() as session:
            materials = list(await session.scalars(
                select(CaseMaterial).join(Case).where(Case.closed_at < cutoff,
                                                      CaseMaterial.file_id.is_not(None))))
            file_ids = {m.file_id for m in materials if m.file_id}
            for material in materials:
                material.file_id = None
            await session.flush()
            gone = await self._drop_unused(session, file_ids)
        return await self._delete_content(gone, store)

    async def purge_chat_files(self, days: int, store: FileStore) -> int:
        """Retention of what villagers sent in chat (kept as it arrived, for the clerks):
        older than `days` (the transcripts' TRANSCRIPT_DAYS) and on no case, it goes; a
        handoff then says the photo is past keeping."""
        cutoff = self._clock() - timedelta(days=days)
        async with self._sessions.begin() as session:
            file_ids = set(await session.scalars(select(StoredFile.id).where(
                StoredFile.created_at < cutoff, StoredFile.media_id.is_not(None))))
            gone = await self._drop_unused(session, file_ids)
        return await self._delete_content(gone, store)

    @staticmethod
    async def _drop_unused(session: AsyncSession, file_ids: set[int]) -> list[StoredFile]:
        """The rows of `file_ids` no case material uses, deleted (a handoff's message keeps
        its words, not the file)."""
        still_used = set(await session.scalars(select(CaseMaterial.file_id).where(
            CaseMaterial.file_id.in_(file_ids))))
        gone = list(await session.scalars(select(StoredFile).where(
            StoredFile.id.in_(file_ids - still_used))))
        await session.execute(update(HandoffMessage).where(
            HandoffMessage.file_id.in_([f.id for f in gone])).values(file_id=None))
        for stored in gone:
            await session.delete(stored)
        await session.flush()
        return gone

    async def _delete_content(self, gone: list[StoredFile], store: FileStore) -> int:
        """The content of deleted rows, unless another row still points at it."""
        async with self._sessions() as session:
            kept = set(await session.scalars(select(StoredFile.location).where(
                StoredFile.location.in_([f.location for f in gone]))))
        for location in {f.location for f in gone} - kept:
            await store.delete(location)
        return len(gone)

    async def get(self, receipt_no: str) -> Case:
        async with self._sessions() as session:
            case = await session.scalar(
                select(Case).where(Case.receipt_no == receipt_no)
                .options(selectinload(Case.materials), selectinload(Case.changes)))
        if case is None:
            raise CaseError("没有这个受理编号")
        return case

    async def find_for(self, receipt_no: str, *, user_id: str | None = None,
                       phone_last4: str | None = None) -> Case | None:
        """The case, only for its owner (same account, the phone writing by SMS, or the
        phone's last four digits)."""
        try:
            case = await self.get(normalize(receipt_no))
        except CaseError:
            return None
        owner = user_id is not None and user_id in (case.user_id, case.phone)
        knows_phone = phone_last4 is not None and case.phone[-4:] == normalize(phone_last4)
        return case if owner or knows_phone else None

    async def search(self, query: CaseQuery, page: int = 1,
                     size: int = PAGE_SIZE) -> Page[Case]:
        """For clerks: one page of the matching cases, newest first (bot/cases/search.py)."""
        async with self._sessions() as session:
            return await fetch_page(session, search_query(query), page, size)

    async def cases_of(self, user_id: str) -> list[Case]:
        """The cases this account applied for; an SMS villager's account is their phone
        number, which also owns the cases that name it (applied for by WeChat or at a
        window). An openid is never a phone number."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Case).where(or_(Case.user_id == user_id, Case.phone == user_id))
                .options(selectinload(Case.changes)).order_by(Case.accepted_at.desc()))
            return list(rows)

    async def supervision(self, today: date) -> tuple[list[Case], list[Case]]:
        """(cases at 80 % of their promised time, overdue cases) among open ones (电子监察)."""
        open_statuses = [s.value for s in Status if not s.closed]
        async with self._sessions() as session:
            rows = list(await session.scalars(
                select(Case).where(Case.status.in_(open_statuses), Case.due_date.is_not(None))
                .order_by(Case.due_date)))
        marks = [(case, self.supervision_mark(case, today)) for case in rows]
        return ([c for c, mark in marks if mark == "warning"],
                [c for c, mark in marks if mark == "overdue"])

    def supervision_mark(self, case: Case, today: date) -> str:
        """电子监察 of one case: overdue, warning (80 % of its working days used) or ok."""
        if Status(case.status).closed or case.due_date is None:
            return "ok"
        if case.due_date < today:
            return "overdue"
        if case.promised_days and case.paused_since is None:
            used = self._calendar.working_days_between(chinatime.day_of(case.accepted_at), today)
            if used >= WARNING_SHARE * case.promised_days:
                return "warning"
        return "ok"

    async def _by_draft(self, draft_key: str) -> Case | None:
        async with self._sessions() as session:
            receipt = await session.scalar(
                select(Case.receipt_no).where(Case.draft_key == draft_key))
        return await self.get(receipt) if receipt else None

    async def _events(self, session: AsyncSession, case: Case, previous: Status | None,
                      reason: str, missing: list[str]) -> list[DomainEvent]:
        """The event of a change, one per villager to tell: for a case a registered agent
        filed, the applicant by SMS at their phone (unless it is the agent's own) and, while
        the agent is in service, the agent (by WeChat once bound)."""
        payload: dict[str, object] = {
            "receipt_no": case.receipt_no, "matter": case.matter_id,
            "from": previous.value if previous else None, "to": case.status,
            "reason": reason, "missing": missing,
            "due_date": case.due_date.isoformat() if case.due_date else None,
            "user_id": case.user_id, "channel": case.channel, "phone": case.phone,
            "result": case.result}
        agent = await session.get(Agent, case.agent_id) if case.agent_id else None
        if agent is None:
            told = [payload]
        else:
            told = [] if case.phone == agent.phone else [
                payload | {"user_id": case.phone, "channel": "sms", "via_agent": True,
                           "agent": agent.name}]
            if agent.active:
                told.append(payload | {"user_id": agent.user_id or agent.phone,
                                       "channel": "wechat" if agent.user_id else "sms",
                                       "phone": agent.phone, "person": case.applicant_name,
                                       "for_agent": True})
        return [DomainEvent(kind="case.status_changed", case_id=case.id,
                            created_at=self._clock(), payload=each) for each in told]

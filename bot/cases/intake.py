"""Domain services stage: what the flows need — keep a photo, submit an application, hand in
what 补正 asked for.

The photo comes from the channel's media source (WeChat's temporary media API), is checked
(bot/cases/photo_check.py: straightened if it lies on its side, its defects noted) and kept
by the file store, and recorded as a row the case's checklist points to.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.agents.consent import ConsentCheck, ConsentCodes
from bot.agents.service import AgentCard, AgentService
from bot.cases.application import KeptPaper, MaterialItem, MediaRefused, NewCase, Receipt
from bot.cases.photo_check import (
    Defect,
    NotAPhoto,
    PhotoCheck,
    check_photo,
    defects_of,
    retake_hints,
)
from bot.cases.service import CaseService
from bot.cases.status import Status
from bot.storage.files import (
    MAX_UPLOAD_BYTES,
    PAPERS,
    VOICE,
    FileStore,
    UploadRefused,
    check_upload,
)
from integrations import audio
from integrations.asr import Recognizer
from integrations.errors import IntegrationError

log = logging.getLogger(__name__)

TOO_LARGE = f"照片太大（超过{MAX_UPLOAD_BYTES // 1024 // 1024}MB），请重新拍一张发过来"
NOT_RECEIVED = "照片没收到，请再发一次"
NO_MEDIA_HERE = "这里收不了照片，请回复 1 到窗口再交"


class MediaSource(Protocol):
    async def download_media(self, media_id: str, max_bytes: int) -> bytes: ...


class CaseIntake:
    def __init__(self, cases: CaseService, files: FileStore, media: MediaSource | None,
                 recognizer: Recognizer | None = None, villages: tuple[str, ...] = (),
                 agents: AgentService | None = None, consent: ConsentCodes | None = None,
                 *, center_phone: str) -> None:
        self._cases = cases
        self._agents = agents  # registered village agents; None: every sender is a villager
        self._consent = consent
        self._files = files
        self._media = media
        self._recognizer = recognizer  # speech to text (ASR_PROVIDER); None: WeChat's only
        self._villages = villages  # the township's, offered by number where one is asked
        self._center_phone = center_phone  # center.yml's, for whom to ask

    def center_phone(self) -> str:
        return self._center_phone

    def villages(self) -> tuple[str, ...]:
        return self._villages

    async def agent_of(self, user_id: str) -> AgentCard | None:
        return await self._agents.agent_of(user_id) if self._agents else None

    async def ask_consent(self, draft: str, *, phone: str, person: str, agent: str,
                          matter: str) -> None:
        if self._consent is None:
            raise RuntimeError("consent codes are not configured")  # no agents without them
        await self._consent.send(draft, phone=phone, person=person, agent=agent, matter=matter)

    async def check_consent(self, draft: str, code: str) -> ConsentCheck:
        return await self._consent.check(draft, code) if self._consent else ConsentCheck.GONE

    async def hear(self, media_id: str) -> str:
        """The words of a voice message WeChat did not transcribe, by our own speech
        recognition; "" when there is none, or it heard nothing, or failed (logged): the
        villager is then asked to type, as before."""
        if self._recognizer is None or not media_id:
            return ""
        try:
            stored = await self._cases.stored_file(await self.keep_media(media_id, voice=True))
            if stored is None:
                return ""
            wav = await audio.for_recognition(await self._files.load(stored.location))
            return await self._recognizer.recognize(wav)
        except (MediaRefused, UploadRefused, IntegrationError) as failed:
            log.warning("speech recognition (%s) failed: %s", self._recognizer.name, failed)
            return ""

    async def keep_media(self, media_id: str, voice: bool = False) -> int:
        """The file of a photo (or a voice message) the villager sent,
        downloaded from the channel once: the dialogue keeps it as it arrives, a flow then
        finds it kept."""
        kept = await self._cases.file_of_media(media_id)
        if kept is not None:
            return kept
        if self._media is None:
            raise MediaRefused(NO_MEDIA_HERE)
        try:
            content = await self._media.download_media(media_id, MAX_UPLOAD_BYTES)
        except IntegrationError as failed:
            raise MediaRefused(TOO_LARGE if failed.code == "too_large" else NOT_RECEIVED) from None
        try:
            check = None if voice else await self._check(content)
            if check is not None and check.upright is not None:
                content = check.upright
            saved = await self._files.save(content, VOICE if voice else PAPERS)
        except UploadRefused as refused:
            raise MediaRefused(str(refused)) from None
        return await self._cases.record_file(saved, media_id, check.stored if check else "")

    @staticmethod
    async def _check(content: bytes) -> PhotoCheck | None:
        """The photo check of a photo (None for a PDF); UploadRefused for what is no paper
        (an oversized or unknown file, an image that does not open)."""
        if not check_upload(content, PAPERS).startswith("image/"):
            return None
        try:
            return await asyncio.to_thread(check_photo, content)
        except NotAPhoto as unreadable:
            raise UploadRefused(str(unreadable)) from None

    async def keep_paper(self, media_id: str) -> KeptPaper:
        """A photo (or PDF) of a paper the villager sent, kept (see keep_media), with the
        photo check's hints for a retake."""
        file_id = await self.keep_media(media_id)
        stored = await self._cases.stored_file(file_id)
        found = defects_of(stored.photo_defects) if stored else ()
        return KeptPaper(file_id, retake_hints(found), Defect.ROTATED in found)

    async def submit(self, application: NewCase) -> Receipt:
        return CaseService.receipt(await self._cases.submit(application))

    async def waiting(self, user_id: str) -> list[tuple[str, list[str]]]:
        """(receipt number, the items 补正 asked for) of the user's cases in 待补正."""
        cases = await self._cases.waiting_for_materials(user_id)
        return [(case.receipt_no, list(case.changes[-1].missing)) for case in cases]

    async def supplement(self, receipt_no: str, user_id: str,
                         items: list[MaterialItem]) -> str:
        """Hand in the items; the case's status label afterwards."""
        case = await self._cases.supplement(receipt_no, user_id, items)
        return Status(case.status).label

"""Storage stage: uploaded photos and files, behind a small interface with a checksum.

`LocalFileStore` keeps them under a directory (the default); `ObjectFileStore` keeps them
in an S3-compatible object store (production, FILES_S3_URL). The type is judged from the
bytes, not from what the sender claims, and only photos and PDFs of a sane size are kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from integrations.errors import IntegrationError
from integrations.object_store import S3ObjectStore

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a phone photo is 1-5 MB
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"#!AMR-WB\n", "audio/amr-wb"),  # WeChat's voice messages
    (b"#!AMR\n", "audio/amr"),
    (b"OggS", "audio/ogg"),  # Speex in Ogg: WeChat's high-definition voice
    (b"ID3", "audio/mpeg"),
)
PAPERS = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})
VOICE = frozenset({"audio/amr", "audio/amr-wb", "audio/ogg", "audio/mpeg", "audio/wav"})


class UploadRefused(Exception):
    """The upload is not kept; the message says why, for the villager."""


@dataclass(frozen=True, slots=True)
class SavedFile:
    sha256: str
    size: int
    content_type: str
    location: str
    saved_at: datetime


def sniff(content: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if content.startswith(magic):
            return content_type
    if content[:4] == b"RIFF":
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav"}.get(content[8:12])
    return None


def check_upload(content: bytes, accept: frozenset[str] = PAPERS) -> str:
    """The content type of an acceptable upload (a photo or PDF of a paper, or with
    `accept=VOICE` a voice message), or UploadRefused with the reason."""
    if not content:
        raise UploadRefused("文件是空的，请重新拍一张")
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"文件太大（超过{MAX_UPLOAD_BYTES // 1024 // 1024}MB），请拍照片发过来")
    content_type = sniff(content)
    if content_type is None or content_type not in accept:
        raise UploadRefused("只能收照片（JPG、PNG）或 PDF 文件" if accept is PAPERS
                            else "这段语音的格式认不出来")
    return content_type


class FileStore(Protocol):
    async def save(self, content: bytes, accept: frozenset[str] = PAPERS) -> SavedFile: ...

    async def load(self, location: str) -> bytes: ...

    async def delete(self, location: str) -> None: ...


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    async def save(self, content: bytes, accept: frozenset[str] = PAPERS) -> SavedFile:
        content_type = check_upload(content, accept)
        digest = hashlib.sha256(content).hexdigest()
        location = f"{digest[:2]}/{digest}"  # content-addressed: the same photo twice is one
        path = self._root / location
        if not path.exists():
            await asyncio.to_thread(_write_atomically, path, content)
        return SavedFile(digest, len(content), content_type, location, datetime.now(UTC))

    async def load(self, location: str) -> bytes:
        path = (self._root / location).resolve()
        if not path.is_relative_to(self._root.resolve()):
            raise UploadRefused("no such file")
        content = await asyncio.to_thread(path.read_bytes)
        if hashlib.sha256(content).hexdigest() != Path(location).name:
            raise UploadRefused("文件已损坏")  # the checksum is the name
        return content

    async def delete(self, location: str) -> None:
        path = (self._root / location).resolve()
        if path.is_relative_to(self._root.resolve()):
            await asyncio.to_thread(path.unlink, missing_ok=True)


class ObjectFileStore:
    """The same FileStore on an S3-compatible object store (production)."""

    def __init__(self, store: S3ObjectStore) -> None:
        self._store = store

    async def save(self, content: bytes, accept: frozenset[str] = PAPERS) -> SavedFile:
        content_type = check_upload(content, accept)
        stored = await self._store.put(content, content_type)
        return SavedFile(stored.sha256, stored.size, content_type, stored.location,
                         stored.saved_at)

    async def load(self, location: str) -> bytes:
        try:
            return await self._store.get(location)
        except IntegrationError as failed:
            if failed.code == "checksum":
                raise UploadRefused("文件已损坏") from failed
            raise

    async def delete(self, location: str) -> None:
        await self._store.delete(location)


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(content)
    partial.replace(path)

"""Outbound: an S3-compatible object store for uploaded files (production's FileStore).

Works with any S3 API (Aliyun OSS and Tencent COS in S3 mode, MinIO, AWS) through
aiobotocore. Objects are named by their SHA-256, so the name is the checksum; reading one
back verifies it. Configured by FILES_S3_URL `s3://bucket/prefix` plus the endpoint and keys
(FILES_S3_ENDPOINT, FILES_S3_KEY, FILES_S3_SECRET, FILES_S3_REGION).
"""

from __future__ import annotations

import hashlib
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from integrations.errors import IntegrationError, ServiceUnavailable

PROVIDER = "object-store"


@dataclass(frozen=True, slots=True)
class StoredObject:
    sha256: str
    size: int
    location: str
    saved_at: datetime


class S3ObjectStore:
    """put/get of content-addressed objects; open with `async with`."""

    def __init__(self, bucket: str, prefix: str, endpoint: str | None, key: str, secret: str,
                 region: str = "us-east-1") -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._config = {"endpoint_url": endpoint, "aws_access_key_id": key,
                        "aws_secret_access_key": secret, "region_name": region}
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def __aenter__(self) -> S3ObjectStore:
        self._client = await self._stack.enter_async_context(
            get_session().create_client("s3", **self._config))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    def _key(self, digest: str) -> str:
        key = f"{digest[:2]}/{digest}"
        return f"{self._prefix}/{key}" if self._prefix else key

    async def put(self, content: bytes, content_type: str) -> StoredObject:
        digest = hashlib.sha256(content).hexdigest()
        key = self._key(digest)
        try:
            await self._client.put_object(Bucket=self._bucket, Key=key, Body=content,
                                          ContentType=content_type,
                                          Metadata={"sha256": digest})
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailable(PROVIDER, type(exc).__name__, str(exc)) from exc
        return StoredObject(digest, len(content), key, datetime.now(UTC))

    async def delete(self, location: str) -> None:
        try:
            await self._client.delete_object(Bucket=self._bucket, Key=location)
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailable(PROVIDER, type(exc).__name__, str(exc)) from exc

    async def get(self, location: str) -> bytes:
        try:
            response = await self._client.get_object(Bucket=self._bucket, Key=location)
            async with response["Body"] as body:
                content: bytes = await body.read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise IntegrationError(PROVIDER, code, "object not found") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(PROVIDER, type(exc).__name__, str(exc)) from exc
        if hashlib.sha256(content).hexdigest() != location.rsplit("/", 1)[-1]:
            raise IntegrationError(PROVIDER, "checksum", "object damaged")
        return content

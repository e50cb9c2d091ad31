"""Outbound: the access token of Aliyun 智能语音交互 (NLS), shared by its speech recognition
and synthesis adapters — from the NLS CreateToken API (signed RPC call, version 2019-02-28).
The token lives about a day: it is kept and asked again a minute before it runs out, or when
the gateway refuses it (`forget`).
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from integrations.errors import IntegrationError, ServiceUnavailable
from integrations.signing import aliyun_signature

DEFAULT_TOKEN_ENDPOINT = "https://nls-meta.cn-shanghai.aliyuncs.com/"
TOKEN_REFUSED = {40000001, 40000002}  # the gateway's "token wrong or expired": ask again
TOKEN_MARGIN = 60  # seconds before expiry a token is no longer used


class NlsToken:
    def __init__(self, session: aiohttp.ClientSession, provider: str, access_key_id: str,
                 secret: str, endpoint: str = DEFAULT_TOKEN_ENDPOINT,
                 timeout: float = 4.0) -> None:
        self._session = session
        self._provider = provider
        self._key_id = access_key_id
        self._secret = secret
        self._endpoint = endpoint
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: tuple[str, float] | None = None  # id, expiry (epoch seconds)

    def params(self) -> dict[str, str]:
        params = {
            "AccessKeyId": self._key_id, "Action": "CreateToken", "Format": "JSON",
            "RegionId": "cn-shanghai", "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(16), "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2019-02-28",
        }
        return {**params, "Signature": aliyun_signature("GET", params, self._secret)}

    async def get(self) -> str:
        if self._token and self._token[1] - TOKEN_MARGIN > time.time():
            return self._token[0]
        body = await self.json("GET", self._endpoint, params=self.params())
        token = body.get("Token") or {}
        if not token.get("Id"):
            raise IntegrationError(self._provider, str(body.get("Code", "token")),
                                   str(body.get("Message", "no token")))
        self._token = (str(token["Id"]), float(token.get("ExpireTime", 0)))
        return self._token[0]

    def forget(self) -> None:
        self._token = None

    def refused(self, status: int, message: str, again: bool) -> None:
        """The gateway's refusal of a call: a refused token is forgotten, for the call to be
        made `again` once with a new one; anything else is raised (busy or down as
        ServiceUnavailable)."""
        if status in TOKEN_REFUSED and again:
            self.forget()
            return
        failure = ServiceUnavailable if status >= 50_000_000 else IntegrationError
        raise failure(self._provider, status, message)

    async def json(self, method: str, url: str, **request: Any) -> dict[str, Any]:
        """One JSON call to the NLS (token or recognition), failures as IntegrationError."""
        try:
            async with self._session.request(method, url, timeout=self._timeout,
                                             **request) as response:
                if response.status >= 500:
                    raise ServiceUnavailable(self._provider, response.status, "server error")
                body: dict[str, Any] = await response.json(content_type=None)
                return body
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ServiceUnavailable(self._provider, "unreachable",
                                     type(exc).__name__) from exc

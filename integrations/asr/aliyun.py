"""Outbound: Aliyun 智能语音交互 一句话识别 (RESTful), with its access token from the NLS
CreateToken API (signed RPC call, version 2019-02-28). The token lives about a day: it is
kept and asked again a minute before it runs out, or when the gateway refuses it.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp

from integrations.asr import SAMPLE_RATE
from integrations.errors import IntegrationError, ServiceUnavailable
from integrations.signing import aliyun_signature

PROVIDER = "aliyun-asr"
DEFAULT_TOKEN_ENDPOINT = "https://nls-meta.cn-shanghai.aliyuncs.com/"
DEFAULT_ENDPOINT = "https://nls-gateway-cn-shanghai.aliyuncs.com/stream/v1/asr"
SUCCESS = 20_000_000
TOKEN_REFUSED = {40000001, 40000002}  # the token is wrong or expired: ask for another
TOKEN_MARGIN = 60  # seconds before expiry a token is no longer used


class AliyunAsr:
    name = "aliyun"

    def __init__(self, session: aiohttp.ClientSession, access_key_id: str, secret: str,
                 app_key: str, endpoint: str = DEFAULT_ENDPOINT,
                 token_endpoint: str = DEFAULT_TOKEN_ENDPOINT, timeout: float = 4.0) -> None:
        self._session = session
        self._key_id = access_key_id
        self._secret = secret
        self._app_key = app_key
        self._endpoint = endpoint
        self._token_endpoint = token_endpoint
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: tuple[str, float] | None = None  # id, expiry (epoch seconds)

    def token_params(self) -> dict[str, str]:
        params = {
            "AccessKeyId": self._key_id, "Action": "CreateToken", "Format": "JSON",
            "RegionId": "cn-shanghai", "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(16), "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2019-02-28",
        }
        return {**params, "Signature": aliyun_signature("GET", params, self._secret)}

    async def _access_token(self) -> str:
        if self._token and self._token[1] - TOKEN_MARGIN > time.time():
            return self._token[0]
        body = await self._json("GET", self._token_endpoint, params=self.token_params())
        token = body.get("Token") or {}
        if not token.get("Id"):
            raise IntegrationError(PROVIDER, str(body.get("Code", "token")),
                                   str(body.get("Message", "no token")))
        self._token = (str(token["Id"]), float(token.get("ExpireTime", 0)))
        return self._token[0]

    async def recognize(self, wav: bytes) -> str:
        for attempt in range(2):
            body = await self._json("POST", self._endpoint, data=wav, params={
                "appkey": self._app_key, "format": "wav", "sample_rate": str(SAMPLE_RATE),
                "enable_punctuation_prediction": "true",
                "enable_inverse_text_normalization": "true"},
                headers={"X-NLS-Token": await self._access_token(),
                         "Content-Type": "application/octet-stream"})
            status = int(body.get("status", 0) or 0)
            if status == SUCCESS:
                return str(body.get("result") or "").strip()
            if status in TOKEN_REFUSED and attempt == 0:
                self._token = None
                continue
            failure = ServiceUnavailable if status >= 50_000_000 else IntegrationError
            raise failure(PROVIDER, status, str(body.get("message", "")))
        raise IntegrationError(PROVIDER, "token", "token refused twice")

    async def _json(self, method: str, url: str, **request: Any) -> dict[str, Any]:
        try:
            async with self._session.request(method, url, timeout=self._timeout,
                                             **request) as response:
                if response.status >= 500:
                    raise ServiceUnavailable(PROVIDER, response.status, "server error")
                body: dict[str, Any] = await response.json(content_type=None)
                return body
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ServiceUnavailable(PROVIDER, "unreachable", type(exc).__name__) from exc

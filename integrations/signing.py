"""Request signing of the two cloud providers (SMS, speech recognition and synthesis), shared
by the adapters and the local fakes.

Aliyun's RPC API (Dysmsapi 2017-05-25, NLS CreateToken 2019-02-28): HMAC-SHA1 over the
sorted, percent-encoded query, key = AccessKeySecret + "&" (阿里云 › API 签名机制 ›
RPC 风格). Tencent Cloud API 3.0: TC3-HMAC-SHA256 over the canonical request, with a key
derived from the date and service (腾讯云 › 签名方法 v3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from integrations.errors import IntegrationError, ServiceUnavailable

TC3 = "TC3-HMAC-SHA256"
TENCENT_CONTENT_TYPE = "application/json; charset=utf-8"


def aliyun_encode(value: str) -> str:
    return quote(value, safe="~")


def aliyun_signature(method: str, params: dict[str, str], secret: str) -> str:
    canonical = "&".join(f"{aliyun_encode(k)}={aliyun_encode(v)}"
                         for k, v in sorted(params.items()))
    to_sign = f"{method}&{aliyun_encode('/')}&{aliyun_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_signature(secret_key: str, host: str, payload: bytes, timestamp: int, date: str,
                  service: str = "sms") -> str:
    """The hex signature of a POST / with JSON body, signing content-type and host."""
    canonical = "\n".join(["POST", "/", "", f"content-type:{TENCENT_CONTENT_TYPE}\nhost:{host}\n",
                           "content-type;host", hashlib.sha256(payload).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join([TC3, str(timestamp), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(secret_id: str, signature: str, date: str, service: str = "sms") -> str:
    return (f"{TC3} Credential={secret_id}/{date}/{service}/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature}")


def tc3_headers(secret_id: str, secret_key: str, host: str, payload: bytes, *, service: str,
                action: str, version: str, region: str) -> dict[str, str]:
    """The headers of a signed Tencent Cloud API 3.0 call (POST / with a JSON body), now."""
    now = int(time.time())
    date = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    signature = tc3_signature(secret_key, host, payload, now, date, service)
    return {"Authorization": tc3_authorization(secret_id, signature, date, service),
            "Content-Type": TENCENT_CONTENT_TYPE, "Host": host, "X-TC-Action": action,
            "X-TC-Timestamp": str(now), "X-TC-Version": version, "X-TC-Region": region}


# Tencent error codes worth trying again later (the others are our mistake or the account's)
TENCENT_RETRY_PREFIXES = ("InternalError", "RequestLimitExceeded",
                          "FailedOperation.ServiceIsolate")


class TencentCloudClient:
    """What every Tencent Cloud API 3.0 adapter holds: the keys, the endpoint, its host
    (signed), the region and a timeout; `signed` gives the headers of one call, `call` makes
    one and returns its Response (or raises with Tencent's error code)."""

    def __init__(self, session: aiohttp.ClientSession, secret_id: str, secret_key: str,
                 endpoint: str, region: str, timeout: float) -> None:
        self._session = session
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._endpoint = endpoint
        self._host = urlsplit(endpoint).netloc
        self._region = region
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def signed(self, payload: bytes, service: str, action: str,
               version: str) -> dict[str, str]:
        return tc3_headers(self._secret_id, self._secret_key, self._host, payload,
                           service=service, action=action, version=version,
                           region=self._region)

    async def call(self, provider: str, payload: bytes, service: str, action: str,
                   version: str) -> dict[str, Any]:
        headers = self.signed(payload, service, action, version)
        try:
            async with self._session.post(self._endpoint, data=payload, headers=headers,
                                          timeout=self._timeout) as response:
                if response.status >= 500:
                    raise ServiceUnavailable(provider, response.status, "server error")
                body: dict[str, Any] = (await response.json(content_type=None)).get(
                    "Response", {})
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ServiceUnavailable(provider, "unreachable", type(exc).__name__) from exc
        if "Error" in body:
            code = str(body["Error"].get("Code", ""))
            failure = ServiceUnavailable if code.startswith(TENCENT_RETRY_PREFIXES) \
                else IntegrationError
            raise failure(provider, code, str(body["Error"].get("Message", "")))
        return body

"""Outbound: Tencent Cloud 一句话识别 (SentenceRecognition, API 3.0 version 2019-06-14), signed
TC3-HMAC-SHA256 like the SMS API. The engine is configurable: 16k_zh (Mandarin) or
16k_zh_dialect (Mandarin and 23 dialects in one model, for villagers who speak theirs).
"""

from __future__ import annotations

import base64
import json

import aiohttp

from integrations.errors import IntegrationError, ServiceUnavailable
from integrations.signing import TencentCloudClient

PROVIDER = "tencent-asr"
DEFAULT_ENDPOINT = "https://asr.tencentcloudapi.com/"
SERVICE = "asr"
RETRY_PREFIXES = ("InternalError", "RequestLimitExceeded", "FailedOperation.ServiceIsolate")


class TencentAsr(TencentCloudClient):
    name = "tencent"

    def __init__(self, session: aiohttp.ClientSession, secret_id: str, secret_key: str,
                 engine: str = "16k_zh_dialect", endpoint: str = DEFAULT_ENDPOINT,
                 region: str = "ap-guangzhou", timeout: float = 4.0) -> None:
        super().__init__(session, secret_id, secret_key, endpoint, region, timeout)
        self._engine = engine

    def signed_request(self, wav: bytes) -> tuple[bytes, dict[str, str]]:
        payload = json.dumps({
            "EngSerViceType": self._engine, "SourceType": 1, "VoiceFormat": "wav",
            "Data": base64.b64encode(wav).decode(), "DataLen": len(wav),
            "FilterDirty": 0, "FilterModal": 0, "ConvertNumMode": 1,
        }).encode()
        return payload, self.signed(payload, SERVICE, "SentenceRecognition", "2019-06-14")

    async def recognize(self, wav: bytes) -> str:
        payload, headers = self.signed_request(wav)
        try:
            async with self._session.post(self._endpoint, data=payload, headers=headers,
                                          timeout=self._timeout) as response:
                if response.status >= 500:
                    raise ServiceUnavailable(PROVIDER, response.status, "server error")
                body = (await response.json(content_type=None)).get("Response", {})
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ServiceUnavailable(PROVIDER, "unreachable", type(exc).__name__) from exc
        if "Error" in body:
            code = str(body["Error"].get("Code", ""))
            failure = ServiceUnavailable if code.startswith(RETRY_PREFIXES) else IntegrationError
            raise failure(PROVIDER, code, str(body["Error"].get("Message", "")))
        return str(body.get("Result") or "").strip()

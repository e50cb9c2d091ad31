"""Outbound: Tencent Cloud 一句话识别 (SentenceRecognition, API 3.0 version 2019-06-14), signed
TC3-HMAC-SHA256 like the SMS API. The engine is configurable: 16k_zh (Mandarin) or
16k_zh_dialect (Mandarin and 23 dialects in one model, for villagers who speak theirs).
"""

from __future__ import annotations

import base64
import json

import aiohttp

from integrations.signing import TencentCloudClient

PROVIDER = "tencent-asr"
DEFAULT_ENDPOINT = "https://asr.tencentcloudapi.com/"
SERVICE = "asr"


class TencentAsr(TencentCloudClient):
    name = "tencent"

    def __init__(self, session: aiohttp.ClientSession, secret_id: str, secret_key: str,
                 engine: str = "16k_zh_dialect", endpoint: str = DEFAULT_ENDPOINT,
                 region: str = "ap-guangzhou", timeout: float = 4.0) -> None:
        super().__init__(session, secret_id, secret_key, endpoint, region, timeout)
        self._engine = engine

    def payload(self, wav: bytes) -> bytes:
        return json.dumps({
            "EngSerViceType": self._engine, "SourceType": 1, "VoiceFormat": "wav",
            "Data": base64.b64encode(wav).decode(), "DataLen": len(wav),
            "FilterDirty": 0, "FilterModal": 0, "ConvertNumMode": 1,
        }).encode()

    async def recognize(self, wav: bytes) -> str:
        body = await self.call(PROVIDER, self.payload(wav), SERVICE, "SentenceRecognition",
                               "2019-06-14")
        return str(body.get("Result") or "").strip()

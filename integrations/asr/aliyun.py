"""Outbound: Aliyun 智能语音交互 一句话识别 (RESTful), with its NLS access token
(integrations/nls.py: kept, renewed before it runs out or when the gateway refuses it).
"""

from __future__ import annotations

import aiohttp

from integrations.asr import SAMPLE_RATE
from integrations.nls import DEFAULT_TOKEN_ENDPOINT, NlsToken

PROVIDER = "aliyun-asr"
DEFAULT_ENDPOINT = "https://nls-gateway-cn-shanghai.aliyuncs.com/stream/v1/asr"
SUCCESS = 20_000_000


class AliyunAsr:
    name = "aliyun"

    def __init__(self, session: aiohttp.ClientSession, access_key_id: str, secret: str,
                 app_key: str, endpoint: str = DEFAULT_ENDPOINT,
                 token_endpoint: str = DEFAULT_TOKEN_ENDPOINT, timeout: float = 4.0) -> None:
        self._token = NlsToken(session, PROVIDER, access_key_id, secret, token_endpoint,
                               timeout)
        self._app_key = app_key
        self._endpoint = endpoint

    async def recognize(self, wav: bytes) -> str:
        again = True  # a refused token is asked for once more
        while True:
            body = await self._token.json("POST", self._endpoint, data=wav, params={
                "appkey": self._app_key, "format": "wav", "sample_rate": str(SAMPLE_RATE),
                "enable_punctuation_prediction": "true",
                "enable_inverse_text_normalization": "true"},
                headers={"X-NLS-Token": await self._token.get(),
                         "Content-Type": "application/octet-stream"})
            status = int(body.get("status", 0) or 0)
            if status == SUCCESS:
                return str(body.get("result") or "").strip()
            self._token.refused(status, str(body.get("message", "")), again)
            again = False

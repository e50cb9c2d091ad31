"""Outbound: Tencent Cloud 语音合成 (TextToVoice, API 3.0 version 2019-08-23), signed
TC3-HMAC-SHA256 like its speech recognition: the text in, base64 MP3 out. One request speaks
at most 150 Chinese characters (full-width punctuation counts as one).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid

import aiohttp

from integrations.errors import IntegrationError
from integrations.signing import TencentCloudClient
from integrations.tts import CODEC, SAMPLE_RATE

PROVIDER = "tencent-tts"
DEFAULT_ENDPOINT = "https://tts.tencentcloudapi.com/"
SERVICE = "tts"
DEFAULT_VOICE = "101001"  # 智瑜, a warm female 精品音色; the list: 腾讯云 › 语音合成 › 音色列表
MAX_CHARS = 150


class TencentTts(TencentCloudClient):
    name = "tencent"
    max_chars = MAX_CHARS

    def __init__(self, session: aiohttp.ClientSession, secret_id: str, secret_key: str,
                 voice: str = DEFAULT_VOICE, endpoint: str = DEFAULT_ENDPOINT,
                 region: str = "ap-guangzhou", timeout: float = 4.0) -> None:
        super().__init__(session, secret_id, secret_key, endpoint, region, timeout)
        self._voice = int(voice)

    def payload(self, text: str) -> bytes:
        return json.dumps({
            "Text": text, "SessionId": str(uuid.uuid4()), "VoiceType": self._voice,
            "Codec": CODEC, "SampleRate": SAMPLE_RATE, "ModelType": 1, "PrimaryLanguage": 1,
            "Speed": -0.5,  # a little slower than the default: villagers, a phone speaker
        }, ensure_ascii=False).encode()

    async def synthesize(self, text: str) -> bytes:
        body = await self.call(PROVIDER, self.payload(text), SERVICE, "TextToVoice",
                               "2019-08-23")
        try:
            audio = base64.b64decode(str(body.get("Audio", "")), validate=True)
        except binascii.Error:
            raise IntegrationError(PROVIDER, "audio", "Audio is not base64") from None
        if not audio:
            raise IntegrationError(PROVIDER, "audio", "no audio")
        return audio

"""Outbound: WeChat official-account server API (customer-service and template messages,
media, access token).

The access token is shared by every bot worker through Redis and fetched from the
stable-token endpoint (获取稳定版接口调用凭据), which — unlike /cgi-bin/token — does not
invalidate the token other workers hold (error 40001), under a Redis lock so only one
worker fetches at a time. Docs: 开始开发 › 获取 Access token / 获取稳定版接口调用凭据;
消息管理 › 客服消息 (at most 5 messages within 48 h of the user's last message: 45047);
素材管理 › 新增临时素材 (voice: MP3 or AMR, at most 2 MB and 60 s, kept three days).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from redis.asyncio import Redis

from integrations.errors import IntegrationError, ServiceUnavailable

PROVIDER = "wechat"
DEFAULT_API_BASE = "https://api.weixin.qq.com"
TOKEN_INVALID = frozenset({40001, 40014, 42001})  # invalid, malformed, expired
TOKEN_MARGIN = 300  # seconds: refresh this long before WeChat's expiry


TEMPLATE_FIELD_LIMIT = 20  # characters WeChat shows of one template field
VOICE_MAX_BYTES = 2 * 1024 * 1024  # a temporary voice file; also at most 60 s


class QuotaExceeded(IntegrationError):
    """45047 (5 messages within 48 h used) or 45015 (user silent for 48 h): use SMS."""


class NotReachable(IntegrationError):
    """The user cannot get this message on WeChat (unfollowed 43004, refused 43101, unknown
    openid 40003, template not usable 40037): use SMS."""


UNREACHABLE = frozenset({43004, 43101, 40003, 40037, 47003})


class WeChatApi:
    def __init__(self, session: aiohttp.ClientSession, redis: Redis, app_id: str, secret: str,
                 base_url: str = DEFAULT_API_BASE, timeout: float = 5.0) -> None:
        self._session = session
        self._redis = redis
        self._app_id = app_id
        self._secret = secret
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._token_key = f"bianmin:wx:token:{app_id}"

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message to one follower."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._call("/cgi-bin/message/custom/send", payload)

    async def send_voice(self, openid: str, media_id: str) -> None:
        """A customer-service voice message: temporary media uploaded by `upload_voice`."""
        payload = {"touser": openid, "msgtype": "voice", "voice": {"media_id": media_id}}
        await self._call("/cgi-bin/message/custom/send", payload)

    async def upload_voice(self, content: bytes, filename: str = "voice.mp3") -> str:
        """Temporary media (新增临时素材, type voice): the media id for a voice message."""
        if len(content) > VOICE_MAX_BYTES:
            raise IntegrationError(PROVIDER, "too_large", "voice over 2 MB")

        def form() -> aiohttp.FormData:  # a FormData is spent once sent: one per attempt
            data = aiohttp.FormData()
            data.add_field("media", content, filename=filename,
                           content_type="audio/mpeg" if filename.endswith(".mp3")
                           else "audio/amr")
            return data

        body = await self._call("/cgi-bin/media/upload", None, {"type": "voice"}, form)
        return str(body["media_id"])

    async def send_template(self, openid: str, template_id: str, fields: dict[str, str],
                            client_msg_id: str, url: str | None = None) -> str:
        """A template message (模板消息) to a follower; fields are cut to WeChat's 20
        characters; client_msg_id makes a repeated send a no-op (防重入). Returns msgid."""
        payload: dict[str, Any] = {
            "touser": openid, "template_id": template_id, "client_msg_id": client_msg_id,
            "data": {name: {"value": value[:TEMPLATE_FIELD_LIMIT]}
                     for name, value in fields.items()}}
        if url:
            payload["url"] = url
        body = await self._call("/cgi-bin/message/template/send", payload)
        return str(body.get("msgid", ""))

    async def create_menu(self, body: dict[str, Any]) -> None:
        """The official account's bottom menu (自定义菜单/创建接口): replaces the old one; the
        followers' phones show it within minutes."""
        await self._call("/cgi-bin/menu/create", body)

    async def download_media(self, media_id: str, max_bytes: int) -> bytes:
        """A temporary media file a user sent (素材管理 › 获取临时素材), at most max_bytes."""
        for attempt in range(2):
            token = await self.access_token()
            try:
                async with self._session.get(
                    f"{self._base}/cgi-bin/media/get",
                    params={"access_token": token, "media_id": media_id}, timeout=self._timeout,
                ) as response:
                    if response.status >= 500:
                        raise ServiceUnavailable(PROVIDER, response.status, "server error")
                    if response.content_type in ("application/json", "text/plain"):
                        body = await response.json(content_type=None)
                        code = int(body.get("errcode", 0) or 0)
                        if code in TOKEN_INVALID and attempt == 0:
                            await self._forget_token(token)
                            continue
                        raise IntegrationError(PROVIDER, code, str(body.get("errmsg", "")))
                    if (response.content_length or 0) > max_bytes:
                        raise IntegrationError(PROVIDER, "too_large", "media too large")
                    # read(n) answers what has arrived so far: a photo comes in many chunks
                    content = bytearray()
                    async for chunk in response.content.iter_chunked(64 * 1024):
                        content += chunk
                        if len(content) > max_bytes:
                            raise IntegrationError(PROVIDER, "too_large", "media too large")
                    return bytes(content)
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                raise ServiceUnavailable(PROVIDER, "unreachable", type(exc).__name__) from exc
        raise IntegrationError(PROVIDER, 40001, "access token refused twice")

    async def access_token(self) -> str:
        cached = await self._redis.get(self._token_key)
        if cached:
            return str(cached)
        async with self._redis.lock(f"{self._token_key}:lock", timeout=15, blocking_timeout=15):
            cached = await self._redis.get(self._token_key)  # another worker may have won
            if cached:
                return str(cached)
            body = await self._post("/cgi-bin/stable_token", None, {
                "grant_type": "client_credential", "appid": self._app_id,
                "secret": self._secret, "force_refresh": False,
            })
            token = str(body["access_token"])
            ttl = max(60, int(body.get("expires_in", 7200)) - TOKEN_MARGIN)
            await self._redis.set(self._token_key, token, ex=ttl)
            return token

    async def _call(self, path: str, payload: dict[str, Any] | None,
                    params: dict[str, str] | None = None,
                    form: Callable[[], aiohttp.FormData] | None = None) -> dict[str, Any]:
        token = await self.access_token()
        try:
            return await self._post(path, token, payload, params, form)
        except IntegrationError as exc:
            if exc.code not in TOKEN_INVALID:
                raise
        # The token died early (revoked, or fetched with force_refresh elsewhere): once more.
        await self._forget_token(token)
        return await self._post(path, await self.access_token(), payload, params, form)

    async def _forget_token(self, token: str) -> None:
        if await self._redis.get(self._token_key) == token:
            await self._redis.delete(self._token_key)

    async def _post(self, path: str, token: str | None, payload: dict[str, Any] | None,
                    params: dict[str, str] | None = None,
                    form: Callable[[], aiohttp.FormData] | None = None) -> dict[str, Any]:
        query = {**({"access_token": token} if token else {}), **(params or {})}
        body: dict[str, Any] = {"data": form()} if form else {"json": payload}
        try:
            async with self._session.post(f"{self._base}{path}", params=query,
                                          timeout=self._timeout, **body) as response:
                if response.status >= 500:
                    raise ServiceUnavailable(PROVIDER, response.status, "server error")
                answer: dict[str, Any] = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            raise ServiceUnavailable(PROVIDER, "unreachable", type(exc).__name__) from exc
        code = int(answer.get("errcode", 0) or 0)
        if code in (45047, 45015):
            raise QuotaExceeded(PROVIDER, code, str(answer.get("errmsg", "")))
        if code in UNREACHABLE:
            raise NotReachable(PROVIDER, code, str(answer.get("errmsg", "")))
        if code:
            raise IntegrationError(PROVIDER, code, str(answer.get("errmsg", "")))
        return answer

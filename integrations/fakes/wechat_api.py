"""A local fake of WeChat's server API, for tests and for `make run` without credentials.

Speaks the real endpoints and error codes: /cgi-bin/token and /cgi-bin/stable_token issue
tokens that expire (42001) and that a plain /cgi-bin/token call invalidates (40001), and
/cgi-bin/message/custom/send enforces 5 messages per user until the user writes again
(45047), and /cgi-bin/message/template/send takes template messages for followers only
(43004), with 防重入 by client_msg_id. Sent messages are kept for inspection (`GET
/fake/outbox?openid=`), which the simulator page polls to show answers that came by the
customer-service API; `POST /fake/media` stands for a phone uploading a photo to WeChat
and answers its media id, `GET /fake/media?media_id=` gives back any media (voice the bot
uploaded too). /cgi-bin/media/upload takes temporary media as WeChat does: a known type, the
multipart field `media`, and for voice MP3 or AMR of at most 2 MB and 60 s (decoded with
ffmpeg to know); customer-service voice messages must name an uploaded media id.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from integrations import audio
from integrations.errors import IntegrationError

CUSTOMER_SERVICE_QUOTA = 5
MEDIA_TYPES = frozenset({"image", "voice", "video", "thumb"})
VOICE_MAX_BYTES, VOICE_MAX_SECONDS = 2 * 1024 * 1024, 60


@dataclass
class FakeWeChatState:
    app_id: str
    secret: str
    token_lifetime: int = 7200
    tokens: dict[str, float] = field(default_factory=dict)  # token → expiry (monotonic)
    stable_token: str | None = None
    outbox: list[dict[str, Any]] = field(default_factory=list)
    quota_used: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    token_requests: int = 0
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # id → content, type
    unfollowed: set[str] = field(default_factory=set)  # openids that no longer follow
    template_ids: dict[tuple[str, str], int] = field(default_factory=dict)  # client_msg_id
    repeats: int = 0  # template sends with a client_msg_id already used
    menu: dict[str, Any] | None = None  # the bottom menu last created

    def issue(self) -> str:
        token = secrets.token_hex(16)
        self.tokens[token] = time.monotonic() + self.token_lifetime
        return token

    def check(self, token: str) -> int:
        expiry = self.tokens.get(token)
        if expiry is None:
            return 40001
        return 42001 if time.monotonic() > expiry else 0

    def user_wrote(self, openid: str) -> None:
        """The 48-hour window restarts when the user sends a message."""
        self.quota_used[openid] = 0


FAKE_STATE = web.AppKey("fake_wechat_state", FakeWeChatState)


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": message})


def _token_refused(request: web.Request) -> web.Response | None:
    """40001 / 42001 for a wrong or expired access_token; None when it is good."""
    code = request.app[FAKE_STATE].check(request.query.get("access_token", ""))
    return _error(code, "access_token invalid or expired") if code else None


async def token(request: web.Request) -> web.Response:
    state = request.app[FAKE_STATE]
    query = request.query
    if (query.get("appid"), query.get("secret")) != (state.app_id, state.secret):
        return _error(40125, "invalid appsecret")
    state.token_requests += 1
    state.tokens.clear()  # a plain token request invalidates every earlier token
    state.stable_token = None
    return web.json_response({"access_token": state.issue(), "expires_in": state.token_lifetime})


async def stable_token(request: web.Request) -> web.Response:
    state = request.app[FAKE_STATE]
    body = await request.json()
    if (body.get("appid"), body.get("secret")) != (state.app_id, state.secret):
        return _error(40125, "invalid appsecret")
    state.token_requests += 1
    current = state.stable_token
    if body.get("force_refresh") or current is None or state.check(current) != 0:
        state.tokens.clear()
        current = state.stable_token = state.issue()
    remaining = int(state.tokens[current] - time.monotonic())
    return web.json_response({"access_token": current, "expires_in": remaining})


async def send_custom(request: web.Request) -> web.Response:
    state = request.app[FAKE_STATE]
    if refused := _token_refused(request):
        return refused
    body = await request.json()
    openid = str(body.get("touser", ""))
    if state.quota_used[openid] >= CUSTOMER_SERVICE_QUOTA:
        return _error(45047, "out of response count limit")
    if body.get("msgtype") == "voice" and \
            str((body.get("voice") or {}).get("media_id", "")) not in state.media:
        return _error(40007, "invalid media_id")
    state.quota_used[openid] += 1
    state.outbox.append(body)
    return _error(0, "ok")


async def send_template(request: web.Request) -> web.Response:
    """模板消息: followers only (43004), fields of at most 20 characters, and one message per
    openid + client_msg_id (防重入)."""
    state = request.app[FAKE_STATE]
    if refused := _token_refused(request):
        return refused
    body = await request.json()
    openid = str(body.get("touser", ""))
    if not body.get("template_id"):
        return _error(40037, "invalid template_id")
    if openid in state.unfollowed:
        return _error(43004, "require subscribe")
    data = body.get("data") or {}
    if any(len(str(item.get("value", ""))) > 20 for item in data.values()):
        return _error(47003, "argument invalid! data.value exceeds 20 characters")
    key = (openid, str(body.get("client_msg_id", "")))
    if key[1] and key in state.template_ids:
        state.repeats += 1
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": state.template_ids[key]})
    msgid = len(state.outbox) + 1
    if key[1]:
        state.template_ids[key] = msgid
    state.outbox.append({**body, "msgtype": "template", "msgid": msgid})
    return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": msgid})


async def get_media(request: web.Request) -> web.Response:
    state = request.app[FAKE_STATE]
    if refused := _token_refused(request):
        return refused
    found = state.media.get(request.query.get("media_id", ""))
    if found is None:
        return _error(40007, "invalid media_id")
    content, content_type = found
    return web.Response(body=content, content_type=content_type)


async def put_media(request: web.Request) -> web.Response:
    """Fake-only: what a user's phone would upload to WeChat; answers the media id."""
    state = request.app[FAKE_STATE]
    media_id = secrets.token_hex(12)
    state.media[media_id] = (await request.read(),
                             request.headers.get("Content-Type", "image/jpeg"))
    return web.json_response({"media_id": media_id})


async def upload_media(request: web.Request) -> web.Response:
    """新增临时素材: what WeChat checks of a voice file — type, field, format, size, length."""
    state = request.app[FAKE_STATE]
    if refused := _token_refused(request):
        return refused
    kind = request.query.get("type", "")
    if kind not in MEDIA_TYPES:
        return _error(40004, "invalid media type")
    form = await request.post()
    field_ = form.get("media")
    if not isinstance(field_, web.FileField):
        return _error(41005, "media data missing")
    content = field_.file.read()
    if kind == "voice":
        if problem := await _voice_problem(content):
            return _error(*problem)
        content_type = "audio/amr" if content.startswith(b"#!AMR") else "audio/mpeg"
    else:
        content_type = field_.content_type
    media_id = secrets.token_hex(24)
    state.media[media_id] = (content, content_type)
    return web.json_response({"type": kind, "media_id": media_id, "created_at": int(time.time())})


async def _voice_problem(content: bytes) -> tuple[int, str] | None:
    if len(content) > VOICE_MAX_BYTES:
        return 40006, "invalid meida size"
    mp3 = content.startswith(b"ID3") or content[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
    if not (mp3 or content.startswith(b"#!AMR")):
        return 40005, "invalid file type"
    try:
        wav = await audio.playable(content)
    except IntegrationError:
        return 40005, "invalid file type"
    rate = int.from_bytes(wav[24:28], "little")
    if (len(wav) - 44) / (2 * rate) > VOICE_MAX_SECONDS:
        return 40006, "invalid meida size (voice longer than 60 s)"
    return None


async def fake_media(request: web.Request) -> web.Response:
    """Fake-only: any media the fake holds, for tests to hear what the bot sent."""
    found = request.app[FAKE_STATE].media.get(request.query.get("media_id", ""))
    if found is None:
        return _error(40007, "invalid media_id")
    return web.Response(body=found[0], content_type=found[1])


def _menu_problem(body: Any) -> tuple[int, str] | None:
    """WeChat's checks of a menu (自定义菜单/创建接口), with its error codes."""
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return 40016, "invalid button size"
    for button in buttons:
        name = str(button.get("name", ""))
        if not name or len(name.encode()) > 16:
            return 40018, "invalid button name size"
        subs = button.get("sub_button") or []
        if len(subs) > 5:
            return 40023, "invalid sub button size"
        for sub in subs:
            if not str(sub.get("name", "")) or len(str(sub["name"]).encode()) > 60:
                return 40024, "invalid sub button name size"
            if sub.get("type") != "click":
                return 40025, "invalid sub button type"
            if not sub.get("key") or len(str(sub["key"]).encode()) > 128:
                return 40019, "invalid button key size"
    return None


async def create_menu(request: web.Request) -> web.Response:
    state = request.app[FAKE_STATE]
    if refused := _token_refused(request):
        return refused
    body = await request.json()
    if problem := _menu_problem(body):
        return _error(*problem)
    state.menu = body
    return _error(0, "ok")


async def get_menu(request: web.Request) -> web.Response:
    state = request.app[FAKE_STATE]
    if refused := _token_refused(request):
        return refused
    if state.menu is None:
        return _error(46003, "menu no exist")
    return web.json_response({"menu": state.menu},
                             dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


async def outbox(request: web.Request) -> web.Response:
    state = request.app[FAKE_STATE]
    openid = request.query.get("openid")
    sent = [m for m in state.outbox if openid is None or m.get("touser") == openid]
    return web.json_response(sent, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def create_fake_wechat_app(state: FakeWeChatState) -> web.Application:
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[FAKE_STATE] = state
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_post("/cgi-bin/stable_token", stable_token)
    app.router.add_post("/cgi-bin/message/custom/send", send_custom)
    app.router.add_post("/cgi-bin/message/template/send", send_template)
    app.router.add_get("/cgi-bin/media/get", get_media)
    app.router.add_post("/cgi-bin/menu/create", create_menu)
    app.router.add_get("/cgi-bin/menu/get", get_menu)
    app.router.add_get("/fake/outbox", outbox)
    app.router.add_post("/fake/media", put_media)
    app.router.add_get("/fake/media", fake_media)
    app.router.add_post("/cgi-bin/media/upload", upload_media)
    return app


@dataclass(frozen=True)
class RunningFake:
    url: str
    app_id: str
    secret: str
    state: FakeWeChatState


@asynccontextmanager
async def start_fake_wechat(host: str = "127.0.0.1", port: int = 0,
                            token_lifetime: int = 7200) -> AsyncIterator[RunningFake]:
    """Serve the fake on a free local port for the duration of the block."""
    app_id, secret = "wx_local_fake", secrets.token_hex(16)
    state = FakeWeChatState(app_id, secret, token_lifetime)
    runner = web.AppRunner(create_fake_wechat_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    try:
        yield RunningFake(f"http://{host}:{bound}", app_id, secret, state)
    finally:
        await runner.cleanup()

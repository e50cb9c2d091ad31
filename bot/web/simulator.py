"""Channel stage (demo): `/simulator`, a phone-like chat page for a laptop demo.

The page builds real WeChat XML, signs it with the account's token in the browser and POSTs
it to `/wechat`, exactly as WeChat's servers do; answers that come later by the customer-
service API are read back from the local fake WeChat API. The bottom menu of
catalogue/menu.yml is drawn as on a phone; a tap sends WeChat's CLICK event. In voice mode
what is typed is sent as a voice message without WeChat's transcript: a generated AMR
sample, which the bot downloads and sends to the local fake speech recognition, told the
words (the same path as a real recording to Tencent's or Aliyun's ASR); an answer read
aloud (「念给我听」) comes as a voice message the page plays. The SMS tab is a basic phone
with a number of its own: what it sends is posted to `/sms/uplink/aliyun/…` in Aliyun's 上行
format, as Aliyun's push would be, and what the bot texts back is read from the console SMS
provider's log (`SMS_LOG`), where `make run` writes every SMS it sends. Enabled only
when no real WECHAT_TOKEN is configured (or SIMULATOR=1): the page is given the token.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.catalogue.menu import Menu
from bot.spoken import CHARS_PER_SECOND
from bot.web.assets import asset
from integrations.audio import sample_voice
from integrations.fakes.asr import FakeAsrState

FAKE_WECHAT_URL = web.AppKey("fake_wechat_url", str)
FAKE_ASR = web.AppKey("fake_asr", FakeAsrState)
PHOTO_LIMIT = 10 * 1024 * 1024  # WeChat takes images up to 10 MB
TOKEN = web.AppKey("simulator_token", str)
MENU = web.AppKey("simulator_menu", Menu)
SMS_TOKEN = web.AppKey("simulator_sms_token", str)  # the uplink's URL secret
SMS_LOG = web.AppKey("simulator_sms_log", Path)  # where the console SMS provider writes
SMS_SHOWN = 50  # the latest texts to one phone the SMS tab shows


async def config(request: web.Request) -> web.Response:
    """The account's token, a fresh villager (and a phone number for the SMS tab, with the
    uplink's secret when SMS can be tried here), and the bottom menu to draw."""
    openid = f"o_sim_{secrets.token_hex(6)}"
    menu = [{"name": button.name, "items": [{"name": item.name, "key": item.key}
                                            for item in button.items]}
            for button in request.app[MENU].buttons]
    sms = {"sms_token": request.app[SMS_TOKEN],
           "phone": f"139{secrets.randbelow(10**8):08d}"} if SMS_LOG in request.app else {}
    return web.json_response({"token": request.app[TOKEN], "openid": openid, "menu": menu,
                              **sms})


async def texts(request: web.Request) -> web.Response:
    """The SMS the bot sent to one phone, oldest first, from the console provider's log."""
    phone, log = request.query.get("phone", ""), request.app[SMS_LOG]
    if not log.exists():
        return web.json_response([])
    sent = [line for line in (json.loads(raw) for raw in
                              log.read_text(encoding="utf-8").splitlines() if raw.strip())
            if line.get("to") == phone]
    return web.json_response([line["text"] for line in sent[-SMS_SHOWN:]])


async def outbox(request: web.Request) -> web.Response:
    """Customer-service messages the local fake WeChat API received for one user."""
    base = request.app.get(FAKE_WECHAT_URL)
    if base is None:
        return web.json_response([])
    async with aiohttp.ClientSession() as session, session.get(
        f"{base}/fake/outbox", params={"openid": request.query.get("openid", "")}
    ) as response:
        return web.json_response(await response.json())


async def photo(request: web.Request) -> web.Response:
    """The phone's upload of a photo to WeChat (here: the local fake); answers its media id.
    A phone photo is larger than the app's request limit: read here up to WeChat's own."""
    content = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        content += chunk
        if len(content) > PHOTO_LIMIT:
            return web.json_response({"error": "photo too large"}, status=413)
    return await _uploaded(request, bytes(content), request.content_type)


async def voice(request: web.Request) -> web.Response:
    """A voice message of the words typed: its sample uploaded as the phone would, the fake
    speech recognition told what it will hear; answers the media id and the seconds."""
    words = (await request.post()).get("text")
    heard = request.app.get(FAKE_ASR)
    if not isinstance(words, str) or not words.strip() or heard is None:
        return web.json_response({"error": "no words, or no local speech recognition"},
                                 status=400 if heard else 404)
    seconds = min(60, max(1, round(len(words) / CHARS_PER_SECOND)))
    answer = await _uploaded(request, await sample_voice(seconds), "audio/amr")
    if answer.status == 200:
        heard.will_hear(words.strip())
    return answer


async def _uploaded(request: web.Request, content: bytes, content_type: str) -> web.Response:
    base = request.app.get(FAKE_WECHAT_URL)
    if base is None:
        return web.json_response({"error": "no local WeChat API"}, status=404)
    async with aiohttp.ClientSession() as session, session.post(
        f"{base}/fake/media", data=content, headers={"Content-Type": content_type},
    ) as response:
        return web.json_response(await response.json())


async def media(request: web.Request) -> web.Response:
    """A voice message the bot uploaded to the local fake WeChat API, for the page's player."""
    base = request.app.get(FAKE_WECHAT_URL)
    if base is None:
        raise web.HTTPNotFound()
    async with aiohttp.ClientSession() as session, session.get(
        f"{base}/fake/media", params={"media_id": request.query.get("media_id", "")}
    ) as response:
        return web.Response(body=await response.read(), content_type=response.content_type)


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/simulator")


def setup_routes(app: web.Application, token: str, menu: Menu, sms_token: str | None = None,
                 sms_log: Path | None = None) -> None:
    """`sms_token` and `sms_log`: the SMS tab, when SMS replies are on and go to the console."""
    app[TOKEN] = token
    app[MENU] = menu
    if sms_token is not None and sms_log is not None:
        app[SMS_TOKEN], app[SMS_LOG] = sms_token, sms_log
        app.router.add_get("/simulator/sms", texts)
    app.router.add_get("/", home)
    app.router.add_get("/simulator", asset("simulator.html"))
    app.router.add_get("/simulator/app.js", asset("simulator.js"))
    app.router.add_get("/simulator/config", config)
    app.router.add_get("/simulator/outbox", outbox)
    app.router.add_post("/simulator/photo", photo)
    app.router.add_get("/simulator/media", media)
    app.router.add_post("/simulator/voice", voice)

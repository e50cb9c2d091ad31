"""Channel stage (demo): `/simulator`, a phone-like chat page for a laptop demo.

The page builds real WeChat XML, signs it with the account's token in the browser and POSTs
it to `/wechat`, exactly as WeChat's servers do; answers that come later by the customer-
service API are read back from the local fake WeChat API. The bottom menu of
catalogue/menu.yml is drawn as on a phone; a tap sends WeChat's CLICK event. Enabled only
when no real WECHAT_TOKEN is configured (or SIMULATOR=1): the page is given the token.
"""

from __future__ import annotations

import secrets

import aiohttp
from aiohttp import web

from bot.catalogue.menu import Menu
from bot.web.assets import asset

FAKE_WECHAT_URL = web.AppKey("fake_wechat_url", str)
TOKEN = web.AppKey("simulator_token", str)
MENU = web.AppKey("simulator_menu", Menu)


async def config(request: web.Request) -> web.Response:
    """The account's token, a fresh villager, and the bottom menu to draw."""
    openid = f"o_sim_{secrets.token_hex(6)}"
    menu = [{"name": button.name, "items": [{"name": item.name, "key": item.key}
                                            for item in button.items]}
            for button in request.app[MENU].buttons]
    return web.json_response({"token": request.app[TOKEN], "openid": openid, "menu": menu})


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
    """The phone's upload of a photo to WeChat (here: the local fake); answers its media id."""
    base = request.app.get(FAKE_WECHAT_URL)
    if base is None:
        return web.json_response({"error": "no local WeChat API"}, status=404)
    async with aiohttp.ClientSession() as session, session.post(
        f"{base}/fake/media", data=await request.read(),
        headers={"Content-Type": request.content_type},
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


def setup_routes(app: web.Application, token: str, menu: Menu) -> None:
    app[TOKEN] = token
    app[MENU] = menu
    app.router.add_get("/", home)
    app.router.add_get("/simulator", asset("simulator.html"))
    app.router.add_get("/simulator/app.js", asset("simulator.js"))
    app.router.add_get("/simulator/config", config)
    app.router.add_get("/simulator/outbox", outbox)
    app.router.add_post("/simulator/photo", photo)
    app.router.add_get("/simulator/media", media)

"""Channel stage: SMS delivery receipts pushed by the providers (回执).

    POST /sms/receipts/aliyun/{token}   [{"biz_id", "phone_number", "success", "err_code", …}]
                                        → {"code": 0}
    POST /sms/receipts/tencent/{token}  [{"sid", "mobile", "report_status", "errmsg", …}]
                                        → {"result": 0}

Neither provider signs its receipt pushes, so the callback URL carries a secret
(SMS_RECEIPT_TOKEN, compared in constant time) and, where the operator lists them, only the
provider's addresses may post (SMS_RECEIPT_ALLOW). Without a token the endpoints are off.
The villagers' replies (bot/channels/sms.py) come through the same gate and acks.
A batch is recorded in one transaction, at most MAX_ITEMS receipts a request. Providers
push receipts again when they are not acknowledged, and sometimes twice anyway: each is
recorded once on the attempt it belongs to (bot/notices/outbox.py). A receipt for a message
we do not know, or for another phone number, is acknowledged and ignored.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.notices.outbox import NoticeStore, Receipt
from bot.web.security import client_address

log = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("aiohttp.access")
SECRET_IN_PATH = re.compile(r"(/sms/(?:receipts|uplink)/[^/\s?]*/)[^\s?]*")
RECEIPTS = web.AppKey("sms_receipts", NoticeStore)
MAX_ITEMS = 200  # receipts or replies in one push (bodies ≤ 64 KB); a township sends few

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Ack:
    """How one provider wants its callbacks acknowledged (receipts and replies alike)."""

    ok: dict[str, Any]
    refused: Callable[[str], dict[str, Any]]


ACKS = {
    "aliyun": Ack({"code": 0, "msg": "成功"}, lambda reason: {"code": 1, "msg": reason}),
    "tencent": Ack({"result": 0, "errmsg": "OK"},
                   lambda reason: {"result": 1, "errmsg": reason}),
}


def _field(item: dict[str, Any], name: str, limit: int) -> str:
    """A receipt's text field as it may be stored: no NUL (PostgreSQL keeps none), cut to
    its column's length."""
    return str(item.get(name, "")).replace("\x00", "")[:limit]


# Each provider's receipt, in its own field names.
PARSERS: dict[str, Callable[[dict[str, Any]], Receipt]] = {
    "aliyun": lambda item: Receipt(_field(item, "biz_id", 128), _field(item, "phone_number", 32),
                                   item.get("success") is True, _field(item, "err_code", 64)),
    "tencent": lambda item: Receipt(_field(item, "sid", 128), _field(item, "mobile", 32),
                                    item.get("report_status") == "SUCCESS",
                                    _field(item, "errmsg", 64)),
}


class CallbackGate:
    """Who may post the providers' callbacks: the URL's secret (constant-time compare) and,
    where listed, the provider's addresses. Neither provider signs its callbacks."""

    def __init__(self, token: str, allowed: tuple[IpNetwork, ...]) -> None:
        self._token = token.encode()
        self._allowed = allowed

    async def items(self, request: web.Request, ack: Ack) -> list[Any] | web.Response:
        """The callback's items, or the answer refusing it: 403 to a sender not admitted,
        400 or 413 to a body that is no list of items."""
        if not self._admits(request):
            return web.json_response(ack.refused("forbidden"), status=403)
        return _read_items(await request.read(), ack)

    def _admits(self, request: web.Request) -> bool:
        if hmac.compare_digest(request.match_info["token"].encode(), self._token) \
                and self._allowed_source(client_address(request)):
            return True
        log.warning("SMS callback refused from %s", client_address(request))
        return False

    def _allowed_source(self, remote: str) -> bool:
        if not self._allowed:
            return True
        try:
            address = ipaddress.ip_address(remote)
        except ValueError:
            return False
        return any(address in network for network in self._allowed)


def _read_items(body: bytes, ack: Ack) -> list[Any] | web.Response:
    """A callback's JSON as a list of items, or the answer refusing it (400, 413)."""
    try:
        data = json.loads(body)  # past client_max_size the app answered 413 already
    except (ValueError, RecursionError):
        return web.json_response(ack.refused("bad json"), status=400)
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_ITEMS:
        return web.json_response(ack.refused(f"at most {MAX_ITEMS} items"), status=413)
    return items


class ReceiptRoutes:
    def __init__(self, gate: CallbackGate) -> None:
        self._gate = gate

    async def receive(self, request: web.Request) -> web.Response:
        name = request.match_info["provider"]
        ack = ACKS[name]
        items = await self._gate.items(request, ack)
        if isinstance(items, web.Response):
            return items
        receipts = [PARSERS[name](item) for item in items if isinstance(item, dict)]
        await request.app[RECEIPTS].receipts(name, receipts)
        return web.json_response(ack.ok)


def hide_secret(record: logging.LogRecord) -> bool:
    """An access-log filter: the URL's secret part is written as ***, whoever sent it."""
    record.msg = SECRET_IN_PATH.sub(r"\1***", str(record.msg))
    if isinstance(line := getattr(record, "first_request_line", None), str):
        record.first_request_line = SECRET_IN_PATH.sub(r"\1***", line)
    return True


def setup_routes(app: web.Application, token: str | None,
                 allowed: tuple[IpNetwork, ...] = ()) -> None:
    if token is None:
        return  # no secret to check receipts by: the endpoints stay off
    ACCESS_LOG.addFilter(hide_secret)  # once: logging keeps a filter only once
    routes = ReceiptRoutes(CallbackGate(token, allowed))
    app.router.add_post(r"/sms/receipts/{provider:aliyun|tencent}/{token}", routes.receive)

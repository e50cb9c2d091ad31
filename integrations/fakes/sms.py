"""A local fake of Aliyun's and Tencent Cloud's SMS APIs, for tests and benchmarks.

Speaks both protocols as the real services do: Aliyun's signed RPC form post (`/aliyun/`,
HMAC-SHA1, answers Code/BizId) and Tencent's TC3-signed JSON (`/tencent/`, 200 with a
status per number). Each checks the signature, the number and the template, applies the
providers' per-number limits (Aliyun: 50 a day per number and template; Tencent: one
identical text per 30 s and 10 a day) — a submission counts even when it fails — and
keeps one message per idempotency key (OutId / SessionContext), counting repeats.
Faults are injected with `state.faults` ("500", "timeout", "error") for the next requests.
`GET /fake/sms?phone=` lists what each phone received, as text rendered from the templates.

A test can also be a phone writing to the center's number: `FakeSms.send_from` posts the
provider's reply callback to the bot — Aliyun's SmsUp batch push (a JSON array, each with a
sequence_id) or Tencent's 短信回复 (one object, a Unix time) — and answers its status and
JSON; `received(phone)` is what that phone got back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aiohttp import ClientSession, web

from integrations.signing import aliyun_signature, tc3_signature

KEY_ID, SECRET = "fake-key-id", "fake-secret"
CHINA = timezone(timedelta(hours=8))  # integrations/ knows nothing of bot/chinatime
TENCENT_APP = "1400000000"
MOBILE = re.compile(r"^1[3-9]\d{9}$")
NAME = re.compile(r"\{(\w+)\}")


@dataclass
class FakeSmsState:
    templates: dict[str, str]  # template code → text with {names}
    outbox: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, str] = field(default_factory=dict)  # idempotency key → message id
    repeats: int = 0  # sends with a key already delivered
    counts: Counter[tuple[str, ...]] = field(default_factory=Counter)  # limits per day
    last_text: dict[str, tuple[str, float]] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    requests: int = 0
    delay: float = 0.0  # seconds before each answer, like a slow provider
    # per-number daily limits, as the providers set them unless raised in their console
    aliyun_daily: int = 50
    tencent_daily: int = 10

    def render(self, template: str, values: list[str] | dict[str, str]) -> str:
        text = self.templates[template]
        names = NAME.findall(text)
        mapping = values if isinstance(values, dict) else dict(zip(names, values, strict=False))
        return NAME.sub(lambda m: str(mapping.get(m.group(1), "")), text)

    def deliver(self, provider: str, phone: str, sign: str, template: str,
                values: list[str] | dict[str, str], key: str) -> str:
        if key in self.by_key:
            self.repeats += 1
            return self.by_key[key]
        message_id = f"{provider}-{len(self.outbox) + 1}"
        self.by_key[key] = message_id
        self.outbox.append({"provider": provider, "phone": phone, "template": template,
                            "text": f"【{sign}】{self.render(template, values)}", "key": key,
                            "id": message_id, "at": time.time()})
        return message_id


STATE = web.AppKey("fake_sms_state", FakeSmsState)


async def _fault(state: FakeSmsState) -> web.Response | None:
    state.requests += 1
    if state.delay:
        await asyncio.sleep(state.delay)
    if not state.faults:
        return None
    fault = state.faults.pop(0)
    if fault == "timeout":
        await asyncio.sleep(30)
    if fault == "500":
        return web.Response(status=500, text="Internal Server Error")
    return None if fault != "error" else web.json_response(
        {"Code": "isp.SYSTEM_ERROR", "Message": "系统错误", "RequestId": "fake",
         "Response": {"Error": {"Code": "InternalError.Timeout", "Message": "timeout"},
                      "RequestId": "fake"}})


async def aliyun(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if faulty := await _fault(state):
        return faulty
    params = dict(await request.post())
    given = str(params.pop("Signature", ""))

    def answer(code: str, message: str, biz: str | None = None) -> web.Response:
        body = {"Code": code, "Message": message, "RequestId": "fake"}
        return web.json_response(body | ({"BizId": biz} if biz else {}))

    if params.get("AccessKeyId") != KEY_ID:
        return answer("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    if given != aliyun_signature(request.method, {k: str(v) for k, v in params.items()},
                                 SECRET):
        return answer("SignatureDoesNotMatch", "Specified signature is not matched.")
    phone, template = str(params.get("PhoneNumbers")), str(params.get("TemplateCode"))
    today = datetime.now(UTC).date().isoformat()
    state.counts["aliyun", phone, template, today] += 1  # a submission counts, sent or not
    if not MOBILE.match(phone):
        return answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    if template not in state.templates:
        return answer("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
    if state.counts["aliyun", phone, template, today] > state.aliyun_daily:
        return answer("isv.BUSINESS_LIMIT_CONTROL", "触发日发送限额")
    values = json.loads(str(params.get("TemplateParam") or "{}"))
    biz = state.deliver("aliyun", phone, str(params.get("SignName")), template, values,
                        str(params.get("OutId")))
    return answer("OK", "OK", biz)


def _tencent_status(state: FakeSmsState, number: str, body: dict[str, Any]) -> dict[str, Any]:
    phone = number.removeprefix("+86")
    template, values = str(body.get("TemplateId")), list(body.get("TemplateParamSet") or [])
    today = datetime.now(UTC).date().isoformat()
    state.counts["tencent", phone, today] += 1
    text = json.dumps([template, values], ensure_ascii=False)
    last = state.last_text.get(phone)
    state.last_text[phone] = (text, time.monotonic())

    def status(code: str, message: str, serial: str = "") -> dict[str, Any]:
        return {"SerialNo": serial, "PhoneNumber": number, "Fee": 1 if serial else 0,
                "SessionContext": body.get("SessionContext", ""), "Code": code,
                "Message": message, "IsoCode": "CN"}

    if not MOBILE.match(phone):
        return status("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误")
    if template not in state.templates:
        return status("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批")
    key = str(body.get("SessionContext"))
    if key in state.by_key:  # the same send again: nothing more reaches the phone
        return status("Ok", "send success", state.deliver("tencent", phone, "", template,
                                                          values, key))
    if last and last[0] == text and time.monotonic() - last[1] < 30:
        return status("LimitExceeded.PhoneNumberThirtySecondLimit", "30秒内同内容限制")
    if state.counts["tencent", phone, today] > state.tencent_daily:
        return status("LimitExceeded.PhoneNumberDailyLimit", "单日下发条数超过限制")
    serial = state.deliver("tencent", phone, str(body.get("SignName")), template, values, key)
    return status("Ok", "send success", serial)


async def tencent(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if faulty := await _fault(state):
        return faulty
    payload = await request.read()
    authorization = request.headers.get("Authorization", "")
    timestamp = int(request.headers.get("X-TC-Timestamp", "0"))
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    expected = tc3_signature(SECRET, request.host, payload, timestamp, date)

    def error(code: str, message: str) -> web.Response:
        return web.json_response({"Response": {"Error": {"Code": code, "Message": message},
                                               "RequestId": "fake"}})

    if f"Credential={KEY_ID}/" not in authorization:
        return error("AuthFailure.SecretIdNotFound", "SecretId不存在")
    if not authorization.endswith(f"Signature={expected}"):
        return error("AuthFailure.SignatureFailure", "签名错误")
    if abs(time.time() - timestamp) > 300:
        return error("AuthFailure.SignatureExpire", "签名过期")
    body = json.loads(payload)
    if body.get("SmsSdkAppId") != TENCENT_APP:
        return error("FailedOperation.SmsSdkAppIdVerifyFail", "SdkAppId校验失败")
    statuses = [_tencent_status(state, n, body) for n in body.get("PhoneNumberSet", [])]
    return web.json_response({"Response": {"SendStatusSet": statuses, "RequestId": "fake"}})


async def outbox(request: web.Request) -> web.Response:
    phone = request.query.get("phone")
    sent = [m for m in request.app[STATE].outbox if phone is None or m["phone"] == phone]
    return web.json_response({"messages": sent, "repeats": request.app[STATE].repeats})


SIGN = "示例镇便民服务中心"


@dataclass
class FakeSms:
    url: str
    state: FakeSmsState
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _last_second: int = 0

    def uplink(self, provider: str, phone: str, text: str) -> Any:
        """The callback body the provider posts when `phone` sends `text`."""
        if provider == "aliyun":
            sent = datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")
            return [{"phone_number": phone, "send_time": sent, "content": text,
                     "sign_name": SIGN, "dest_code": "1234",
                     "sequence_id": next(self._sequence)}]
        # Tencent's callback names no message: a phone sends at most one SMS a second
        self._last_second = max(int(time.time()), self._last_second + 1)
        return {"extend": "", "mobile": phone, "nationcode": "86", "sign": SIGN,
                "text": text, "time": self._last_second}

    async def send_from(self, phone: str, text: str, callback: str,
                        provider: str = "aliyun", body: Any = None) -> tuple[int, Any]:
        """`phone` sends `text` to the center: the provider's callback to `callback` (a
        bot's /sms/uplink/{provider}/{token} URL); `body` replays a callback as it was."""
        payload = body if body is not None else self.uplink(provider, phone, text)
        async with ClientSession() as session, session.post(callback, json=payload) as response:
            return response.status, await response.json(content_type=None)

    def received(self, phone: str) -> list[str]:
        """What `phone` got, in the order the provider accepted it."""
        return [m["text"] for m in self.state.outbox if m["phone"] == phone]

    @property
    def aliyun_endpoint(self) -> str:
        return f"{self.url}/aliyun/"

    @property
    def tencent_endpoint(self) -> str:
        return f"{self.url}/tencent/"


@asynccontextmanager
async def start_fake_sms(templates: dict[str, str], port: int = 0) -> AsyncIterator[FakeSms]:
    state = FakeSmsState(templates)
    app = web.Application()
    app[STATE] = state
    app.router.add_post("/aliyun/", aliyun)
    app.router.add_post("/tencent/", tencent)
    app.router.add_get("/fake/sms", outbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    try:
        yield FakeSms(f"http://127.0.0.1:{bound}", state)
    finally:
        await runner.cleanup()

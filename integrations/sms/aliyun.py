"""Outbound: Aliyun SMS (短信服务 Dysmsapi, SendSms), over its signed RPC HTTP API.

Errors are mapped to what the notice workers do: a wrong number or an unapproved
template or sign will never go (failed); the per-number flow control (about 50 a day per
number and template, isv.BUSINESS_LIMIT_CONTROL) waits (throttled); the provider's own
failures, 5xx and timeouts are tried again (retry). OutId carries the idempotency key.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

import aiohttp

from integrations.signing import aliyun_signature
from integrations.sms import SmsMessage, SmsResult, segments

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
FAILED = frozenset({"isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL",
                    "isv.SMS_SIGNATURE_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS",
                    "isv.INVALID_PARAMETERS", "isv.BLACK_KEY_CONTROL_LIMIT",
                    "isv.PARAM_LENGTH_LIMIT", "isv.MOBILE_COUNT_OVER_LIMIT",
                    "isv.DENY_IP_RANGE", "SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound",
                    "isp.RAM_PERMISSION_DENY"})
THROTTLED = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"})


class AliyunSms:
    name = "aliyun"

    def __init__(self, session: aiohttp.ClientSession, access_key_id: str, secret: str,
                 endpoint: str = DEFAULT_ENDPOINT, timeout: float = 10.0) -> None:
        self._session = session
        self._key_id = access_key_id
        self._secret = secret
        self._endpoint = endpoint
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def signed_params(self, message: SmsMessage) -> dict[str, str]:
        params = {
            "AccessKeyId": self._key_id, "Action": "SendSms", "Format": "JSON",
            "PhoneNumbers": message.phone, "SignName": message.sign_name,
            "TemplateCode": message.template,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False),
            "OutId": message.key, "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": secrets.token_hex(16),
            "SignatureVersion": "1.0", "Version": "2017-05-25",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        params["Signature"] = aliyun_signature("POST", params, self._secret)
        return params

    async def send(self, message: SmsMessage) -> SmsResult:
        parts = segments(f"【{message.sign_name}】{message.text}")
        try:
            async with self._session.post(self._endpoint, data=self.signed_params(message),
                                          timeout=self._timeout) as response:
                if response.status >= 500:
                    return SmsResult("retry", str(response.status), "server error", parts=parts)
                body = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            return SmsResult("retry", "unreachable", type(exc).__name__, parts=parts)
        code = str(body.get("Code", ""))
        detail = str(body.get("Message", ""))
        if code == "OK":
            return SmsResult("sent", code, detail, str(body.get("BizId") or ""), parts)
        if code in FAILED:
            return SmsResult("failed", code, detail, parts=parts)
        if code in THROTTLED:
            return SmsResult("throttled", code, detail, parts=parts)
        return SmsResult("retry", code, detail, parts=parts)  # isp.SYSTEM_ERROR, Throttling…

"""Outbound: Tencent Cloud SMS (SendSms, API 3.0 version 2021-01-11), signed TC3-HMAC-SHA256.

Tencent answers 200 with a status per number inside (SendStatusSet), or an Error for the
whole request. Its per-number limits (one identical text per 30 s, 10 a day by default)
wait (throttled); a wrong number or an unapproved template or sign never goes (failed);
internal errors, 5xx and timeouts are tried again. SessionContext carries the
idempotency key.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp

from integrations.sms import SmsMessage, SmsResult, segments
from integrations.sms.signing import TENCENT_CONTENT_TYPE, tc3_authorization, tc3_signature

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com/"
FAILED_PREFIXES = ("InvalidParameterValue.IncorrectPhoneNumber",
                   "FailedOperation.TemplateIncorrectOrUnapproved",
                   "FailedOperation.SignatureIncorrectOrUnapproved",
                   "FailedOperation.PhoneNumberInBlacklist", "InvalidParameterValue",
                   "MissingParameter", "AuthFailure", "UnauthorizedOperation",
                   "FailedOperation.ContainSensitiveWord", "UnsupportedOperation")
THROTTLED_PREFIXES = ("LimitExceeded.PhoneNumber", "LimitExceeded.DeliveryFrequencyLimit",
                      "RequestLimitExceeded")


def _outcome(code: str) -> str:
    if code.lower() == "ok":
        return "sent"
    if code.startswith(THROTTLED_PREFIXES):
        return "throttled"
    if code.startswith(FAILED_PREFIXES):
        return "failed"
    return "retry"  # InternalError.*, FailedOperation.InsufficientBalance…, unknown


class TencentSms:
    name = "tencent"

    def __init__(self, session: aiohttp.ClientSession, secret_id: str, secret_key: str,
                 app_id: str, endpoint: str = DEFAULT_ENDPOINT, region: str = "ap-guangzhou",
                 timeout: float = 10.0) -> None:
        self._session = session
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._app_id = app_id
        self._endpoint = endpoint
        self._host = urlsplit(endpoint).netloc
        self._region = region
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def signed_request(self, message: SmsMessage) -> tuple[bytes, dict[str, str]]:
        payload = json.dumps({
            "PhoneNumberSet": [f"+86{message.phone}"], "SmsSdkAppId": self._app_id,
            "SignName": message.sign_name, "TemplateId": message.template,
            "TemplateParamSet": list(message.params.values()),
            "SessionContext": message.key,
        }, ensure_ascii=False).encode()
        now = int(time.time())
        date = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        signature = tc3_signature(self._secret_key, self._host, payload, now, date)
        return payload, {
            "Authorization": tc3_authorization(self._secret_id, signature, date),
            "Content-Type": TENCENT_CONTENT_TYPE, "Host": self._host,
            "X-TC-Action": "SendSms", "X-TC-Timestamp": str(now),
            "X-TC-Version": "2021-01-11", "X-TC-Region": self._region,
        }

    async def send(self, message: SmsMessage) -> SmsResult:
        parts = segments(f"【{message.sign_name}】{message.text}")
        payload, headers = self.signed_request(message)
        try:
            async with self._session.post(self._endpoint, data=payload, headers=headers,
                                          timeout=self._timeout) as response:
                if response.status >= 500:
                    return SmsResult("retry", str(response.status), "server error", parts=parts)
                body = (await response.json(content_type=None)).get("Response", {})
        except (TimeoutError, aiohttp.ClientError, ValueError, AttributeError) as exc:
            return SmsResult("retry", "unreachable", type(exc).__name__, parts=parts)
        if "Error" in body:
            code = str(body["Error"].get("Code", ""))
            return SmsResult(_outcome(code), code, str(body["Error"].get("Message", "")),
                             parts=parts)
        statuses = body.get("SendStatusSet") or [{}]
        status = statuses[0]
        code = str(status.get("Code", ""))
        return SmsResult(_outcome(code), code, str(status.get("Message", "")),
                         str(status.get("SerialNo") or "") or None, parts)

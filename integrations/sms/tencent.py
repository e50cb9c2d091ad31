"""Outbound: Tencent Cloud SMS (SendSms, API 3.0 version 2021-01-11), signed TC3-HMAC-SHA256.

Tencent answers 200 with a status per number inside (SendStatusSet), or an Error for the
whole request. Its per-number limits (one identical text per 30 s, 10 a day by default)
wait (throttled); a wrong number or an unapproved template or sign never goes (failed);
internal errors, 5xx and timeouts are tried again. SessionContext carries the
idempotency key.
"""

from __future__ import annotations

import json

import aiohttp

from integrations.signing import TencentCloudClient
from integrations.sms import SmsMessage, SmsResult, segments

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


class TencentSms(TencentCloudClient):
    name = "tencent"

    def __init__(self, session: aiohttp.ClientSession, secret_id: str, secret_key: str,
                 app_id: str, endpoint: str = DEFAULT_ENDPOINT, region: str = "ap-guangzhou",
                 timeout: float = 10.0) -> None:
        super().__init__(session, secret_id, secret_key, endpoint, region, timeout)
        self._app_id = app_id

    def signed_request(self, message: SmsMessage) -> tuple[bytes, dict[str, str]]:
        payload = json.dumps({
            "PhoneNumberSet": [f"+86{message.phone}"], "SmsSdkAppId": self._app_id,
            "SignName": message.sign_name, "TemplateId": message.template,
            "TemplateParamSet": list(message.params.values()),
            "SessionContext": message.key,
        }, ensure_ascii=False).encode()
        return payload, self.signed(payload, "sms", "SendSms", "2021-01-11")

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

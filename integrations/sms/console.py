"""Outbound: SMS printed to the console and appended to a file, for `make run`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from integrations.sms import SmsMessage, SmsResult, segments

log = logging.getLogger(__name__)


class ConsoleSms:
    name = "console"

    def __init__(self, file: Path | None = None) -> None:
        self._file = file

    async def send(self, message: SmsMessage) -> SmsResult:
        text = f"【{message.sign_name}】{message.text}"
        log.info("SMS to %s: %s", message.phone, text)
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            with self._file.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"at": datetime.now(UTC).isoformat(), "to": message.phone,
                                      "text": text, "key": message.key},
                                     ensure_ascii=False) + "\n")
        return SmsResult("sent", message_id=message.key, parts=segments(text))

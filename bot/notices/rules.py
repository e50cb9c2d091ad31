"""Domain services stage: what each notice says and when it may go (catalogue/notices.yml).

One template per notice kind: the SMS text with {names}, the WeChat template message (its
id and fields), the providers' template codes, whether it is urgent (sent in quiet hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.catalogue.reading import CatalogueError, CatalogueProblem, read_yaml

NAME = re.compile(r"\{(\w+)\}")
# What a notice can say (bot/notices/compose.py fills these in).
KNOWN = frozenset({"matter", "receipt", "due", "reason", "missing", "place", "phone",
                   "booking", "when", "visit", "person", "agent", "address", "outcome",
                   "text", "code", "status"})


def fill(text: str, values: dict[str, str]) -> str:
    return NAME.sub(lambda m: values.get(m.group(1), ""), text)


@dataclass(frozen=True, slots=True)
class NoticeTemplate:
    kind: str
    sms: str
    wechat_template_id: str
    wechat_fields: dict[str, str]
    aliyun: str
    tencent: str
    urgent: bool = False

    def sms_params(self, values: dict[str, str]) -> dict[str, str]:
        """The template's parameters in the order they appear (Tencent takes a list)."""
        return {name: values.get(name, "") for name in dict.fromkeys(NAME.findall(self.sms))}


@dataclass(frozen=True)
class NoticeRules:
    quiet_from: time
    quiet_to: time
    retry_first: int
    retry_max: int
    max_attempts: int
    sign_name: str
    waiting_reminder_days: int
    templates: dict[str, NoticeTemplate]

    def quiet(self, moment: datetime) -> bool:
        """In the night's quiet hours (moment in China time)."""
        now = moment.time()
        if self.quiet_from > self.quiet_to:  # 21:00–08:00 spans midnight
            return now >= self.quiet_from or now < self.quiet_to
        return self.quiet_from <= now < self.quiet_to

    def quiet_ends(self, moment: datetime) -> datetime:
        end = datetime.combine(moment.date(), self.quiet_to, moment.tzinfo)
        return end if end > moment else end + timedelta(days=1)

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_max, self.retry_first * 2 ** max(0,
                                                                              attempts - 1)))


def _clock(value: Any, file: str, where: str, problems: list[CatalogueProblem]) -> time:
    try:
        hour, minute = (int(part) for part in str(value).split(":"))
        return time(hour, minute)
    except ValueError:
        problems.append(CatalogueProblem(file, where, "应为 HH:MM 格式的时间"))
        return time(0)


def _template(kind: str, item: Any, file: str,
              problems: list[CatalogueProblem]) -> NoticeTemplate | None:
    if not isinstance(item, dict) or not isinstance(item.get("sms"), str):
        problems.append(CatalogueProblem(file, f"kinds.{kind}.sms", "必填,短信正文"))
        return None
    wechat = item.get("wechat") or {}
    fields = wechat.get("fields") or {}
    if not isinstance(fields, dict):
        problems.append(CatalogueProblem(file, f"kinds.{kind}.wechat.fields", "应为键值对"))
        fields = {}
    for text in (item["sms"], *map(str, fields.values())):
        for name in set(NAME.findall(text)) - KNOWN:
            problems.append(CatalogueProblem(file, f"kinds.{kind}", f"不认识的 {{{name}}}"))
    return NoticeTemplate(kind, item["sms"], str(wechat.get("template_id") or ""),
                          {str(k): str(v) for k, v in fields.items()},
                          str(item.get("aliyun") or ""), str(item.get("tencent") or ""),
                          bool(item.get("urgent", False)))


def load_notice_rules(directory: Path) -> NoticeRules:
    file = directory / "notices.yml"
    shown = str(file)
    data = read_yaml(file, "缺少通知模板文件")
    problems: list[CatalogueProblem] = []
    data = data if isinstance(data, dict) else {}
    quiet = data.get("quiet_hours") or {}
    retry = data.get("retry") or {}
    kinds: dict[str, Any] = data["kinds"] if isinstance(data.get("kinds"), dict) else {}
    templates = {kind: template for kind, item in kinds.items()
                 if (template := _template(str(kind), item, shown, problems))}
    rules = NoticeRules(
        quiet_from=_clock(quiet.get("from", "21:00"), shown, "quiet_hours.from", problems),
        quiet_to=_clock(quiet.get("to", "08:00"), shown, "quiet_hours.to", problems),
        retry_first=int(retry.get("first_seconds", 30)),
        retry_max=int(retry.get("max_seconds", 3600)),
        max_attempts=int(retry.get("max_attempts", 8)),
        sign_name=str(data.get("sms_sign_name") or ""),
        waiting_reminder_days=int(data.get("waiting_reminder_days", 5)),
        templates=templates)
    if not rules.sign_name:
        problems.append(CatalogueProblem(shown, "sms_sign_name", "必填,短信签名"))
    if problems:
        raise CatalogueError(problems)
    return rules

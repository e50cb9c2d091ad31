"""Domain services stage: an admin edits a matter in the console — aliases, materials,
conditions, time limit, fee, 「待核实」 — checked exactly as `bot catalog check` checks the
files (the loader's parsing, then lint's rules for this matter), stored as a revision
(bot/catalogue/revisions.py: why revisions over the YAML files) and reversible.

The form is plain text a clerk can type: one alias, material or condition a line; a
material's parts split by ｜ (名称｜原件/复印件/原件和复印件｜份数｜说明｜出处), a condition's
as 内容｜出处; an 出处 is seeds/000:行号 or policy: 政策名称, or 待核实 where the center
has still to confirm it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue.center import load_center
from bot.catalogue.lint import Finding, lint
from bot.catalogue.loader import load_catalogue
from bot.catalogue.model import Catalogue
from bot.catalogue.outside import load_outside
from bot.catalogue.reading import CatalogueError, CatalogueProblem
from bot.catalogue.revisions import MatterRevisions

CHANGED_MEANWHILE = "刚才有人改过这个事项：请打开最新的内容再改（您填的还在下面）"
FOLLOW_SECONDS = 5.0  # how soon every worker answers with an admin's edit
log = logging.getLogger(__name__)

EDITABLE = ("aliases", "materials", "conditions", "time_limit", "fee", "to_confirm")
FORM_KEYS = ("aliases", "materials", "conditions", "time_immediate", "time_working_days",
             "time_days", "time_note", "time_source", "fee", "fee_source", "to_confirm")
UNCONFIRMED = "待核实"  # typed where the source goes: to_confirm
_PARTS = re.compile(r"\s*[|｜]\s*")
_ALIAS_SPLIT = re.compile(r"[\n、，,；;]+")
MATERIAL_PARTS = ("name", "form", "count", "note")
MAX_FORM_CHARS = 20_000

# What the loader's messages call fields, in the form's words
FIELD_WORDS = {"aliases": "群众叫法", "materials": "材料", "conditions": "办理条件",
               "time_limit": "办理时限", "fee": "收费", "to_confirm": "整个事项待核实",
               "name": "名称", "form": "原件/复印件", "count": "份数", "note": "说明",
               "source": "出处", "text": "内容", "working_days": "工作日数", "days": "自然日数",
               "immediate": "即办", "keywords": "关键词"}
_KEY_WORDS = [("immediate: true", "勾选「即办」"), ("working_days: 天数", "填工作日数"),
              ("working_days", "工作日数"), ("immediate", "即办"), ("days", "自然日数"),
              ("to_confirm: true", "写「待核实」"), ("to_confirm", "待核实"), ("source", "出处"),
              ("note", "说明"), ("catalogue/ambiguous.yml", "几件事共用的说法表"),
              ("ambiguous.yml", "几件事共用的说法表")]
_KEYS_IN_MESSAGE = re.compile("|".join(re.escape(key) for key, _ in _KEY_WORDS))
_PATH_PART = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


class EditRefused(ValueError):
    """The edit does not pass the catalogue's checks; `problems` in the form's words."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("；".join(problems))


@dataclass(frozen=True, slots=True)
class Saved:
    before: dict[str, str]  # the form as it was, and as it is now (for the audit log)
    after: dict[str, str]
    revision: int


# --- the form ↔ the fields as the YAML file says them --------------------------------------


def _sourced_text(item: Mapping[str, Any]) -> str:
    return UNCONFIRMED if item.get("to_confirm") else str(item.get("source") or "")


def _material_line(item: Mapping[str, Any]) -> str:
    parts = [str(item.get(key) if item.get(key) is not None else "") for key in MATERIAL_PARTS]
    return "｜".join([*parts, _sourced_text(item)]).rstrip("｜")


def _statement_line(item: object) -> str:
    if not isinstance(item, Mapping):
        return str(item)
    return "｜".join((str(item.get("text") or ""), _sourced_text(item))).rstrip("｜")


def form_of(fields: Mapping[str, Any]) -> dict[str, str]:
    """The edit form's values for a matter's fields."""
    limit = fields.get("time_limit") or {}
    fee = fields.get("fee")
    fee_item = fee if isinstance(fee, Mapping) else {"text": fee or ""}

    def number(value: object) -> str:
        return "" if value is None else str(value)

    return {
        "aliases": "\n".join(str(a) for a in fields.get("aliases") or []),
        "materials": "\n".join(_material_line(m) for m in fields.get("materials") or []
                               if isinstance(m, Mapping)),
        "conditions": "\n".join(_statement_line(c) for c in fields.get("conditions") or []),
        "time_immediate": "1" if limit.get("immediate") else "",
        "time_working_days": number(limit.get("working_days")),
        "time_days": number(limit.get("days")), "time_note": str(limit.get("note") or ""),
        "time_source": _sourced_text(limit), "fee": str(fee_item.get("text") or ""),
        "fee_source": _sourced_text(fee_item),
        "to_confirm": "1" if fields.get("to_confirm") else "",
    }


def _with_source(item: dict[str, Any], source: str) -> dict[str, Any]:
    if source == UNCONFIRMED:
        item["to_confirm"] = True
    elif source:
        item["source"] = source
    return item


def _count(text: str) -> object:
    """A typed count (「２０」 as 20): a number where it is one, else the text (the loader
    says what is wrong)."""
    text = unicodedata.normalize("NFKC", text).strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 8 else text


def _material(line: str) -> dict[str, Any]:
    parts = _PARTS.split(line.strip())
    source = "｜".join(parts[4:])  # a sixth part is refused as no 出处 (the loader's words)
    item: dict[str, Any] = {"name": parts[0], "form": parts[1] if len(parts) > 1 else ""}
    if len(parts) > 2 and parts[2]:
        item["count"] = _count(parts[2])
    if len(parts) > 3 and parts[3]:
        item["note"] = parts[3]
    return _with_source(item, source)


def _condition(line: str) -> dict[str, Any]:
    text, *source = _PARTS.split(line.strip(), maxsplit=1)
    return _with_source({"text": text}, "".join(source))


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _time_limit(form: Mapping[str, str]) -> dict[str, Any] | None:
    limit: dict[str, Any] = {}
    if form.get("time_immediate"):
        limit["immediate"] = True
    for key, name in (("time_working_days", "working_days"), ("time_days", "days")):
        if value := form.get(key, "").strip():
            limit[name] = _count(value)
    if note := form.get("time_note", "").strip():
        limit["note"] = note
    if not limit:
        return None
    return _with_source(limit, form.get("time_source", "").strip())


def fields_of(form: Mapping[str, str]) -> dict[str, Any]:
    """The matter's fields as the form says them; a field left empty is absent (None), so
    the file's value does not come back under it."""
    aliases = [a.strip() for a in _ALIAS_SPLIT.split(form.get("aliases", "")) if a.strip()]
    fee = form.get("fee", "").strip()
    return {
        "aliases": aliases or None,
        "materials": [_material(line) for line in _lines(form.get("materials", ""))] or None,
        "conditions": [_condition(line) for line in _lines(form.get("conditions", ""))] or None,
        "time_limit": _time_limit(form),
        "fee": _with_source({"text": fee}, form.get("fee_source", "").strip()) if fee else None,
        "to_confirm": bool(form.get("to_confirm")),
    }


# --- checking, in the form's words -------------------------------------------------------


def _where(path: str) -> str:
    """「materials[2].form」 → 「材料第2行的原件/复印件」."""
    words = []
    for part in path.split("."):
        found = _PATH_PART.match(part)
        if not found:
            words.append(part)
            continue
        name, index = found.groups()
        words.append(FIELD_WORDS.get(name, name) + (f"第{index}行" if index else ""))
    return "的".join(words)


def _message(text: str) -> str:
    words = dict(_KEY_WORDS)
    return _KEYS_IN_MESSAGE.sub(lambda found: words[found.group()], text)


def _problem_words(problem: CatalogueProblem) -> str:
    where = _where(problem.field) if problem.field else ""
    return f"{where}：{_message(problem.message)}" if where else _message(problem.message)


def _concerns(finding: Finding, matter_id: str, aliases: tuple[str, ...]) -> bool:
    """Lint's errors about this matter: its own fields, an alias it shares with another
    matter, or an alias that is a topic the center does not handle (outside.yml)."""
    if finding.warning:
        return False
    return finding.where.startswith(f"{matter_id}.") or (
        finding.where.startswith("aliases「") and matter_id in finding.message) or (
        finding.where.startswith("outside.yml")
        and any(f"「{alias}」" in finding.message for alias in aliases))


def _finding_words(finding: Finding, matter_id: str) -> str:
    where = finding.where.removeprefix(f"{matter_id}.")
    field, bracket, rest = where.partition("「")
    shown = _where(field) + (f"「{rest}" if bracket else "")
    return f"{shown}：{_message(finding.message)}"


def check(directory: Path, seeds_dir: Path | None, edits: Mapping[str, Mapping[str, Any]],
          matter_id: str) -> list[str]:
    """What `bot catalog check` would say about `matter_id` with these edits (its errors:
    the loader's, then lint's), in the form's words; empty: the edit may be saved."""
    try:
        catalogue = load_catalogue(directory, edits=edits)
    except CatalogueError as error:
        mine = [p for p in error.problems if Path(p.file).stem == matter_id]
        return [_problem_words(p) for p in mine] or [
            f"和事项目录的 {Path(p.file).name} 冲突：{p.field}{'：' if p.field else ''}"
            f"{_message(p.message)}" for p in error.problems]
    findings = lint(catalogue, load_center(directory), load_outside(directory), seeds_dir)
    edited = catalogue.get(matter_id)
    aliases = edited.aliases if edited else ()
    return [_finding_words(f, matter_id) for f in findings
            if _concerns(f, matter_id, aliases)]


def file_fields(directory: Path, matter_id: str) -> dict[str, Any]:
    """The editable fields as the matter's YAML file says them (absent ones as None)."""
    data = yaml.safe_load((directory / "matters" / f"{matter_id}.yml").read_text(
        encoding="utf-8"))
    return {**{key: data.get(key) for key in EDITABLE},
            "to_confirm": data.get("to_confirm", False)}  # a flag is never None


class CatalogueEditor:
    """The catalogue as the files and the latest revisions make it; edits checked and kept."""

    def __init__(self, directory: Path, seeds_dir: Path | None,
                 revisions: MatterRevisions) -> None:
        self._directory = directory
        self._seeds_dir = seeds_dir
        self.revisions = revisions

    async def catalogue(self) -> Catalogue:
        """The catalogue the bot uses, with the admins' latest edits. An edit that no longer
        fits the files (changed on the server since) is left out, with an error in the log,
        rather than keeping every worker from starting."""
        edits = await self.revisions.latest()
        try:
            return await asyncio.to_thread(load_catalogue, self._directory, edits=edits)
        except CatalogueError:
            if not edits:
                raise
        fitting: dict[str, dict[str, Any]] = {}
        for matter_id, fields in edits.items():
            try:
                await asyncio.to_thread(load_catalogue, self._directory,
                                        edits={**fitting, matter_id: fields})
                fitting[matter_id] = fields
            except CatalogueError as clash:
                log.error("catalogue: the admins' edit of %s no longer fits the files and is "
                          "left out: %s", matter_id, clash)
        return await asyncio.to_thread(load_catalogue, self._directory, edits=fitting)

    async def follow(self, catalogue: Catalogue, seen: int,
                     changed: Callable[[Catalogue], None] = lambda catalogue: None,
                     every: float = FOLLOW_SECONDS) -> None:
        """Keep `catalogue` (loaded at revision `seen`) at the admins' latest edits (and tell
        `changed`, which rebuilds what was derived from it),
        whichever worker saved them: the newest revision is looked up every `every` seconds
        (one indexed query; a missed pub/sub message could leave a worker behind for ever, a
        poll cannot)."""
        while True:
            await asyncio.sleep(every)
            try:
                newest = await self.revisions.newest()
                if newest != seen:
                    catalogue.refresh(await self.catalogue())
                    changed(catalogue)
                    seen = newest
            except Exception:  # the database away for a moment: the next look catches up
                log.exception("catalogue: could not take the latest edits")

    def original(self, matter_id: str) -> dict[str, Any]:
        return file_fields(self._directory, matter_id)

    async def current(self, matter_id: str) -> tuple[dict[str, Any], int]:
        """The matter's fields now, and the revision they are (0: the file's)."""
        history = await self.revisions.history(matter_id)
        if history:
            return dict(history[0].fields), history[0].id
        return self.original(matter_id), 0

    async def save(self, matter_id: str, form: Mapping[str, str], by: str,
                   base: int) -> Saved:
        """The form as the matter's new revision; EditRefused (nothing stored) when it does
        not pass the checks, or when someone saved another revision since `base`."""
        if any("\x00" in value or len(value) > MAX_FORM_CHARS for value in form.values()):
            raise EditRefused(["有空字符或内容太长，请检查后再保存"])
        before, now = await self.current(matter_id)
        if now != base:
            raise EditRefused([CHANGED_MEANWHILE])
        return await self._store(matter_id, before, fields_of(form), by, base, None)

    async def restore(self, matter_id: str, revision_id: int, by: str, base: int) -> Saved:
        """「恢复此版本」: an older revision's fields (0: the file's) as the newest, unless
        someone saved another since the page showed `base`."""
        before, now = await self.current(matter_id)
        if now != base:
            raise EditRefused([CHANGED_MEANWHILE])
        if revision_id == 0:
            fields = self.original(matter_id)
        else:
            old = next((r for r in await self.revisions.history(matter_id)
                        if r.id == revision_id), None)
            if old is None:
                raise EditRefused(["没有这个版本"])
            fields = dict(old.fields)
        return await self._store(matter_id, before, fields, by, now, revision_id)

    async def _store(self, matter_id: str, before: dict[str, Any], fields: dict[str, Any],
                     by: str, follows: int, restored_from: int | None) -> Saved:
        edits = {**await self.revisions.latest(), matter_id: fields}
        problems = await asyncio.to_thread(check, self._directory, self._seeds_dir, edits,
                                           matter_id)
        if problems:
            raise EditRefused(problems)
        revision = await self.revisions.add(matter_id, fields, by, follows, restored_from)
        if revision is None:
            raise EditRefused([CHANGED_MEANWHILE])
        old, new = form_of(before), form_of(fields)
        changed = [key for key in FORM_KEYS if old[key] != new[key]]
        return Saved({k: old[k] for k in changed}, {k: new[k] for k in changed}, revision.id)

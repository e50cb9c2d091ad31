"""Domain services stage: what `bot catalog check` holds a catalogue to beyond loading it.

Loading refuses a catalogue the bot cannot use. This check refuses one a township should not
rely on: a matter villagers cannot name (fewer than MIN_ALIASES aliases), a word that
silently picks one of several matters (an alias shared without being declared in
ambiguous.yml), a fact with neither a source nor a `to_confirm` flag, a source that points
past the end of its seed. It warns about what a center must set before going live: the
placeholder phone and address, office hours nobody has confirmed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.catalogue.center import Center
from bot.catalogue.model import Catalogue, Matter
from bot.catalogue.outside import OutsideTopic

MIN_ALIASES = 5
SEED_LINES = re.compile(r"^seeds/(\d{3}):(\d+)(?:-(\d+))?$")
PLACEHOLDERS = ("0000-", "示例")  # the sample center.yml's phone and address


@dataclass(frozen=True, slots=True)
class Fact:
    """One stated fact of a matter and where it comes from."""

    matter: str
    field: str  # materials[2], conditions[1], time_limit, fee, place, variants[1].materials[1]
    text: str
    source: str
    to_confirm: bool


@dataclass(frozen=True, slots=True)
class Finding:
    where: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{'提醒' if self.warning else '错误'}: {self.where}: {self.message}"


def facts(matter: Matter) -> Iterator[Fact]:
    for index, item in enumerate(matter.materials, start=1):
        yield Fact(matter.id, f"materials[{index}]", item.name, item.source, item.to_confirm)
    for v_index, variant in enumerate(matter.variants, start=1):
        for index, item in enumerate(variant.materials, start=1):
            yield Fact(matter.id, f"variants[{v_index}].materials[{index}]", item.name,
                       item.source, item.to_confirm)
    for key, statements in (("conditions", matter.conditions),
                            ("procedure", matter.procedure)):
        for index, statement in enumerate(statements, start=1):
            yield Fact(matter.id, f"{key}[{index}]", statement.text, statement.source,
                       statement.to_confirm)
    limit = matter.time_limit
    if limit:
        yield Fact(matter.id, "time_limit", limit.describe(), limit.source, limit.to_confirm)
    for key, statement in (("fee", matter.fee), ("place", matter.place)):
        if statement:
            yield Fact(matter.id, key, statement.text, statement.source, statement.to_confirm)


def completeness(matter: Matter) -> list[str]:
    """What the center still has to fill in or confirm for `matter` (empty: a full guide)."""
    missing = [what for what, known in (
        ("材料清单", matter.materials or any(v.materials for v in matter.variants)),
        ("办理条件", matter.conditions),
        ("办理步骤", matter.procedure), ("办理时限", matter.time_limit), ("收费", matter.fee),
        ("地点", matter.place), ("办件类型", matter.case_type)) if not known]
    unconfirmed = sum(1 for fact in facts(matter) if fact.to_confirm)
    if unconfirmed:
        missing.append(f"{unconfirmed} 条待核实")
    return missing


def seed_lengths(seeds_dir: Path | None) -> dict[str, int]:
    """Lines per seed ("000" → 378); empty when the seeds are not on this machine."""
    if seeds_dir is None or not seeds_dir.is_dir():
        return {}
    return {path.name[:3]: len(path.read_text(encoding="utf-8").splitlines())
            for path in seeds_dir.glob("[0-9][0-9][0-9]_*.txt")}


def lint(catalogue: Catalogue, center: Center, outside: tuple[OutsideTopic, ...],
         seeds_dir: Path | None) -> list[Finding]:
    findings = _alias_findings(catalogue, outside)
    lengths = seed_lengths(seeds_dir)
    for matter in catalogue:
        for fact in facts(matter):
            findings += _source_findings(fact, lengths)
    return findings + _center_findings(center)


def _alias_findings(catalogue: Catalogue, outside: tuple[OutsideTopic, ...]) -> list[Finding]:
    findings: list[Finding] = []
    shared = set(catalogue.ambiguous)
    owners: dict[str, set[str]] = defaultdict(set)
    for matter in catalogue:
        own = [a for a in matter.aliases if a not in shared]
        if len(own) < MIN_ALIASES:
            findings.append(Finding(f"{matter.id}.aliases",
                                    f"至少写 {MIN_ALIASES} 个群众的叫法,现在 {len(own)} 个"))
        for alias in own:
            owners[alias].add(matter.id)
    for alias, ids in sorted(owners.items()):
        if len(ids) > 1:
            findings.append(Finding(
                f"aliases「{alias}」", f"写在了几个事项里({', '.join(sorted(ids))}):只留一处,"
                "或者写进 catalogue/ambiguous.yml,让机器人问群众是哪一个"))
    findings += [Finding(f"{matter.id}.keywords「{word}」",
                         "这个词可能指几件事(ambiguous.yml),不能用来偏向这一件")
                 for matter in catalogue for word in matter.keywords if word in shared]
    findings += [Finding(f"outside.yml「{topic.topic}」",
                         f"「{word}」也是事项的叫法,群众问它时会答错")
                 for topic in outside for word in topic.words if word in owners or word in shared]
    return findings


def _center_findings(center: Center) -> list[Finding]:
    findings = []
    if any(mark in center.phone or mark in center.address for mark in PLACEHOLDERS):
        findings.append(Finding("center.yml", "电话和地址还是示例,会告诉群众:上线前请改成本中心的",
                                warning=True))
    if center.to_confirm:
        findings.append(Finding("center.yml", "延时服务、周六和赶集日的时间还没有核实(to_confirm):"
                                              "群众看到的时间会带“以中心公布为准”", warning=True))
    return findings


def _source_findings(fact: Fact, lengths: dict[str, int]) -> list[Finding]:
    where = f"{fact.matter}.{fact.field}"
    if not fact.source and not fact.to_confirm:
        return [Finding(where, f"「{fact.text}」没有出处:写 source(seeds/000:行号 或 "
                               "policy: 政策名称),或标 to_confirm: true")]
    found = SEED_LINES.match(fact.source)
    if not found or not lengths:
        return []
    seed, first, last = found.group(1), int(found.group(2)), int(found.group(3) or found.group(2))
    if seed not in lengths:
        return [Finding(where, f"没有 seeds/{seed} 这份材料")]
    if not 1 <= first <= last <= lengths[seed]:
        return [Finding(where, f"seeds/{seed} 只有 {lengths[seed]} 行,出处 {fact.source} 不对")]
    return []

"""Domain services stage: load and validate the matter catalogue from staff-edited YAML.

Every problem is collected (not only the first) and names the file and the field, e.g.
`catalogue/matters/dibao.yml: materials[2].form: 应为 原件 / 复印件 / 原件和复印件`, so a clerk
can fix a typo without reading Python. Nothing half-valid is ever returned.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue.model import (
    GROUPS,
    CaseType,
    Catalogue,
    Handling,
    Material,
    MaterialForm,
    Matter,
    TimeLimit,
    Variant,
)
from bot.catalogue.reading import (
    SOURCED_KEYS,
    CatalogueError,
    CatalogueProblem,
    FileReader,
)

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

# The matters every center's catalogue must have (issue #2); a center may add more.
REQUIRED_MATTER_IDS = frozenset((
    "hukou_move_out", "hukou_move_in", "birth_registration", "hukou_certificate",
    "death_registration", "id_card", "residence_permit", "only_child_certificate",
    "marriage_birth_certificate", "fertility_registration", "family_planning_reward",
    "medical_insurance_enrollment", "medical_insurance_reimbursement", "wubao", "dibao",
    "medical_assistance", "elderly_card", "senior_allowance", "disability_certificate",
    "disability_subsidies", "unemployment_registration", "pension_certification",
    "social_security_card", "low_rent_housing", "homestead_application", "seed_subsidy",
    "party_membership_transfer", "official_seal", "zero_employment_family",
    "housing_fund_withdrawal",
))


MATTER_KEYS = frozenset((
    "id", "name", "aliases", "keywords", "department", "window", "case_type", "legal_basis",
    "conditions", "materials", "variants", "variant_question", "procedure", "time_limit",
    "fee", "place", "home_visit", "agent", "online", "to_confirm", "source", "group",
    "handling",
))
MATERIAL_KEYS = frozenset({"name", "form", "count", "note"}) | SOURCED_KEYS
VARIANT_KEYS = frozenset({"id", "name", "materials", "note", "source"})
# a promise longer than a year is a typo (and a due date far enough away overflows)
MAX_LIMIT_DAYS = 365
TIME_LIMIT_KEYS = frozenset({"immediate", "working_days", "days", "note"}) | SOURCED_KEYS


def _material(reader: FileReader) -> Callable[[dict[str, Any], str], Material | None]:
    def build(item: dict[str, Any], path: str) -> Material | None:
        reader.unknown_keys(item, MATERIAL_KEYS, path)
        name = reader.text("name", within=item, path=f"{path}.name")
        form_text = reader.text("form", within=item, path=f"{path}.form")
        count = item.get("count", 1)
        ok = bool(name)
        try:
            form = MaterialForm(form_text)
        except ValueError:
            if form_text:
                forms = " / ".join(f.value for f in MaterialForm)
                reader.problem(f"{path}.form", f"应为 {forms},现在是「{form_text}」")
            ok = False
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 20:
            reader.problem(f"{path}.count", "份数应为 1 到 20 的整数")
            ok = False
        note = reader.text("note", within=item, path=f"{path}.note", required=False)
        source, to_confirm = reader.sourced(item, path)
        return Material(name, form, count, note, source, to_confirm) if ok else None

    return build


def _variant(reader: FileReader) -> Callable[[dict[str, Any], str], Variant | None]:
    def build(item: dict[str, Any], path: str) -> Variant | None:
        reader.unknown_keys(item, VARIANT_KEYS, path)
        variant_id = reader.text("id", within=item, path=f"{path}.id")
        if variant_id and not ID_PATTERN.match(variant_id):
            reader.problem(f"{path}.id", "只能用小写英文字母、数字和下划线")
        name = reader.text("name", within=item, path=f"{path}.name")
        materials = reader.items("materials", _material(reader), within=item,
                                 path=f"{path}.materials")
        note = reader.text("note", within=item, path=f"{path}.note", required=False)
        reader.sourced({"source": item.get("source")}, path)  # format only: items carry theirs
        return Variant(variant_id, name, materials, note) if variant_id and name else None

    return build


def _time_limit(reader: FileReader, *, required: bool) -> TimeLimit:
    value = reader.data.get("time_limit")
    if value is None and not required:
        return TimeLimit()
    if not isinstance(value, dict):
        reader.problem("time_limit", "必填:写 immediate: true、working_days: 天数,或只写 note")
        return TimeLimit()
    reader.unknown_keys(value, TIME_LIMIT_KEYS, "time_limit")
    immediate = value.get("immediate", False)
    days = value.get("working_days")
    note = reader.text("note", within=value, path="time_limit.note", required=False)
    source, to_confirm = reader.sourced(value, "time_limit")
    if not isinstance(immediate, bool):
        reader.problem("time_limit.immediate", "应为 true 或 false")
        immediate = False
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)
                             or not 1 <= days <= MAX_LIMIT_DAYS):
        reader.problem("time_limit.working_days",
                       f"应为 1 到 {MAX_LIMIT_DAYS} 的整数(工作日)")
        days = None
    calendar = value.get("days")
    if calendar is not None and (not isinstance(calendar, int) or isinstance(calendar, bool)
                                 or not 1 <= calendar <= MAX_LIMIT_DAYS):
        reader.problem("time_limit.days",
                       f"应为 1 到 {MAX_LIMIT_DAYS} 的整数(自然日,指南写「30天」时用)")
        calendar = None
    if sum((bool(immediate), days is not None, calendar is not None)) > 1:
        reader.problem("time_limit", "immediate、working_days、days 只能写一个")
    if not immediate and days is None and calendar is None and not note:
        reader.problem("time_limit", "没有写时限:写 immediate: true、working_days、days,"
                                     "或写 note 说明")
    return TimeLimit(immediate, days, note, source, to_confirm, calendar)


def _case_type(reader: FileReader, *, required: bool) -> CaseType | None:
    text = reader.text("case_type", required=required)
    try:
        return CaseType(text) if text else None
    except ValueError:
        types = " / ".join(t.value for t in CaseType)
        reader.problem("case_type", f"应为 {types},现在是「{text}」")
        return None


def _choice(reader: FileReader, key: str, allowed: tuple[str, ...]) -> str:
    text = reader.text(key)
    if text and text not in allowed:
        reader.problem(key, f"应为 {' / '.join(allowed)} 之一,现在是「{text}」")
    return text


def parse_matter(file: str, data: object, problems: list[CatalogueProblem]) -> Matter | None:
    """Build one matter from a YAML mapping, appending every problem found to `problems`."""
    if not isinstance(data, dict):
        problems.append(CatalogueProblem(file, "", "文件内容应为一个事项(字段: 值)"))
        return None
    before = len(problems)
    reader = FileReader(file, data, problems)
    reader.unknown_keys(data, MATTER_KEYS, "")
    matter_id = reader.text("id")
    if matter_id and not ID_PATTERN.match(matter_id):
        reader.problem("id", "只能用小写英文字母、数字和下划线,且以字母开头")
    if matter_id and Path(file).stem != matter_id:
        reader.problem("id", f"应与文件名一致(文件名是 {Path(file).stem})")
    variants = reader.items("variants", _variant(reader), required=False)
    variant_question = reader.text("variant_question", required=bool(variants))
    seen_variants: set[str] = set()
    for index, variant in enumerate(variants):
        if variant.id in seen_variants:
            reader.problem(f"variants[{index + 1}].id", f"重复的情形编号 {variant.id}")
        seen_variants.add(variant.id)
    name = reader.text("name")
    aliases = reader.texts("aliases")
    keywords = reader.texts("keywords", required=False)
    department = reader.text("department")
    window = reader.text("window")
    group = _choice(reader, "group", GROUPS)
    handling = _choice(reader, "handling", tuple(h.value for h in Handling))
    # A matter the seeds only name (to_confirm) tells what is known and nothing invented.
    to_confirm = reader.flag("to_confirm")
    full = not to_confirm
    case_type = _case_type(reader, required=full)
    legal_basis = reader.text("legal_basis", required=False)
    conditions = reader.statements("conditions", required=full)
    materials = reader.items("materials", _material(reader), required=full)
    procedure = reader.statements("procedure", required=full)
    time_limit = _time_limit(reader, required=full)
    fee = reader.statement("fee", required=full)
    place = reader.statement("place", required=full)
    home_visit = reader.flag("home_visit")
    agent = reader.flag("agent")
    online = reader.flag("online")
    source = reader.text("source", required=False)
    if len(problems) > before:
        return None
    return Matter(
        id=matter_id, name=name, aliases=aliases, keywords=keywords, department=department,
        window=window, case_type=case_type, legal_basis=legal_basis, conditions=conditions,
        materials=materials, variants=variants, variant_question=variant_question,
        procedure=procedure, time_limit=time_limit, fee=fee, place=place, home_visit=home_visit,
        agent=agent, online=online, to_confirm=to_confirm, source=source, group=group,
        handling=Handling(handling),
    )


def load_catalogue(directory: Path, *, require_all: bool = True,
                   edits: Mapping[str, Mapping[str, Any]] | None = None) -> Catalogue:
    """Load every `*.yml` under `directory/matters` and the shared words of
    `directory/ambiguous.yml`; raise CatalogueError listing all problems.

    `edits`: per matter id, fields that replace the file's (an admin's edit in the console,
    bot/catalogue/revisions.py), checked exactly as if the file said them.

    Every service of a worker loads the catalogue at start (~70 ms each): unchanged files
    (same names, sizes and modification times) are parsed once and the (immutable) matters
    shared; an edited file is read again."""
    matter_dir = directory / "matters"
    files = sorted(matter_dir.glob("*.yml"))
    if not files:
        nothing = CatalogueProblem(str(matter_dir), "", "没有找到任何事项文件 (*.yml)")
        raise CatalogueError([nothing])
    ambiguous = directory / AMBIGUOUS_FILE
    stamp = tuple((str(path), info.st_mtime_ns, info.st_size)
                  for path in (*files, ambiguous) if path.exists() for info in (path.stat(),))
    frozen = tuple(sorted((matter_id, json.dumps(fields, ensure_ascii=False, sort_keys=True))
                          for matter_id, fields in (edits or {}).items()))
    parsed = _parse_catalogue(matter_dir, stamp, require_all, frozen)
    # the matters are shared, the mappings are the caller's: a worker's live catalogue is
    # refreshed in place (Catalogue.refresh) without touching the cached parse
    return Catalogue(dict(parsed.matters), dict(parsed.ambiguous))


AMBIGUOUS_FILE = "ambiguous.yml"


@functools.lru_cache(maxsize=8)
def _parse_catalogue(matter_dir: Path, stamp: tuple[tuple[str, int, int], ...],
                     require_all: bool, edits: tuple[tuple[str, str], ...] = ()) -> Catalogue:
    problems: list[CatalogueProblem] = []
    matters: dict[str, Matter] = {}
    edited = {matter_id: json.loads(fields) for matter_id, fields in edits}
    for path in (Path(name) for name, _, _ in stamp if Path(name).parent == matter_dir):
        shown = str(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and path.stem in edited:
                data = {**data, **edited[path.stem]}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"第{mark.line + 1}行" if mark is not None else ""
            problems.append(CatalogueProblem(shown, where, f"YAML 格式错误: {exc}"))
            continue
        except UnicodeDecodeError:
            problems.append(CatalogueProblem(shown, "", "文件不是 UTF-8 编码"))
            continue
        matter = parse_matter(shown, data, problems)
        if matter is None:
            continue
        if matter.id in matters:
            problems.append(CatalogueProblem(shown, "id", f"事项编号 {matter.id} 重复"))
            continue
        matters[matter.id] = matter
    ambiguous = _ambiguous_words(matter_dir.parent / AMBIGUOUS_FILE, matters, problems)
    if require_all and not problems:
        for missing in sorted(REQUIRED_MATTER_IDS - matters.keys()):
            problems.append(CatalogueProblem(str(matter_dir), missing, "缺少必备事项"))
    if problems:
        raise CatalogueError(problems)
    # A shared word is an alias of each matter it may mean: the resolver then finds them
    # tied, and the dialogue asks which one (「您问的是 1.… 2.…」).
    for word, ids in ambiguous.items():
        for matter_id in ids:
            matter = matters[matter_id]
            matters[matter_id] = dataclasses.replace(matter, aliases=(*matter.aliases, word))
    return Catalogue(matters, ambiguous)


def _ambiguous_words(file: Path, matters: dict[str, Matter],
                     problems: list[CatalogueProblem]) -> dict[str, tuple[str, ...]]:
    """catalogue/ambiguous.yml: `护理补贴: [disability_subsidies, disabled_elderly_care]`."""
    if not file.exists():
        return {}
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(CatalogueProblem(str(file), "", f"YAML 格式错误: {exc}"))
        return {}
    if not isinstance(data, dict):
        problems.append(CatalogueProblem(str(file), "", "应为 说法: [事项编号, 事项编号…]"))
        return {}
    own = {alias for matter in matters.values() for alias in matter.aliases}
    words: dict[str, tuple[str, ...]] = {}
    for word, ids in data.items():
        if not isinstance(ids, list) or len(ids) < 2 or not all(isinstance(i, str) for i in ids):
            problems.append(CatalogueProblem(str(file), str(word), "应列出至少两个事项编号"))
            continue
        if unknown := [i for i in ids if i not in matters]:
            problems.append(CatalogueProblem(str(file), str(word),
                                             f"没有这些事项: {', '.join(unknown)}"))
            continue
        if str(word) in own:
            problems.append(CatalogueProblem(str(file), str(word),
                                             "这个说法也写在了某个事项的 aliases 里,只留一处"))
            continue
        words[str(word)] = tuple(ids)
    return words

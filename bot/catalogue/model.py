"""Domain services stage: the matter catalogue (办事指南) as typed, immutable records.

A matter (事项) is one thing a villager can get done at the center. The records are built by
`bot.catalogue.loader` from the YAML files under `catalogue/matters/` that staff edit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class CaseType(StrEnum):
    """The case types of the seeds' service guides (六件管理)."""

    IMMEDIATE = "即办件"  # done on the spot or the same day
    PROMISED = "承诺件"  # needs review; a promised number of working days
    JOINT = "联办件"  # several windows or departments, one lead window
    REPORTED = "上报件"  # accepted here, decided by the county
    AGENT = "代办件"  # the center's agents carry it to the competent office


class Handling(StrEnum):
    """What this center does with a matter."""

    ACCEPT = "受理"  # accepted and done (or decided) here
    AGENT = "代办"  # the center or a village agent carries it to the competent office
    REFER_UP = "转报"  # accepted here, first review, reported up for the decision
    ADVICE = "咨询"  # not done here: advice and where to go


UNCONFIRMED = "待核实"  # said after a fact the center has still to confirm

# Groups a villager (and the figures) sort matters by: the department family.
GROUPS = ("公安", "民政", "人社", "医保", "卫健", "残联", "住建", "自然资源", "农业农村",
          "退役军人", "总工会", "公积金", "档案", "党群", "司法", "教育", "其他")


@dataclass(frozen=True, slots=True)
class Statement:
    """One stated fact (a condition, a step, the fee, the place) and where it comes from:
    `source` (seeds/NNN:line, or policy: a named later policy), or `to_confirm`."""

    text: str
    source: str = ""
    to_confirm: bool = False

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


class MaterialForm(StrEnum):
    ORIGINAL = "原件"
    COPY = "复印件"
    BOTH = "原件和复印件"


@dataclass(frozen=True, slots=True)
class Material:
    name: str
    form: MaterialForm
    count: int = 1
    note: str = ""
    source: str = ""
    to_confirm: bool = False

    def describe(self) -> str:
        """One line a villager can read: 「户口簿 原件和复印件各1份（复印件要清楚）」; an item
        the center has still to confirm says so."""
        if "照片" in self.name:  # photos are counted in sheets, never "copies"
            text = f"{self.name} {self.count}张"
        else:
            each = "各" if self.form is MaterialForm.BOTH else ""
            text = f"{self.name} {self.form.value}{each}{self.count}份"
        notes = [note for note in (self.note, UNCONFIRMED if self.to_confirm else "") if note]
        return f"{text}（{'；'.join(notes)}）" if notes else text


@dataclass(frozen=True, slots=True)
class Variant:
    """A situation that changes the materials (户口迁入 by reason, 出生登记 by parents)."""

    id: str
    name: str
    materials: tuple[Material, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """The promised time limit: 即办, N working days, or only a note (seasonal matters)."""

    immediate: bool = False
    working_days: int | None = None
    note: str = ""
    source: str = ""
    to_confirm: bool = False
    days: int | None = None  # calendar days, where the guide counts them so (「30天」)

    def __bool__(self) -> bool:
        return self.immediate or self.working_days is not None or self.days is not None \
            or bool(self.note)

    def describe(self) -> str:
        if self.immediate:
            head = "即办：材料齐全当场或当天办好"
        elif self.working_days is not None and self.note:  # the note says what is promised
            return f"{self.working_days}个工作日（不算周末和法定节假日）：{self.note}"
        elif self.working_days is not None:
            head = f"{self.working_days}个工作日内办结（不算周末和法定节假日）"
        elif self.days is not None:
            head = f"{self.days}天内办结（周末和节假日也算在内）"
        else:
            head = ""
        return "；".join(part for part in (head, self.note) if part)


@dataclass(frozen=True, slots=True)
class Matter:
    id: str
    name: str
    aliases: tuple[str, ...]
    department: str
    window: str
    case_type: CaseType | None  # None: not known yet (a matter the seeds only name)
    legal_basis: str
    conditions: tuple[Statement, ...]
    materials: tuple[Material, ...]
    procedure: tuple[Statement, ...]
    time_limit: TimeLimit
    fee: Statement
    place: Statement
    variants: tuple[Variant, ...] = ()
    variant_question: str = ""
    keywords: tuple[str, ...] = ()
    home_visit: bool = False
    agent: bool = False
    online: bool = False
    to_confirm: bool = False  # the seeds give no guide for it: no materials list is told
    source: str = ""
    group: str = "其他"
    handling: Handling = Handling.ACCEPT

    @property
    def short_name(self) -> str:
        """The name without its bracketed gloss: 「最低生活保障(低保)」 → 「最低生活保障」."""
        return self.name.split("(")[0]

    def surface_forms(self) -> tuple[str, ...]:
        """Every way of writing this matter that the NLU should recognise, name first."""
        forms = dict.fromkeys((self.name, self.short_name, *self.aliases))
        return tuple(forms)

    def variant(self, variant_id: str) -> Variant | None:
        return next((v for v in self.variants if v.id == variant_id), None)

    def materials_for(self, variant_id: str | None = None) -> tuple[Material, ...]:
        """The complete list for one situation (一次性告知): common items, then the variant's."""
        chosen = self.variant(variant_id) if variant_id else None
        return self.materials + (chosen.materials if chosen else ())


@dataclass(frozen=True)
class Catalogue:
    matters: Mapping[str, Matter] = field(default_factory=dict)
    # words that may mean several matters (catalogue/ambiguous.yml): word → matter ids
    ambiguous: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Matter]:
        return iter(self.matters.values())

    def __len__(self) -> int:
        return len(self.matters)

    def __contains__(self, matter_id: object) -> bool:
        return matter_id in self.matters

    def get(self, matter_id: str) -> Matter | None:
        return self.matters.get(matter_id)

    def refresh(self, newer: Catalogue) -> None:
        """Take `newer`'s matters in place: the one catalogue every part of a worker holds
        (dialogue, cases, console) shows an admin's edit without a restart. The loader builds
        these mappings as dicts; a matter is replaced whole, never changed half-way."""
        for mine, theirs in ((self.matters, newer.matters), (self.ambiguous, newer.ambiguous)):
            assert isinstance(mine, dict)
            mine.update(theirs)
            for gone in mine.keys() - theirs.keys():
                del mine[gone]

    def material_names(self) -> frozenset[str]:
        """Names that appear as materials anywhere: a matter alias equal to one is 'weak'."""
        names: set[str] = set()
        for matter in self:
            names.update(m.name for m in matter.materials)
            for variant in matter.variants:
                names.update(m.name for m in variant.materials)
        return frozenset(names)

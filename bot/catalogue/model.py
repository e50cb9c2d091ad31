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

    def describe(self) -> str:
        """One line a villager can read: 「户口簿 原件和复印件各1份（复印件要清楚）」."""
        if "照片" in self.name:  # photos are counted in sheets, never "copies"
            text = f"{self.name} {self.count}张"
        else:
            each = "各" if self.form is MaterialForm.BOTH else ""
            text = f"{self.name} {self.form.value}{each}{self.count}份"
        return f"{text}（{self.note}）" if self.note else text


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

    def describe(self) -> str:
        if self.immediate:
            head = "即办：材料齐全当场或当天办好"
        elif self.working_days is not None:
            head = f"{self.working_days}个工作日内办结（不算周末和法定节假日）"
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
    case_type: CaseType
    legal_basis: str
    conditions: tuple[str, ...]
    materials: tuple[Material, ...]
    procedure: tuple[str, ...]
    time_limit: TimeLimit
    fee: str
    place: str
    variants: tuple[Variant, ...] = ()
    variant_question: str = ""
    keywords: tuple[str, ...] = ()
    home_visit: bool = False
    agent: bool = False
    online: bool = False
    to_confirm: bool = False
    source: str = ""

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

    def __iter__(self) -> Iterator[Matter]:
        return iter(self.matters.values())

    def __len__(self) -> int:
        return len(self.matters)

    def __contains__(self, matter_id: object) -> bool:
        return matter_id in self.matters

    def get(self, matter_id: str) -> Matter | None:
        return self.matters.get(matter_id)

    def material_names(self) -> frozenset[str]:
        """Names that appear as materials anywhere: a matter alias equal to one is 'weak'."""
        names: set[str] = set()
        for matter in self:
            names.update(m.name for m in matter.materials)
            for variant in matter.variants:
                names.update(m.name for m in variant.materials)
        return frozenset(names)

"""Catalogue stage: reading the catalogue's YAML files with every problem collected and
named by file and field, instead of stopping at the first (bot catalog check lists them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue.model import (
    Statement,
)

# Where a fact comes from: a seed's lines (seeds/000:120 or seeds/000:120-125), or a named
# later policy (policy: 《…》(2021)).
SOURCE_PATTERN = re.compile(r"^(seeds/\d{3}:\d+(-\d+)?|policy:\s*\S.*)$")
SOURCED_KEYS = frozenset({"source", "to_confirm"})
STATEMENT_KEYS = frozenset({"text"}) | SOURCED_KEYS


@dataclass(frozen=True, slots=True)
class CatalogueProblem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


class CatalogueError(Exception):
    """The catalogue cannot be used; `problems` lists every error found."""

    def __init__(self, problems: list[CatalogueProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class FileReader:
    """Reads one matter file's mapping, recording problems instead of raising."""

    def __init__(self, file: str, data: dict[str, Any],
                 problems: list[CatalogueProblem]) -> None:
        self.file = file
        self.data = data
        self.problems = problems

    def problem(self, field: str, message: str) -> None:
        self.problems.append(CatalogueProblem(self.file, field, message))

    def text(self, key: str, *, required: bool = True, within: dict[str, Any] | None = None,
             path: str | None = None) -> str:
        source = self.data if within is None else within
        value = source.get(key)
        where = path or key
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(where, "必填,不能为空")
            return ""
        if not isinstance(value, str | int | float):
            self.problem(where, "应为一段文字")
            return ""
        return str(value).strip()

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            self.problem(key, "应为 true 或 false")
            return False
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, "必填,至少写一条")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(key, "应为文字列表(每行以 - 开头,不能有空行)")
            return ()
        return tuple(v.strip() for v in value)

    def items(self, key: str, build: Callable[[dict[str, Any], str], Any], *,
              required: bool = True, within: dict[str, Any] | None = None,
              path: str | None = None) -> tuple[Any, ...]:
        source = self.data if within is None else within
        where = path or key
        value = source.get(key)
        if value is None:
            if required:
                self.problem(where, "必填,至少写一项")
            return ()
        if not isinstance(value, list):
            self.problem(where, "应为列表")
            return ()
        built = []
        for index, item in enumerate(value):
            item_path = f"{where}[{index + 1}]"
            if not isinstance(item, dict):
                self.problem(item_path, "应为一项(名称: 值)")
                continue
            result = build(item, item_path)
            if result is not None:
                built.append(result)
        return tuple(built)

    def sourced(self, item: dict[str, Any], path: str) -> tuple[str, bool]:
        """A fact's `source` and `to_confirm` (at most one of them; lint finds neither)."""
        source = self.text("source", within=item, path=f"{path}.source", required=False)
        to_confirm = item.get("to_confirm", False)
        if not isinstance(to_confirm, bool):
            self.problem(f"{path}.to_confirm", "应为 true 或 false")
            to_confirm = False
        if source and not SOURCE_PATTERN.match(source):
            self.problem(f"{path}.source", "出处写成 seeds/000:行号(或 seeds/000:起-止),"
                                           f"或 policy: 政策名称;现在是「{source}」")
        if source and to_confirm:
            self.problem(path, "source 和 to_confirm 只能写一个")
        return source, to_confirm

    def statement(self, key: str, *, required: bool) -> Statement:
        """A fact given as text, or as {text, source | to_confirm}."""
        value = self.data.get(key)
        if isinstance(value, dict):
            self.unknown_keys(value, STATEMENT_KEYS, key)
            text = self.text("text", within=value, path=f"{key}.text")
            return Statement(text, *self.sourced(value, key))
        return Statement(self.text(key, required=required))

    def statements(self, key: str, *, required: bool) -> tuple[Statement, ...]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, "必填,至少写一条")
            return ()
        if not isinstance(value, list):
            self.problem(key, "应为列表(每行以 - 开头)")
            return ()
        found = []
        for index, item in enumerate(value):
            path = f"{key}[{index + 1}]"
            if isinstance(item, str) and item.strip():
                found.append(Statement(item.strip()))
            elif isinstance(item, dict):
                self.unknown_keys(item, STATEMENT_KEYS, path)
                text = self.text("text", within=item, path=f"{path}.text")
                found.append(Statement(text, *self.sourced(item, path)))
            else:
                self.problem(path, "应为一段文字,或 {text: …, source: …}")
        return tuple(found)

    def unknown_keys(self, item: dict[str, Any], allowed: frozenset[str], path: str) -> None:
        for key in item:
            if key not in allowed:
                prefix = f"{path}." if path else ""
                self.problem(f"{prefix}{key}", f"不认识的字段(可用: {', '.join(sorted(allowed))})")


def read_yaml(file: Path, missing: str) -> Any:
    """One catalogue file parsed; a missing file or broken YAML is a CatalogueError that
    names the file (`missing` says what the file is for)."""
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError([CatalogueProblem(str(file), "", missing)]) from None
    except yaml.YAMLError as exc:
        raise CatalogueError([CatalogueProblem(str(file), "", f"YAML 格式错误: {exc}")]) from None

"""Channel stage (staff): typed request bodies for the clerk API and the console's forms.

Every JSON body is read by `read_json`: a size cap, pydantic's parser (it refuses nesting
deeper than its recursion limit, so 5,000 brackets are a 400, not a crash), one model per
request with types and lengths. What is wrong is said in Chinese (`BadBody`, a 400 at each
edge); nothing unchecked reaches the services.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from aiohttp import web
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
)

from bot.cases.status import Status
from bot.notices.outbox import MODES

MAX_JSON_BYTES = 16 * 1024
MAX_ROW_ID = 2 ** 31 - 1  # ids are PostgreSQL integers: a larger one would be a 500
MAX_ITEMS = 30  # a list in a body: 「还差」 materials

NUL_REFUSED = "有空字符（\\0），请去掉后再发"


def _no_nul(text: str) -> str:
    """PostgreSQL keeps no NUL in text: refused here, it is a 400, not a 500 deep inside."""
    if "\x00" in text:
        raise ValueError(NUL_REFUSED)
    return text


NoNul = AfterValidator(_no_nul)
Short = Annotated[str, StringConstraints(max_length=40), NoNul]
Text = Annotated[str, StringConstraints(max_length=500), NoNul]
Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                 NoNul]

_WORDS = {
    "missing": "缺少这一项", "extra_forbidden": "不认识这一项", "list_type": "应为列表",
    "string_type": "应为文字", "bool_type": "应为 true 或 false", "enum": "取值不对",
    "literal_error": "取值不对", "string_too_long": "太长了", "string_too_short": "不能为空",
    "too_long": "项数太多", "model_type": "应为 JSON 对象", "dict_type": "应为 JSON 对象",
    "json_invalid": "不是合法的 JSON（或嵌套太深）", "json_type": "不是合法的 JSON",
}

M = TypeVar("M", bound=BaseModel)


class BadBody(Exception):
    """A request body that does not fit its model; the message says what, in Chinese."""


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseMove(Body):
    to: Status
    reason: Text = ""
    missing: Annotated[list[Item], Field(max_length=MAX_ITEMS)] = []
    result: Text | None = None


class StatusChange(Body):
    """A booking marked (arrived / no_show / done) or a home visit closed (done / cancelled);
    which moves are allowed is the services' rule."""

    to: Short


class VisitSchedule(Body):
    date: Short
    half: Literal["am", "pm"]
    agent: Short | None = None


class Preference(Body):
    key: Annotated[str, StringConstraints(min_length=1, max_length=128), NoNul]
    mode: Short | None = None
    opted_out: StrictBool | None = None

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, mode: str | None) -> str | None:
        if mode is not None and mode not in MODES:
            raise ValueError(f"应为 {' 或 '.join(sorted(MODES))}")
        return mode


class Reply(Body):
    text: Annotated[str, StringConstraints(max_length=2000), NoNul] = ""
    guide: Short = ""


def row_id(raw: str) -> int | None:
    """A row id from a path (a notice's, a handoff's); None when it cannot be one."""
    # Ten ASCII digits at most before int(): Python refuses to parse 4,300 digits.
    if not (len(raw) <= 10 and raw.isascii() and raw.isdecimal()):
        return None
    return int(raw) if 0 < int(raw) <= MAX_ROW_ID else None


def problem(error: ValidationError) -> str:
    """The first thing wrong, as 「missing：应为列表」."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    words = _WORDS.get(first["type"]) or str(first.get("ctx", {}).get("error", "格式不对"))
    return f"{where}：{words}" if where else words


def parse(model: type[M], data: dict[str, Any]) -> M:
    """A console form (or any dict) as `model`; BadBody if it does not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadBody(problem(error)) from None


async def read_json(request: web.Request, model: type[M]) -> M:
    """The request's JSON body as `model`; BadBody if too big, malformed or not fitting."""
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise BadBody("内容太长")
    raw = await request.read()
    if len(raw) > MAX_JSON_BYTES:
        raise BadBody("内容太长")
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise BadBody(problem(error)) from None

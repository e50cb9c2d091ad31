"""Dialogue stage: conversational flows, each a declared state machine.

One flow per module: its states as a StrEnum, a state → step table at the top, the
transition graph in the module docstring. A step is `async (ctx) -> Step`: it reads the
message and the flow's slots, and returns the replies, the next state (END to finish) and
the slots to update. Steps reach the world only through the services in the context, so
they test without Redis, WeChat or a database; the dialogue manager saves the state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.catalogue.model import Catalogue
from bot.messages import Incoming

END = "__end__"


@dataclass(frozen=True, slots=True)
class Step:
    replies: tuple[str, ...]
    next_state: str
    slots: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlowContext:
    message: Incoming
    slots: Mapping[str, Any]
    catalogue: Catalogue
    services: Any  # the flow's own services protocol (e.g. apply.ApplyServices)


StepFn = Callable[[FlowContext], Awaitable[Step]]

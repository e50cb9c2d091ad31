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
from typing import Any, Protocol

from bot.catalogue.model import Catalogue
from bot.messages import Incoming, Kind

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


class Flow(Protocol):
    """What a flow module declares (bot/flows/apply.py and the others are such modules):
    its name, the step of each state, and how the dialogue treats a message in it."""

    @property
    def FLOW_NAME(self) -> str: ...

    @property
    def STEPS(self) -> Mapping[str, StepFn]: ...

    def looks_like_answer(self, current: str, kind: Kind, text: str) -> bool:
        """Whether the message answers the question asked (else it is a side question)."""

    def prompt_again(self, current: str, slots: dict[str, Any], ctx: FlowContext) -> str:
        """The question to repeat after a side question."""

    def remaining(self, slots: dict[str, Any]) -> str:
        """「还差什么」: what is left to tell."""

    def step_back(self, current: str, slots: dict[str, Any]
                  ) -> tuple[str, dict[str, Any]] | None:
        """「上一步」: the state to ask again and the slots it clears; None where going back
        makes no sense (a word correcting the fact works everywhere)."""

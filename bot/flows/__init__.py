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
from typing import Any, Generic, Protocol, TypeVar

from bot.catalogue.model import Catalogue, Matter
from bot.messages import Incoming, Kind

END = "__end__"

# A flow's slots are the JSON the conversation state keeps in Redis (bot/dialogue/state.py).
Slots = Mapping[str, Any]
Services = TypeVar("Services", covariant=True)
FlowServices = TypeVar("FlowServices", contravariant=True)
StepServices = TypeVar("StepServices")


@dataclass(frozen=True, slots=True)
class Step:
    replies: tuple[str, ...]
    next_state: str
    slots: Slots = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FlowContext(Generic[Services]):
    """What a step reads: the message, the flow's slots, the catalogue and the flow's own
    services (apply.ApplyServices, booking.Appointments…)."""

    message: Incoming
    slots: Slots
    catalogue: Catalogue
    services: Services

    def matter(self) -> Matter:
        """The matter the flow is about: its `matter` slot, a catalogue id."""
        matter = self.catalogue.get(self.slots["matter"])
        assert matter is not None
        return matter


# A step: `async (ctx) -> Step`, e.g. StepFn[Appointments] for the booking flow's steps.
StepFn = Callable[[FlowContext[StepServices]], Awaitable[Step]]


class Flow(Protocol[FlowServices]):
    """What a flow module declares (bot/flows/apply.py and the others are such modules):
    its name, how it starts, the step of each state, and how the dialogue treats a message
    in it. Every flow starts the same way: `start(ctx)` with the message that asked for it
    and the opening slots (`matter`, `variant`, both may be None; `for_villager`, an agent
    applying for a villager)."""

    @property
    def FLOW_NAME(self) -> str: ...

    @property
    def STEPS(self) -> Mapping[str, StepFn[FlowServices]]: ...

    async def start(self, ctx: FlowContext[FlowServices]) -> Step:
        """The first step, taking whatever the message that asked for the flow says."""

    def looks_like_answer(self, current: str, kind: Kind, text: str) -> bool:
        """Whether the message answers the question asked (else it is a side question)."""

    def prompt_again(self, current: str, ctx: FlowContext[FlowServices]) -> str:
        """The question to repeat after a side question."""

    def remaining(self, slots: Slots) -> str:
        """「还差什么」: what is left to tell."""

    def step_back(self, current: str, slots: Slots) -> tuple[str, dict[str, Any]] | None:
        """「上一步」: the state to ask again and the slots it clears; None where going back
        makes no sense (a word correcting the fact works everywhere)."""


@dataclass(frozen=True, slots=True)
class BoundFlow(Generic[Services]):
    """A flow with the services its steps use: what the dialogue keeps by flow name."""

    flow: Flow[Services]
    services: Services

    def context(self, message: Incoming, slots: Slots, catalogue: Catalogue
                ) -> FlowContext[Services]:
        return FlowContext(message, slots, catalogue, self.services)

    async def start(self, message: Incoming, opening: Slots, catalogue: Catalogue) -> Step:
        return await self.flow.start(self.context(message, opening, catalogue))

    async def step(self, state: str, message: Incoming, slots: Slots,
                   catalogue: Catalogue) -> Step:
        return await self.flow.STEPS[state](self.context(message, slots, catalogue))

    def prompt_again(self, state: str, message: Incoming, slots: Slots,
                     catalogue: Catalogue) -> str:
        return self.flow.prompt_again(state, self.context(message, slots, catalogue))

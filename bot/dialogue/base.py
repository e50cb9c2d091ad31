"""Dialogue stage: the base of the dialogue's parts (bot/dialogue/manager.py routes to them):
its collaborators, paging, the pending choice and 「办哪件事？」 with its numbered topics.
"""

from __future__ import annotations

from bot import chinatime
from bot.cases.application import MediaRefused
from bot.catalogue.center import Center
from bot.catalogue.menu import NO_MENU, Menu
from bot.catalogue.model import Catalogue
from bot.catalogue.outside import OutsideTopic
from bot.catalogue.topics import NO_TOPICS, PAGE, Topics
from bot.dialogue.registry import RunningFlow, bound_flows
from bot.dialogue.services import (
    AgentDesk,
    CaseLookup,
    HandoffDesk,
    Intake,
    Preferences,
    ReviewDesk,
    Voice,
)
from bot.dialogue.state import ConversationState, StateStore
from bot.dialogue.words import KEPT_MEDIA, paginate
from bot.flows import booking as booking_flow
from bot.intents import Intent, texts
from bot.messages import Incoming, Kind
from bot.nlu.understand import NluResult, Understanding
from bot.review.service import ReviewReason
from bot.security.lockout import Lockout

NEXT_PAGE_CHOICE = "page:"  # a choice that turns a topic's page: page:<topic>:<page>


class DialogueBase:
    """The collaborators every part of the dialogue uses, and the small helpers they share."""

    def __init__(self, understanding: Understanding, store: StateStore, catalogue: Catalogue,
                 center: Center, *, intake: Intake | None = None,
                 cases: CaseLookup | None = None,
                 appointments: booking_flow.Appointments | None = None,
                 preferences: Preferences | None = None,
                 handoffs: HandoffDesk | None = None,
                 receipt_guesses: Lockout | None = None,
                 outside: tuple[OutsideTopic, ...] = (),
                 review: ReviewDesk | None = None,
                 menu: Menu = NO_MENU,
                 voice: Voice | None = None,
                 topics: Topics = NO_TOPICS,
                 agents: AgentDesk | None = None,
                 agent_codes: Lockout | None = None,
                 clock: chinatime.Clock = chinatime.now) -> None:
        self._understanding = understanding
        self._store = store
        self._catalogue = catalogue
        self._center = center
        self._intake = intake
        self._cases = cases
        self._appointments = appointments
        self._flows: dict[str, RunningFlow] = bound_flows(intake, appointments)
        self._preferences = preferences
        self._handoffs = handoffs
        self._receipt_guesses = receipt_guesses  # without it, no lookups by receipt number
        self._outside = outside  # topics not handled here (catalogue/outside.yml)
        self._review = review  # where questions the bot did not answer are noted
        self._menu = menu  # the official account's bottom menu (catalogue/menu.yml)
        self._voice = voice  # None: no speech synthesis configured, nothing read aloud
        self._topics = topics  # what a matter is picked from by number (catalogue/topics.yml)
        self._agents = agents  # registered village agents (bot/agents); None: none here
        self._agent_codes = agent_codes  # tries at their binding codes
        self._clock = clock

    async def _keep_media(self, message: Incoming) -> int | None:
        """A photo or voice message kept as it arrives (WeChat keeps media three days), so
        a clerk can open it from the transcript; None where it could not be. A flow that
        wants the photo reports what went wrong itself."""
        if self._intake is None or message.kind not in KEPT_MEDIA or not message.media_id:
            return None
        try:
            return await self._intake.keep_media(message.media_id,
                                                 voice=message.kind is Kind.VOICE)
        except MediaRefused:
            return None

    async def _on_understood(self, message: Incoming, result: NluResult,
                             state: ConversationState) -> list[str]:
        """Answer what the NLU understood (bot/dialogue/manager.py); side questions in a flow
        are answered through it."""
        raise NotImplementedError

    def _not_understood(self, state: ConversationState) -> list[str]:
        state.misunderstood += 1
        state.outcome = ReviewReason.NOT_UNDERSTOOD
        if state.misunderstood >= 2:
            return [texts.NOT_UNDERSTOOD_AGAIN.format(phone=self._center.phone)]
        return [texts.NOT_UNDERSTOOD]

    def _ask_which_matter(self, intent: Intent, question: str,
                          state: ConversationState) -> list[str]:
        """「办哪件事？」: answered by the matter's name, or picked by number from the topics
        (then from the topic's matters), so that digits alone reach any matter."""
        self._clear_pending(state)
        state.awaiting, state.pending_intent = "matter", intent.value
        if not self._topics.topics:
            return [question]
        state.awaiting = "topic"
        state.choices = [str(n) for n in range(1, len(self._topics.topics) + 1)]
        options = "\n".join(f"{n}. {t.name}" for n, t in enumerate(self._topics.topics, 1))
        return [f"{question}\n{texts.OR_PICK_TOPIC}\n{options}"]

    def _topic_page(self, number: int, page: int, state: ConversationState) -> list[str]:
        """One page of a topic's matters by number; the last number turns the page."""
        matters = self._topics.matters_of(number, self._catalogue)
        shown = matters[page * PAGE:(page + 1) * PAGE]
        state.awaiting, state.choices = "matter", [m.id for m in shown]
        lines = [f"{n}. {m.short_name}" for n, m in enumerate(shown, 1)]
        if len(matters) > (page + 1) * PAGE:
            state.choices.append(f"{NEXT_PAGE_CHOICE}{number}:{page + 1}")
            lines.append(f"{len(state.choices)}. {texts.NEXT_PAGE}")
        name = self._topics.topics[number - 1].name
        return ["\n".join([f"【{name}】", *lines, texts.REPLY_WITH_NUMBER])]

    def _pages(self, text: str, state: ConversationState) -> list[str]:
        first, *rest = paginate(text)
        state.more_pages = rest
        return [f"{first}\n{texts.MORE_FOLLOWS}" if rest else first]

    def _next_page(self, state: ConversationState) -> list[str]:
        page, *rest = state.more_pages
        state.more_pages = rest
        return [f"{page}\n{texts.MORE_FOLLOWS}" if rest else page]

    @staticmethod
    def _clear_pending(state: ConversationState) -> None:
        state.awaiting, state.choices, state.pending_intent = None, [], None
        state.more_pages, state.for_villager = [], False

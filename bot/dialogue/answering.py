"""Dialogue stage: questions about a matter answered from the service guide — several in one
message in turn, follow-ups keeping the matter, numbered choices of matter, situation and
question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.catalogue.model import Matter
from bot.dialogue.base import NEXT_PAGE_CHOICE
from bot.dialogue.flowing import FlowHandling
from bot.dialogue.state import ANSWERED, ConversationState
from bot.dialogue.words import ASK_CONFIDENCE, MATTER_CHOICE_INTENTS, QUESTION_INTENTS
from bot.intents import Intent, guide, texts
from bot.messages import Incoming
from bot.nlu.understand import NluResult
from bot.review.service import ReviewReason


class QuestionHandling(FlowHandling):
    """Questions answered from the catalogue."""

    def _asks(self, result: NluResult, intent: Intent,
              matter_id: str | None) -> list[tuple[Intent, Matter]]:
        """The guide questions of a message that asks several, in its order, each with its
        matter: the one it names, else the message's."""
        asks: list[tuple[Intent, Matter]] = []
        for ask in result.asks:
            matter = self._catalogue.get(ask.matter or matter_id or "")
            if ask.intent in guide.ANSWERS and ask.confidence >= ASK_CONFIDENCE \
                    and matter is not None and (Intent(ask.intent), matter) not in asks:
                asks.append((Intent(ask.intent), matter))
        main = self._catalogue.get(matter_id or "")
        if asks and main is not None and (intent, main) not in asks:
            asks.insert(0, (intent, main))  # the message as a whole asks this first
        return asks

    def _answers(self, asks: list[tuple[Intent, Matter]],
                 state: ConversationState) -> list[str]:
        """Several questions answered in one reply. The one that needs the situation first
        (materials that differ by it) comes last, so the reply ends with that question."""
        last = next((ask for ask in asks if self._needs_variant(*ask, state)), asks[-1])
        before = [guide.answer(intent, matter, state.variant if matter.id == state.matter
                               else None, self._center)
                  for intent, matter in asks if (intent, matter) != last]
        return self._answer(*last, state, before=before)

    @staticmethod
    def _needs_variant(intent: Intent, matter: Matter, state: ConversationState) -> bool:
        """The materials differ by situation and the villager has not said theirs."""
        known = state.variant if state.matter == matter.id else None
        return intent is Intent.ASK_MATERIALS and known is None \
            and any(v.materials for v in matter.variants)

    def _not_about_it(self, intent: Intent | None, matter_id: str) -> bool:
        """The intent cannot be what a message naming this matter wants: 「答不了」 for a
        matter of the catalogue, or 「办到哪了」 for one no case can be filed for here and
        with no time limit to tell (the seeds only name it): 查档案, 查公积金 are questions
        about the matter."""
        matter = self._catalogue.get(matter_id)
        return matter is not None and (intent is Intent.OUT_OF_SCOPE or (
            intent is Intent.CHECK_PROGRESS and matter.case_type is None
            and not matter.time_limit))

    @staticmethod
    def _followup_intent(state: ConversationState) -> Intent | None:
        """The question a bare matter name answers: the pending one, else the last asked."""
        chosen = state.pending_intent or state.last_intent
        return Intent(chosen) if chosen else None

    async def _question(self, intent: Intent, matter_id: str | None,
                        state: ConversationState, message: Incoming) -> list[str]:
        """Answer a question about a matter (or start applying for it), asking which first."""
        if matter_id is None:
            return self._ask_which_matter(intent, texts.ASK_WHICH_MATTER, state)
        matter = self._catalogue.get(matter_id)
        if matter is None:
            return self._not_understood(state)
        # a flow started from a numbered choice: the number is no fact for its form
        chosen = replace(message, text="")
        if intent is Intent.APPLY:
            return await self._start_apply(matter, chosen, state)
        if intent is Intent.CHECK_PROGRESS and self._cases is not None:
            return await self._progress(message.user_id, matter, state)
        if intent is Intent.BOOK_APPOINTMENT:
            if self._appointments is None:
                return [texts.BOOKING_NOT_YET.format(phone=self._center.phone,
                                                     hours=self._center.hours.weekdays)]
            return await self._start_booking(matter, chosen, state)
        return self._answer(intent, matter, state)

    def _answer(self, intent: Intent, matter: Matter, state: ConversationState,
                before: Sequence[str] = ()) -> list[str]:
        """The answer, after the answers `before` it to other questions of the message."""
        # The situation is asked only where it changes a list the guide gives.
        needs_variant = self._needs_variant(intent, matter, state)
        if state.matter != matter.id:
            state.variant = None
        self._clear_pending(state)
        state.matter, state.last_intent = matter.id, intent.value
        if needs_variant:
            state.awaiting, state.pending_intent = "variant", intent.value
            state.choices = [v.id for v in matter.variants]
            options = "\n".join(f"{n}. {v.name}" for n, v in enumerate(matter.variants, 1))
            return self._pages("\n\n".join([
                *before, f"【{matter.name}】要带的材料看情况。{matter.variant_question}\n"
                         f"{options}\n{texts.REPLY_WITH_NUMBER}"]), state)
        text = "\n\n".join([*before, guide.answer(intent, matter, state.variant, self._center)])
        state.outcome = ANSWERED
        state.awaiting, state.choices = "menu", [i.value for i in guide.MENU_INTENTS]
        return self._pages(f"{text}\n{texts.MATTER_MENU.format(name=matter.short_name)}", state)

    def _matter_menu(self, matter_id: str, state: ConversationState) -> list[str]:
        matter = self._catalogue.get(matter_id)
        if matter is None:
            return self._not_understood(state)
        if state.matter != matter_id:
            state.variant = None
        self._clear_pending(state)
        state.matter = matter_id
        state.awaiting, state.choices = "menu", [i.value for i in guide.MENU_INTENTS]
        state.outcome = ReviewReason.BARE_MENU
        return [texts.MATTER_MENU.format(name=matter.short_name)]

    def _ask_matter_choice(self, result: NluResult, intent: Intent | None,
                           state: ConversationState) -> list[str]:
        self._clear_pending(state)
        pending = intent if intent in QUESTION_INTENTS or intent in MATTER_CHOICE_INTENTS \
            else None
        state.awaiting, state.choices = "matter", [c.matter for c in result.candidates]
        state.outcome = ReviewReason.CHOICES
        state.pending_intent = (pending or Intent(state.last_intent or Intent.ASK_MATERIALS)).value
        options = "\n".join(
            f"{n}. {matter.name}" for n, c in enumerate(result.candidates, 1)
            if (matter := self._catalogue.get(c.matter)) is not None
        )
        if len(state.choices) == 1:
            return [f"{texts.CONFIRM_MATTER}\n{options}\n{texts.CONFIRM_OR_REPHRASE}"]
        return [f"{texts.CHOOSE_MATTER}\n{options}\n{texts.REPLY_WITH_NUMBER}"]

    async def _on_choice(self, number: int, state: ConversationState,
                         message: Incoming) -> list[str]:
        if not 1 <= number <= len(state.choices):
            return [texts.NO_SUCH_CHOICE]
        choice, awaiting = state.choices[number - 1], state.awaiting
        pending = Intent(state.pending_intent or Intent.ASK_MATERIALS)
        if awaiting == "topic":
            return self._topic_page(int(choice), 0, state)
        if awaiting == "matter" and choice.startswith(NEXT_PAGE_CHOICE):
            topic, page = choice.removeprefix(NEXT_PAGE_CHOICE).split(":")
            return self._topic_page(int(topic), int(page), state)
        if awaiting == "matter":
            return await self._question(pending, choice, state, message)
        if awaiting == "variant" and state.matter:
            state.variant = choice
            return await self._question(pending, state.matter, state, message)
        return await self._question(Intent(choice), state.matter, state, message)  # menu

    def _variant_named(self, text: str, state: ConversationState) -> int | None:
        matter = self._catalogue.get(state.matter or "")
        if matter is None:
            return None
        for number, variant in enumerate(matter.variants, start=1):
            if variant.name in text or (len(text) >= 2 and text in variant.name):
                return number
        return None

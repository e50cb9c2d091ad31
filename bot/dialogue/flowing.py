"""Dialogue stage: the flows (apply, 补正, booking, home visit) — starting one, a step, its
global commands (算了, 还差什么), and side questions answered in the middle.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot import chinatime
from bot.appointments.bookings import BookingError
from bot.appointments.when import understand_when
from bot.cases.application import CaseError
from bot.catalogue.model import Catalogue, Matter
from bot.dialogue.progress import ProgressHandling
from bot.dialogue.state import ConversationState
from bot.dialogue.words import BACK_WORDS, CANCEL_WORDS, MISSING_WORDS
from bot.flows import END, Step, booking_texts
from bot.flows import apply as apply_flow
from bot.flows import booking as booking_flow
from bot.flows import booking_changes as booking_changes_flow
from bot.flows import home_visit as home_visit_flow
from bot.flows.choice import choice_number
from bot.flows.facts import SURNAMES, looks_like_name
from bot.intents import Intent, guide, texts
from bot.messages import Incoming, Kind

QUIT_ASKED = "quit_flow"  # state.awaiting while 「确定不申请了吗？」 waits for its answer
HEARD_ASKED = "heard"  # state.awaiting while 「您说的是…吗？」 waits for its answer
_LONG_NUMBER = re.compile(r"\d{6,}")
HEARD_YES = frozenset({"对", "对的", "对了", "是", "是的", "没错", "正确", "对对", "嗯", "嗯对"})
HEARD_NO = frozenset({"不对", "错了", "不是", "说错了", "听错了", "不正确"})


def worth_hearing_back(text: str, catalogue: Catalogue) -> bool:
    """Words heard in a voice message that are said back before a flow uses them: a number
    of six digits or more (ID, phone), or a name (a surname first); never a numbered
    choice, a day or time (「明天下午」) or a matter (「高龄补贴」): those go on as said."""
    text = text.strip()
    if choice_number(text) is not None:
        return False
    if _LONG_NUMBER.search(text.replace(" ", "")):
        return True
    return looks_like_name(text) and text[0] in SURNAMES \
        and understand_when(text, chinatime.today(), 3650) is None \
        and not any(text in matter.surface_forms() for matter in catalogue)


class FlowHandling(ProgressHandling):
    """Flows started, stepped through and left (the flows by name: bot/dialogue/registry.py)."""

    async def _begin(self, name: str, message: Incoming, state: ConversationState,
                     matter: Matter | None = None, for_villager: bool = False) -> list[str]:
        """Start flow `name` with the message that asked for it, about `matter` if known
        (`for_villager`: an agent applying for a villager)."""
        opening = {"matter": matter.id if matter else None,
                   "variant": state.variant if matter and matter.variant(state.variant or "")
                   else None, "for_villager": for_villager}
        step = await self._flows[name].start(message, opening, self._catalogue)
        return self._enter(state, step, name)

    @staticmethod
    def _enter(state: ConversationState, step: Step, name: str) -> list[str]:
        if step.next_state != END:
            state.flow, state.flow_state, state.slots = name, step.next_state, dict(step.slots)
        return list(step.replies)

    @staticmethod
    def _heard_back(message: Incoming, command: str, state: ConversationState,
                    catalogue: Catalogue) -> tuple[Incoming, str, list[str]]:
        """A name or a number heard by speech recognition is said back before a flow uses
        it (a wrong digit of an ID number costs the villager a trip): the message the flow
        gets, or what to say instead."""
        if state.awaiting == HEARD_ASKED:  # 「您说的是…吗？」 answered
            heard, state.heard, state.awaiting = state.heard or "", None, None
            answer = choice_number(command)
            said = command.rstrip("，,。!！ ")
            if answer == 2 or said in HEARD_NO:
                return message, command, [texts.HEARD_WRONG]
            if answer == 1 or said in HEARD_YES:  # the flow gets the words as if typed
                return replace(message, kind=Kind.TEXT, text=heard), heard.strip(), []
        elif message.kind is Kind.VOICE and worth_hearing_back(command, catalogue):
            state.heard, state.awaiting = message.text, HEARD_ASKED
            return message, command, [texts.HEARD_CHECK.format(heard=message.text.strip())]
        return message, command, []

    async def _in_flow(self, message: Incoming, command: str,
                       state: ConversationState) -> list[str]:
        """The flow's global commands (算了, 还差什么), its answers, and side questions."""
        if state.flow == booking_flow.FLOW_NAME and \
                str(state.flow_state) in set(booking_changes_flow.ChangeState):
            state.flow = booking_changes_flow.FLOW_NAME  # saved before it was a flow of its own
        running = self._flows.get(str(state.flow))
        if running is None or str(state.flow_state) not in running.flow.STEPS:
            state.flow, state.flow_state, state.slots = None, None, {}
            return [texts.FLOW_INTERRUPTED]  # a flow no longer offered here: nothing was done
        flow = running.flow
        message, command, said_back = self._heard_back(message, command, state,
                                                       self._catalogue)
        if said_back:
            return said_back
        if state.awaiting == QUIT_ASKED:  # 「确定不申请了吗？」 answered
            state.awaiting = None
            if choice_number(command) == 1:
                return self._leave_flow(state)
            return [f"{texts.APPLY_GOES_ON}{self._where_we_were(message, state)}"]
        if command in CANCEL_WORDS:
            if state.flow == apply_flow.FLOW_NAME and apply_flow.has_answers(state.slots):
                state.awaiting = QUIT_ASKED  # what was typed is not thrown away on one word
                return [texts.SURE_TO_QUIT_APPLY]
            return self._leave_flow(state)
        if command in BACK_WORDS:
            back = flow.step_back(str(state.flow_state), state.slots)
            if back is None:
                return [texts.NO_STEP_BACK]
            state.flow_state = back[0]
            state.slots.update(back[1])
            return [f"{texts.STEP_BACK}{self._where_we_were(message, state)}"]
        if command in MISSING_WORDS:
            return [flow.remaining(state.slots)]
        flow_state = str(state.flow_state)
        if flow.looks_like_answer(flow_state, message.kind, message.text):
            return await self._flow_step(message, state)
        return await self._side_question(message, state, flow_state)

    async def _start_apply(self, matter: Matter, message: Incoming,
                           state: ConversationState) -> list[str]:
        """The apply flow, taking what the message that asked for it says already."""
        for_villager = state.for_villager
        self._clear_pending(state)
        state.matter = matter.id
        if apply_flow.FLOW_NAME not in self._flows:  # no case storage here
            state.awaiting, state.choices = "menu", [i.value for i in guide.MENU_INTENTS]
            return [texts.APPLY_NOT_YET.format(name=matter.short_name, place=matter.place)]
        return await self._begin(apply_flow.FLOW_NAME, message, state, matter, for_villager)

    async def _flow_step(self, message: Incoming, state: ConversationState) -> list[str]:
        running = self._flows[str(state.flow)]
        try:
            step = await running.step(str(state.flow_state), message, state.slots,
                                      self._catalogue)
        except (CaseError, BookingError) as refused:  # refused: say why, stay put
            return [str(refused)]
        state.slots.update(step.slots)
        if step.next_state == END:
            state.flow, state.flow_state, state.slots = None, None, {}
        else:
            state.flow_state = step.next_state
        return list(step.replies)

    async def _side_question(self, message: Incoming, state: ConversationState,
                             flow_state: str) -> list[str]:
        """Answer a question asked in the middle of applying, then repeat where we were."""
        if choice_number(message.text) is not None:  # a number where words are asked
            return [f"{texts.NO_CHOICE_IN_FLOW}{self._where_we_were(message, state)}"]
        result = await self._understanding.understand(message.text)
        flow, flow_slots = (state.flow, state.flow_state), dict(state.slots)
        state.flow = None  # answer as outside the flow, then put the flow back
        if not result.skipped:  # a question too, for the containment figure
            await self._store.count_question(message.received_at)
        answer = [] if result.skipped else await self._on_understood(message, result, state)
        state.flow, state.flow_state = flow
        if state.flow is None:
            return answer
        state.slots = flow_slots
        self._clear_pending(state)
        return [*answer, f"{texts.APPLY_RESUME}{self._where_we_were(message, state)}"]

    def _where_we_were(self, message: Incoming, state: ConversationState) -> str:
        """The flow's question again, after a side question or 「算了」 taken back."""
        return self._flows[str(state.flow)].prompt_again(str(state.flow_state), message,
                                                         state.slots, self._catalogue)

    @staticmethod
    def _leave_flow(state: ConversationState) -> list[str]:
        """「算了」: the flow left. Leaving a change of booking changes nothing, and says so
        (「取消」 there is no cancelled booking)."""
        left = {apply_flow.FLOW_NAME: texts.APPLY_CANCELLED,
                booking_changes_flow.FLOW_NAME: texts.BOOKING_UNCHANGED}
        said = left.get(str(state.flow), texts.CANCELLED)
        state.flow, state.flow_state, state.slots = None, None, {}
        return [said]

    async def _appointment_intent(self, intent: Intent, message: Incoming,
                                  matter: Matter | None, state: ConversationState) -> list[str]:
        if intent is Intent.CANCEL_APPOINTMENT:
            return await self._begin(booking_changes_flow.FLOW_NAME, message, state)
        if intent is Intent.BOOK_HOME_VISIT:
            return await self._begin(home_visit_flow.FLOW_NAME, message, state, matter)
        if matter is None:
            return self._ask_which_matter(intent, texts.ASK_WHICH_MATTER_TO_BOOK, state)
        return await self._start_booking(matter, message, state)

    async def _start_booking(self, matter: Matter, message: Incoming,
                             state: ConversationState) -> list[str]:
        self._clear_pending(state)
        state.matter = matter.id
        return await self._begin(booking_flow.FLOW_NAME, message, state, matter)

    async def _my_bookings(self, message: Incoming) -> list[str]:
        assert self._appointments is not None
        items = await booking_changes_flow.listing(self._appointments, message.user_id,
                                                   self._catalogue)
        if not items:
            return [booking_texts.NONE_BOOKED]
        return [f"您的预约：\n{booking_changes_flow.numbered(items)}\n"
                f"{texts.CHANGE_BOOKING_HINT}"]

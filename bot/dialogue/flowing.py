"""Dialogue stage: the flows (apply, 补正, booking, home visit) — starting one, a step, its
global commands (算了, 还差什么), and side questions answered in the middle.
"""

from __future__ import annotations

from typing import Any

from bot.appointments.bookings import BookingError
from bot.cases.application import CaseError
from bot.catalogue.model import Matter
from bot.dialogue.progress import ProgressHandling
from bot.dialogue.state import ConversationState
from bot.dialogue.words import BACK_WORDS, CANCEL_WORDS, MISSING_WORDS
from bot.flows import END, Flow, FlowContext, booking_texts
from bot.flows import apply as apply_flow
from bot.flows import booking as booking_flow
from bot.flows import home_visit as home_visit_flow
from bot.flows import supplement as supplement_flow
from bot.flows.choice import choice_number
from bot.intents import Intent, guide, texts
from bot.messages import Incoming

QUIT_ASKED = "quit_flow"  # state.awaiting while 「确定不申请了吗？」 waits for its answer
# The flows, by name: each module is a Flow (bot/flows/__init__.py).
FLOWS: dict[str, Flow] = {apply_flow.FLOW_NAME: apply_flow,
                          supplement_flow.FLOW_NAME: supplement_flow,
                          booking_flow.FLOW_NAME: booking_flow,
                          home_visit_flow.FLOW_NAME: home_visit_flow}
CASE_FLOWS = frozenset({apply_flow.FLOW_NAME, supplement_flow.FLOW_NAME})


class FlowHandling(ProgressHandling):
    """Flows started, stepped through and left."""

    def _services(self, flow: str) -> Any:
        return self._intake if flow in CASE_FLOWS else self._appointments

    async def _in_flow(self, message: Incoming, command: str,
                       state: ConversationState) -> list[str]:
        """The flow's global commands (算了, 还差什么), its answers, and side questions."""
        flow = FLOWS[str(state.flow)]
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

    async def _start_apply(self, matter: Matter, state: ConversationState,
                           said: str = "") -> list[str]:
        """The apply flow, taking what the message that asked for it `said` already."""
        self._clear_pending(state)
        state.matter = matter.id
        if self._intake is None:  # no case storage here
            state.awaiting, state.choices = "menu", [i.value for i in guide.MENU_INTENTS]
            return [texts.APPLY_NOT_YET.format(name=matter.short_name, place=matter.place)]
        variant = state.variant if matter.variant(state.variant or "") else None
        return await self._start_flow(state, apply_flow.start(matter, variant, said),
                                      apply_flow.FLOW_NAME)

    async def _flow_step(self, message: Incoming, state: ConversationState) -> list[str]:
        step_fn = FLOWS[str(state.flow)].STEPS[str(state.flow_state)]
        context = FlowContext(message, state.slots, self._catalogue,
                              self._services(str(state.flow)))
        try:
            step = await step_fn(context)
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
        result = await self._understanding.understand(message.text)
        flow, flow_slots = (state.flow, state.flow_state), dict(state.slots)
        state.flow = None  # answer as outside the flow, then put the flow back
        answer = [] if result.skipped else await self._on_understood(message, result, state)
        state.flow, state.flow_state = flow
        if state.flow is None:
            return answer
        state.slots = flow_slots
        self._clear_pending(state)
        return [*answer, f"{texts.APPLY_RESUME}{self._where_we_were(message, state)}"]

    def _where_we_were(self, message: Incoming, state: ConversationState) -> str:
        """The flow's question again, after a side question or 「算了」 taken back."""
        flow = str(state.flow)
        context = FlowContext(message, state.slots, self._catalogue, self._services(flow))
        return FLOWS[flow].prompt_again(str(state.flow_state), state.slots, context)

    @staticmethod
    def _leave_flow(state: ConversationState) -> list[str]:
        applying = state.flow == apply_flow.FLOW_NAME
        state.flow, state.flow_state, state.slots = None, None, {}
        return [texts.APPLY_CANCELLED if applying else texts.CANCELLED]

    async def _appointment_intent(self, intent: Intent, message: Incoming,
                                  matter: Matter | None, state: ConversationState) -> list[str]:
        assert self._appointments is not None
        if intent is Intent.CANCEL_APPOINTMENT:
            return await self._start_flow(state, await booking_flow.start_manage(
                self._appointments, message.user_id, self._catalogue), booking_flow.FLOW_NAME)
        if intent is Intent.BOOK_HOME_VISIT:
            context = FlowContext(message, {}, self._catalogue, self._appointments)
            return await self._start_flow(state, await home_visit_flow.start(
                context, matter.id if matter else None), home_visit_flow.FLOW_NAME)
        if matter is None:
            self._clear_pending(state)
            state.awaiting, state.pending_intent = "matter", intent.value
            return [texts.ASK_WHICH_MATTER_TO_BOOK]
        return await self._start_booking(matter, message.text, state, message.user_id)

    async def _start_booking(self, matter: Matter, text: str, state: ConversationState,
                             user_id: str) -> list[str]:
        assert self._appointments is not None
        self._clear_pending(state)
        state.matter = matter.id
        return await self._start_flow(state, await booking_flow.start(
            self._appointments, matter, text, state.variant, user_id), booking_flow.FLOW_NAME)

    async def _my_bookings(self, message: Incoming) -> list[str]:
        assert self._appointments is not None
        items = await booking_flow.listing(self._appointments, message.user_id,
                                           self._catalogue)
        if not items:
            return [booking_texts.NONE_BOOKED]
        return [f"您的预约：\n{booking_flow.numbered(items)}\n{texts.CHANGE_BOOKING_HINT}"]

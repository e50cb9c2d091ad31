"""Dialogue stage: one normalized message in, the bot's replies out — an ordered router.

    message ─→ 念给我听 / 以后都用语音 (aloud.py) ─→ event ─→ a handoff under way ─→ not
      text (voice not recognised, photo, place, link) ─→ a flow under way ─→ an agent's
      words (绑定, 代办: agents.py) ─→ fixed words (补交, 退订, 我的预约) ─→ a receipt
      number ─→ 算了 / 继续 ─→ a pending numbered choice ─→ the NLU: questions answered
      from the catalogue, other intents (hours, handoff, complaint, apply, booking,
      progress…)

Each part is `(message, state) → replies | None`; the first that answers wins. The parts
live by concern: handoffs.py (转人工), progress.py (办到哪了), flowing.py (the flows and side
questions), answering.py (the service guide), on base.py (collaborators, paging); the fixed
words are in words.py and what the dialogue needs of the domain in services.py.

State (the matter being talked about, a pending choice, the rest of a long answer) lives in
Redis per user; the store's lock makes one user's messages go through here in order.
Follow-ups keep the matter (「低保要带啥」 then 「要多久」), 「那五保呢」 repeats the last
question for another matter, close matters become a numbered choice, and a second message
not understood offers a human.
"""

from __future__ import annotations

from dataclasses import replace

from bot.appointments.when import understand_when
from bot.cases.identity import normalize
from bot.catalogue.outside import outside_topic
from bot.dialogue.agents import AgentHandling
from bot.dialogue.aloud import ReadingAloud
from bot.dialogue.answering import QuestionHandling
from bot.dialogue.state import ANSWERED, ConversationState
from bot.dialogue.words import (
    BOOKING_INTENTS,
    CANCEL_WORDS,
    DELETE_WORDS,
    EXACT_MATTER,
    FOLLOWUP,
    FOLLOWUP_CONFIDENCE,
    MAIN_MENU_WORDS,
    MEDIA_WORDS,
    MIN_INTENT_CONFIDENCE,
    MORE_WORDS,
    MY_BOOKINGS_WORDS,
    NOTICE_WORDS,
    PERSON_DECLINED,
    PERSON_WANTED,
    QUESTION_INTENTS,
    RECEIPT,
    SUPPLEMENT_WORDS,
    command_of,
    only_asks_for_a_person,
    pending_choice,
)
from bot.flows import supplement as supplement_flow
from bot.flows.choice import choice_number
from bot.intents import Intent, guide, texts
from bot.messages import Event, Incoming, Kind, Reply, Turn
from bot.nlu.understand import NluResult
from bot.review.service import ReviewReason

REVIEW_REASONS = frozenset(ReviewReason)

Replies = list[str] | None  # None: not this part's message


class Dialogue(QuestionHandling, ReadingAloud, AgentHandling):
    """The router: each message to the first part that takes it."""

    async def handle(self, message: Incoming) -> Turn:
        channel, user = message.channel.value, message.user_id
        if message.kind is Kind.VOICE and not message.text.strip() and self._intake:
            # WeChat heard nothing (or no longer transcribes): our own speech recognition;
            # the words go on like typed ones
            message = replace(message, text=await self._intake.hear(message.media_id))
        kept = await self._keep_media(message)
        await self._store.record(channel, user, "in", message.text, message.received_at,
                                 kind=message.kind.value, media_id=message.media_id,
                                 **({"file_id": str(kept)} if kept else {}))
        async with self._store.conversation(channel, user) as state:
            state.outcome = None
            said = await self._aloud(command_of(message), message, state)
            replies, aloud = said if said is not None else (await self._respond(message, state),
                                                            [])
            if said is None and replies and self._speaks_to(message):  # for 「念给我听」
                state.last_said = "\n".join(replies)
            outcome = state.outcome
        if said is None:
            aloud = await self._also_aloud(message, replies)
        for reply in replies or aloud:  # what is only read aloud is in the transcript too
            await self._store.record(channel, user, "out", reply, self._clock())
        await self._after_turn(message, outcome)
        return Turn(tuple(Reply(text) for text in replies)
                    + tuple(Reply(text, read_aloud=True) for text in aloud))

    async def _after_turn(self, message: Incoming, outcome: str | None) -> None:
        """Count a guide answer (the bot contained the question); note a question it did
        not answer for the clerks' review list."""
        if outcome == ANSWERED:
            await self._store.count_answered(message.received_at)
        elif outcome in REVIEW_REASONS and self._review is not None:
            question = await self._question_asked(message, outcome)
            if question:
                await self._review.note(question, str(outcome), message.received_at)

    async def _question_asked(self, message: Incoming, outcome: str) -> str:
        """The question to review. Asking for a person (「转人工」, the menu) is no question:
        the one before it in the transcript is."""
        if outcome != ReviewReason.ASKED_PERSON or not only_asks_for_a_person(message.text):
            return message.text.strip()
        lines = await self._store.transcript(message.channel.value, message.user_id)
        said = [str(line.get("text", "")) for line in lines if line.get("dir") == "in"
                and line.get("kind", Kind.TEXT.value) in (Kind.TEXT.value, Kind.VOICE.value)]
        return next((text.strip() for text in reversed(said)
                     if not only_asks_for_a_person(text)), "")

    async def _respond(self, message: Incoming, state: ConversationState) -> list[str]:
        """The first part that takes the message answers it; the NLU reads what none took.
        An agent's 「替村民申请」 lasts while its matter is picked by number: any other
        message (「几点上班」) ends it, once it was read."""
        for part in (self._event, self._during_handoff, self._not_text, self._in_a_flow,
                     self._agent_words, self._keyword, self._receipt, self._cancel_or_more,
                     self._choice):
            replies = await part(message, state)
            if replies is not None:
                if part != self._choice or state.awaiting not in ("topic", "matter"):
                    state.for_villager = False
                return replies
        replies = await self._understood(message, state)
        state.for_villager = False
        return replies

    async def _event(self, message: Incoming, state: ConversationState) -> Replies:
        if message.kind is not Kind.EVENT:
            return None
        if message.event in (Event.SUBSCRIBE, Event.SCAN):
            return self._main_menu(state, texts.WELCOME.format(center=self._center.name))
        if message.event is Event.MENU_CLICK:
            return await self._menu_tapped(message, state)
        return []  # unsubscribe, menu links, other events: nothing to say

    async def _menu_tapped(self, message: Incoming, state: ConversationState) -> list[str]:
        """A tap on the bottom menu is what the item stands for: the question a villager
        could have asked, with no matter yet (the flows ask for it), or a fixed word."""
        item = self._menu.item(message.event_key)
        tapped = replace(message, kind=Kind.TEXT, event=None, event_key="")
        if item is None:  # a key of an older menu, still on the phone
            return self._main_menu(state, texts.WELCOME.format(center=self._center.name))
        if item.command:
            return await self._respond(replace(tapped, text=item.command), state)
        if item.intent is Intent.HUMAN_HANDOFF:
            return await self._handoff(message, state, "menu")
        if item.intent is Intent.COMPLAIN and self._handoffs is not None:
            # nothing said yet: ask for it; what they write next reaches the clerks
            promise = await self._open_handoff(message, state, "complaint")
            return [texts.COMPLAINT_ASK.format(promise=promise)]
        self._clear_pending(state)
        return await self._on_understood(
            tapped, NluResult("", item.intent, 1.0, None, 0.0), state)

    def _main_menu(self, state: ConversationState, before: str = "") -> list[str]:
        """What the bottom menu offers, by number: digits alone reach every part of the bot
        (SMS has no menu to tap)."""
        items = [item for button in self._menu.buttons for item in button.items]
        if not items:
            return [before or texts.GREETING]
        self._clear_pending(state)
        state.awaiting, state.choices = "main", [item.key for item in items]
        options = (f"{n}. {item.name}" for n, item in enumerate(items, 1))
        return ["\n".join([f"{before}\n{texts.MAIN_MENU}" if before else texts.MAIN_MENU,
                           *options])]

    async def _during_handoff(self, message: Incoming, state: ConversationState) -> Replies:
        if self._handoffs is None or not (state.handoff_id or state.comment_for):
            return None
        return await self._in_handoff(message, state)

    async def _not_text(self, message: Incoming, state: ConversationState) -> Replies:
        """Voice that was not recognised, photos, files, places, links: a flow may want
        them; else a fixed reply."""
        if message.kind is Kind.VOICE and not message.text.strip():
            return [texts.VOICE_NOT_RECOGNISED]
        if (message.kind in MEDIA_WORDS or message.kind is Kind.LOCATION) and state.flow:
            return await self._in_flow(message, "", state)
        if message.kind in MEDIA_WORDS:
            return [texts.MEDIA_RECEIVED.format(what=MEDIA_WORDS[message.kind])]
        if message.kind is Kind.LOCATION:
            place = message.location.label if message.location else ""
            label = f"（{place}）" if place else ""
            return [texts.LOCATION_RECEIVED.format(label=label, address=self._center.address)]
        if message.kind is Kind.LINK:
            return [texts.LINK_RECEIVED]
        if message.kind is Kind.UNSUPPORTED:
            return [texts.UNSUPPORTED]
        return None

    async def _in_a_flow(self, message: Incoming, state: ConversationState) -> Replies:
        return await self._in_flow(message, command_of(message), state) if state.flow else None

    async def _receipt(self, message: Incoming, state: ConversationState) -> Replies:
        """A receipt number, or the phone's last four digits it waits for."""
        command = command_of(message)
        receipt = RECEIPT.search(normalize(command))
        if receipt:
            return await self._progress_by_receipt(message, receipt.group(), None, state)
        if state.pending_receipt and command.isdigit() and len(command) == 4:
            return await self._progress_by_receipt(message, state.pending_receipt, command, state)
        return None

    async def _cancel_or_more(self, message: Incoming, state: ConversationState) -> Replies:
        command = command_of(message)
        if command in CANCEL_WORDS:
            had_something = bool(state.awaiting or state.pending_intent or state.more_pages)
            self._clear_pending(state)
            return [texts.CANCELLED if had_something else texts.NOTHING_TO_CANCEL]
        if command in MORE_WORDS:
            return self._next_page(state) if state.more_pages else [texts.NO_MORE]
        return None

    async def _choice(self, message: Incoming, state: ConversationState) -> Replies:
        """The answer to numbered choices the bot asked, by number or by the situation's name."""
        command = command_of(message)
        choice = pending_choice(command, state)
        if choice is None and state.awaiting == "variant":
            choice = self._variant_named(command, state)
        if choice is None:
            return None
        if state.awaiting == "agent" and 1 <= choice <= len(state.choices):
            return await self._agent_item(state.choices[choice - 1], message, state)
        if state.awaiting == "main":  # the menu by number: as if the item were tapped
            if not 1 <= choice <= len(state.choices):
                return [texts.NO_SUCH_CHOICE]
            return await self._menu_tapped(replace(message, kind=Kind.EVENT,
                                                   event=Event.MENU_CLICK,
                                                   event_key=state.choices[choice - 1]), state)
        return await self._on_choice(choice, state, message)  # 「0」: no such choice

    async def _understood(self, message: Incoming, state: ConversationState) -> list[str]:
        if choice_number(message.text) is not None:  # a number, with nothing to choose
            return self._main_menu(state, texts.NO_CHOICE_NOW)
        result = await self._understanding.understand(message.text)
        if result.skipped:
            return [texts.EMPTY_MESSAGE]
        await self._store.count_question(message.received_at)
        replies = await self._on_understood(message, result, state)
        if state.misunderstood >= 2 and self._handoffs is not None:  # a person takes over
            state.misunderstood = 0
            promise = await self._open_handoff(message, state, "not_understood")
            return [texts.NOT_UNDERSTOOD_HANDED.format(promise=promise)]
        return replies

    async def _keyword(self, message: Incoming, state: ConversationState) -> Replies:
        """Fixed words that start something without the NLU: 补交, 退订…, 我的预约."""
        command = command_of(message)
        if command in SUPPLEMENT_WORDS and supplement_flow.FLOW_NAME in self._flows:
            return await self._begin(supplement_flow.FLOW_NAME, message, state)
        if command.upper() in NOTICE_WORDS and self._preferences is not None:
            change = NOTICE_WORDS[command.upper()]
            await self._preferences.set_preference(message.user_id, **change)
            return [texts.NOTICES_OFF if change.get("opted_out") else
                    texts.NOTICES_SMS_ONLY if change.get("mode") == "sms_only" else
                    texts.NOTICES_ON]
        if command in MAIN_MENU_WORDS:
            return self._main_menu(state)
        if command in MY_BOOKINGS_WORDS and self._appointments is not None:
            return await self._my_bookings(message)
        if command in DELETE_WORDS and self._handoffs is not None:
            promise = await self._open_handoff(message, state, "delete_my_data")
            return [texts.DELETE_REQUESTED.format(promise=promise)]
        return None

    async def _on_understood(self, message: Incoming, result: NluResult,
                             state: ConversationState) -> list[str]:
        intent = Intent(result.intent) if result.intent else None
        if intent is not Intent.COMPLAIN and PERSON_WANTED.search(message.text) \
                and not PERSON_DECLINED.search(message.text):
            state.matter = result.matter or state.matter  # the clerk sees what it is about
            return await self._handoff(message, state, "asked")
        # 拆迁, 讨薪…: not done here. Only a matter named outright (an exact alias) is
        # answered instead, unless the topic comes first whatever it mentions (被骗).
        topic = outside_topic(self._outside, message.text) \
            if intent not in (Intent.COMPLAIN, Intent.HUMAN_HANDOFF) else None
        if topic and (topic.before_matters or result.matter is None
                      or result.matter_confidence < EXACT_MATTER):
            state.misunderstood = 0
            self._clear_pending(state)
            where = texts.OUTSIDE_WHERE.format(where=topic.where) if topic.where else ""
            return [texts.OUTSIDE.format(topic=topic.topic, where=where,
                                         phone=self._center.phone)]
        if result.matter is None and result.candidates:  # shared word, or a guess: ask
            return self._ask_matter_choice(result, intent, state)
        matter_id = result.matter
        weak = result.confidence < FOLLOWUP_CONFIDENCE and not self._books_a_day(intent, message)
        if matter_id and (weak or FOLLOWUP.match(message.text.strip())):
            followup = self._followup_intent(state)
            if followup is not None:
                intent = followup
            elif weak:
                state.misunderstood = 0
                return self._matter_menu(matter_id, state)  # 「低保」 alone: what about it?
        if matter_id and self._not_about_it(intent, matter_id):
            state.misunderstood = 0
            return self._matter_menu(matter_id, state)  # a matter named: what about it?
        if intent is None or (result.confidence < MIN_INTENT_CONFIDENCE and not matter_id):
            return self._not_understood(state)
        state.misunderstood = 0
        if intent in QUESTION_INTENTS:
            if intent is Intent.ASK_LOCATION and not (matter_id or state.matter):
                state.outcome = ANSWERED
                return [guide.center_location(self._center)]
            asks = self._asks(result, intent, matter_id or state.matter)
            if len(asks) > 1:  # 「在哪办？要带啥？多久能下来？」: each answered in turn
                return self._answers(asks, state)
            return await self._question(intent, matter_id or state.matter, state, message)
        # 「办到哪了」 is about every case of theirs unless this message names the matter
        about = matter_id if intent is Intent.CHECK_PROGRESS else matter_id or state.matter
        return await self._other_intent(intent, message, about, state)

    def _books_a_day(self, intent: Intent | None, message: Incoming) -> bool:
        """A booking read unsure but naming its day is a booking: 「我想今天下午去办低保，我叫
        王秀英，电话138…」 (the name and number make the classifier unsure, the day does not;
        a day past or too far ahead is named too — the booking flow says so)."""
        if intent is not Intent.BOOK_APPOINTMENT or self._appointments is None:
            return False
        bookings = self._appointments.bookings
        return understand_when(message.text, bookings.today(),
                               bookings.rules.horizon_days) is not None

    async def _other_intent(self, intent: Intent, message: Incoming, matter_id: str | None,
                            state: ConversationState) -> list[str]:
        center = self._center
        hours = center.hours.weekdays
        matter = self._catalogue.get(matter_id) if matter_id else None
        if intent is Intent.ASK_OFFICE_HOURS:
            state.outcome = ANSWERED
            return [guide.office_hours(center)]
        if intent is Intent.HUMAN_HANDOFF:
            return await self._handoff(message, state, "asked")
        if intent is Intent.COMPLAIN:
            promise = await self._open_handoff(message, state, "complaint")
            taken = texts.COMPLAINT_TAKEN.format(phone=center.phone)
            return [f"{taken}{promise}。" if promise else taken]
        if intent is Intent.APPLY:
            return await self._start_apply(matter, message, state) if matter else \
                self._ask_which_matter(intent, texts.ASK_WHICH_MATTER, state)
        if intent is Intent.CHECK_PROGRESS and self._cases is not None:
            return await self._progress(message.user_id, matter, state)
        if self._appointments is not None and intent in BOOKING_INTENTS:
            return await self._appointment_intent(intent, message, matter, state)
        fixed = {
            Intent.GREET: texts.GREETING,
            Intent.THANKS: texts.THANKS,
            Intent.GOODBYE: texts.GOODBYE,
            Intent.OUT_OF_SCOPE: texts.OUT_OF_SCOPE,
            Intent.BOOK_APPOINTMENT: texts.BOOKING_NOT_YET,
            Intent.CANCEL_APPOINTMENT: texts.BOOKING_NOT_YET,
            Intent.BOOK_HOME_VISIT: texts.HOME_VISIT_NOT_YET,
            Intent.CHECK_PROGRESS: texts.PROGRESS_NOT_YET,
        }
        if intent in (Intent.AFFIRM, Intent.DENY):
            return [texts.NOTHING_TO_CANCEL if intent is Intent.DENY else texts.GREETING]
        return [fixed[intent].format(phone=center.phone, hours=hours)]

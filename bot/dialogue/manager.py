"""Dialogue stage: one normalized message in, the bot's replies out.

    message ─┬─ event / voice without text / media / location ─→ fixed replies
             └─ text ─→ global commands (算了, 继续) ─→ a pending numbered choice
                       ─→ NLU ─→ question intents answered from the catalogue
                                 other intents (hours, handoff, complaint, greetings…)

State (the matter being talked about, a pending choice, the rest of a long answer) lives in
Redis per user; the store's lock makes one user's messages go through here in order.
Follow-ups keep the matter (「低保要带啥」 then 「要多久」), 「那五保呢」 repeats the last
question for another matter, close matters become a numbered choice, and a second message
not understood offers a human.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol

from bot import chinatime
from bot.appointments.service import BookingError
from bot.cases.application import CaseError
from bot.cases.identity import normalize
from bot.cases.progress import timeline
from bot.catalogue.center import Center
from bot.catalogue.model import Catalogue, Matter
from bot.catalogue.outside import OutsideTopic, outside_topic
from bot.dialogue.state import ConversationState, StateStore
from bot.flows import END, FlowContext, Step
from bot.flows import apply as apply_flow
from bot.flows import booking as booking_flow
from bot.flows import home_visit as home_visit_flow
from bot.flows import supplement as supplement_flow
from bot.flows.choice import choice_number
from bot.intents import Intent, guide, texts
from bot.messages import Event, Incoming, Kind, Reply, Turn
from bot.nlu.matters import EXACT
from bot.nlu.understand import NluResult, Understanding
from bot.security.lockout import Locked, Lockout, wait_words

QUESTION_INTENTS = frozenset(guide.ANSWERS)
MIN_INTENT_CONFIDENCE = 0.35  # below this, with no matter named, the bot did not understand
EXACT_MATTER = EXACT  # a matter named by one of its aliases, word for word
FOLLOWUP_CONFIDENCE = 0.55  # a named matter with a weaker intent repeats the last question
# One of several questions in a message is answered too when read on its own it is this sure
# of what it asks; an unsure one is left to the menu under the answers.
ASK_CONFIDENCE = 0.6
MAX_REPLY_BYTES = 2000  # WeChat takes 2048 bytes in one text reply; keep room for a footer

CANCEL_WORDS = frozenset({"算了", "取消", "不问了", "退出", "不要了", "不办了"})
MORE_WORDS = frozenset({"继续", "下一页", "还有呢", "后面"})
YES_WORDS = frozenset({"是", "是的", "是啊", "对", "对的", "对头", "嗯", "嗯嗯", "好", "好的"})
FOLLOWUP = re.compile(r"^(那|还有|那么)?.{1,14}呢[?？]?$")

MISSING_WORDS = frozenset({"还差什么", "还差啥", "还缺什么", "还缺啥", "还要什么"})
SUPPLEMENT_WORDS = frozenset({"补交", "补交材料", "补材料", "补正", "我要补交"})
# The flows, by name: each module has STEPS, looks_like_answer, prompt_again, remaining.
FLOWS: dict[str, Any] = {apply_flow.FLOW_NAME: apply_flow,
                         supplement_flow.FLOW_NAME: supplement_flow,
                         booking_flow.FLOW_NAME: booking_flow,
                         home_visit_flow.FLOW_NAME: home_visit_flow}
CASE_FLOWS = frozenset({apply_flow.FLOW_NAME, supplement_flow.FLOW_NAME})
# Notices: 退订 stops them, 只发短信 sends them by SMS only, 恢复通知 undoes 退订.
NOTICE_WORDS: dict[str, dict[str, Any]] = {"退订": {"opted_out": True}, "TD": {"opted_out": True},
                "不要通知": {"opted_out": True}, "别发通知了": {"opted_out": True},
                "恢复通知": {"opted_out": False, "mode": "wechat_first"},
                "只发短信": {"mode": "sms_only"}, "短信通知我": {"mode": "sms_only"}}
CANCEL_HANDOFF_WORDS = frozenset({"取消人工", "不用人工了", "不要人工了", "取消转人工"})
DELETE_WORDS = frozenset({"删除我的信息", "删除我的资料", "注销我的信息", "删除我的个人信息"})
QUESTION = re.compile(r"[吗呢?？]$|怎么|什么|啥|多久|多少|哪里|哪儿|几点|能不能|要不要|带什么")
NO_COMMENT_WORDS = frozenset({"没有", "没", "无", "不用了", "没了"})
MY_BOOKINGS_WORDS = frozenset({"我的预约", "查预约", "查看预约", "预约记录", "我约的"})
# A person asked for in so many words, whatever else the message says (「低保咋个突然停了，
# 我想找个工作人员问问」): 首问负责, the request is honoured.
PERSON_WANTED = re.compile(r"转人工|人工(服务|客服)|要人工"
                           r"|找(个|一个|一下)?(工作人员|人工|真人|客服)"
                           r"|(和|跟|同)(工作人员|真人)(说|讲|谈)")
PERSON_DECLINED = re.compile(r"(不|别|无须|无需)(用|要|需要)?(转|找)?(人工|工作人员)")
RECEIPT = re.compile(r"BM\d{6}[2-9A-HJ-NP-Z]{5}")

BOOKING_INTENTS = frozenset({Intent.BOOK_APPOINTMENT, Intent.CANCEL_APPOINTMENT,
                             Intent.BOOK_HOME_VISIT})
# Besides questions, what a choice of matter can be asked for: 「公租房申请了一直没消息」
MATTER_CHOICE_INTENTS = frozenset({Intent.BOOK_APPOINTMENT, Intent.CHECK_PROGRESS})
MENU_KEYS = {"MENU_GUIDE": "guide", "MENU_HOURS": "hours", "MENU_HUMAN": "human"}
MEDIA_WORDS = {Kind.IMAGE: "图片", Kind.FILE: "文件"}


def parse_choice(text: str) -> int | None:
    """「1」「１」「1.」「第1个」「第二个」 → the number; anything else → None."""
    return choice_number(text)


def paginate(text: str, limit: int = MAX_REPLY_BYTES) -> list[str]:
    """Split at line breaks so that every page fits `limit` UTF-8 bytes."""
    pages: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            pages.append(current)
        while len(line.encode()) > limit:  # one line longer than a page: cut it
            cut = len(line.encode()[:limit].decode(errors="ignore"))
            pages.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        pages.append(current)
    return pages


class Intake(apply_flow.ApplyServices, supplement_flow.SupplementServices, Protocol):
    """What the flows need of the case services (bot/cases/intake.py)."""


class Preferences(Protocol):
    """How the villager wants notices (bot/notices/outbox.py)."""

    async def set_preference(self, key: str, *, mode: str | None = None,
                             opted_out: bool | None = None) -> None: ...


class HandoffDesk(Protocol):
    """转人工 (bot/handoff/service.py)."""

    async def open(self, user_id: str, channel: str, reason: str, matter_id: str | None,
                   transcript: list[dict[str, str]]) -> Any: ...

    async def state(self, handoff_id: int) -> tuple[str, int | None] | None: ...

    async def villager_says(self, handoff_id: int, text: str) -> None: ...

    async def cancel(self, handoff_id: int) -> None: ...

    async def rate(self, handoff_id: int, rating: int) -> None: ...

    async def comment(self, handoff_id: int, text: str) -> None: ...


class CaseLookup(Protocol):
    """What the dialogue needs of the case service for 「办到哪了」."""

    async def cases_of(self, user_id: str) -> Sequence[Any]: ...

    async def find_for(self, receipt_no: str, *, user_id: str | None = None,
                       phone_last4: str | None = None) -> Any: ...


class Dialogue:
    def __init__(self, understanding: Understanding, store: StateStore, catalogue: Catalogue,
                 center: Center, *, intake: Intake | None = None,
                 cases: CaseLookup | None = None,
                 appointments: booking_flow.Appointments | None = None,
                 preferences: Preferences | None = None,
                 handoffs: HandoffDesk | None = None,
                 receipt_guesses: Lockout | None = None,
                 outside: tuple[OutsideTopic, ...] = (),
                 clock: chinatime.Clock = chinatime.now) -> None:
        self._understanding = understanding
        self._store = store
        self._catalogue = catalogue
        self._center = center
        self._intake = intake
        self._cases = cases
        self._appointments = appointments
        self._preferences = preferences
        self._handoffs = handoffs
        self._receipt_guesses = receipt_guesses  # without it, no lookups by receipt number
        self._outside = outside  # topics not handled here (catalogue/outside.yml)
        self._clock = clock

    async def handle(self, message: Incoming) -> Turn:
        channel, user = message.channel.value, message.user_id
        await self._store.record(channel, user, "in", message.text, message.received_at,
                                 kind=message.kind.value, media_id=message.media_id)
        async with self._store.conversation(channel, user) as state:
            replies = await self._respond(message, state)
        for reply in replies:
            await self._store.record(channel, user, "out", reply, self._clock())
        return Turn(tuple(Reply(text) for text in replies))

    async def _respond(self, message: Incoming, state: ConversationState) -> list[str]:
        if message.kind is Kind.EVENT:
            return await self._on_event(message, state)
        if self._handoffs is not None and (state.handoff_id or state.comment_for):
            answered = await self._in_handoff(message, state)
            if answered is not None:
                return answered
        if message.kind is Kind.VOICE and not message.text.strip():
            return [texts.VOICE_NOT_RECOGNISED]
        if message.kind in MEDIA_WORDS:
            if state.flow:
                return await self._in_flow(message, "", state)
            return [texts.MEDIA_RECEIVED.format(what=MEDIA_WORDS[message.kind])]
        if message.kind is Kind.LOCATION and state.flow:
            return await self._in_flow(message, "", state)
        if message.kind is Kind.LOCATION:
            place = message.location.label if message.location else ""
            label = f"（{place}）" if place else ""
            return [texts.LOCATION_RECEIVED.format(label=label, address=self._center.address)]
        if message.kind is Kind.LINK:
            return [texts.LINK_RECEIVED]
        if message.kind is Kind.UNSUPPORTED:
            return [texts.UNSUPPORTED]
        return await self._on_text(message, state)

    async def _on_event(self, message: Incoming, state: ConversationState) -> list[str]:
        if message.event in (Event.SUBSCRIBE, Event.SCAN):
            return [texts.WELCOME.format(center=self._center.name)]
        if message.event is Event.MENU_CLICK:
            action = MENU_KEYS.get(message.event_key)
            if action == "hours":
                return [guide.office_hours(self._center)]
            if action == "human":
                return await self._handoff(message, state, "menu")
            return [texts.WELCOME.format(center=self._center.name)]
        return []  # unsubscribe, menu links, other events: nothing to say

    async def _on_text(self, message: Incoming, state: ConversationState) -> list[str]:
        command = unicodedata.normalize("NFKC", message.text).strip().rstrip("。!！")
        if state.flow:
            return await self._in_flow(message, command, state)
        answered = await self._keyword(message, command, state)
        if answered is not None:
            return answered
        receipt = RECEIPT.search(normalize(command))
        if receipt:
            return await self._progress_by_receipt(message, receipt.group(), None, state)
        if state.pending_receipt and command.isdigit() and len(command) == 4:
            return await self._progress_by_receipt(message, state.pending_receipt, command, state)
        if command in CANCEL_WORDS:
            had_something = bool(state.awaiting or state.pending_intent or state.more_pages)
            self._clear_pending(state)
            return [texts.CANCELLED if had_something else texts.NOTHING_TO_CANCEL]
        if command in MORE_WORDS:
            return self._next_page(state) if state.more_pages else [texts.NO_MORE]
        choice = _pending_choice(command, state)
        if choice is not None:
            return await self._on_choice(choice, state, message.user_id)
        if state.awaiting == "variant":
            picked = self._variant_named(command, state)
            if picked:
                return await self._on_choice(picked, state, message.user_id)
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

    async def _keyword(self, message: Incoming, command: str,
                       state: ConversationState) -> list[str] | None:
        """Fixed words that start something without the NLU: 补交, 退订…, 我的预约."""
        if command in SUPPLEMENT_WORDS and self._intake is not None:
            return await self._start_flow(
                state, await supplement_flow.start(self._intake, message.user_id),
                supplement_flow.FLOW_NAME)
        if command.upper() in NOTICE_WORDS and self._preferences is not None:
            change = NOTICE_WORDS[command.upper()]
            await self._preferences.set_preference(message.user_id, **change)
            return [texts.NOTICES_OFF if change.get("opted_out") else
                    texts.NOTICES_SMS_ONLY if change.get("mode") == "sms_only" else
                    texts.NOTICES_ON]
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
        weak = result.confidence < FOLLOWUP_CONFIDENCE
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
                return [guide.center_location(self._center)]
            asks = self._asks(result, intent, matter_id or state.matter)
            if len(asks) > 1:  # 「在哪办？要带啥？多久能下来？」: each answered in turn
                return self._answers(asks, state)
            return await self._question(intent, matter_id or state.matter, state,
                                        message.user_id)
        # 「办到哪了」 is about every case of theirs unless this message names the matter
        about = matter_id if intent is Intent.CHECK_PROGRESS else matter_id or state.matter
        return await self._other_intent(intent, message, about, state)

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
                        state: ConversationState, user_id: str) -> list[str]:
        """Answer a question about a matter (or start applying for it), asking which first."""
        if matter_id is None:
            self._clear_pending(state)
            state.awaiting, state.pending_intent = "matter", intent.value
            return [texts.ASK_WHICH_MATTER]
        matter = self._catalogue.get(matter_id)
        if matter is None:
            return self._not_understood(state)
        if intent is Intent.APPLY:
            return await self._start_apply(matter, state)
        if intent is Intent.CHECK_PROGRESS and self._cases is not None:
            return await self._progress(user_id, matter, state)
        if intent is Intent.BOOK_APPOINTMENT:
            if self._appointments is None:
                return [texts.BOOKING_NOT_YET.format(phone=self._center.phone,
                                                     hours=self._center.hours.weekdays)]
            return await self._start_booking(matter, "", state, user_id)
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
        return [texts.MATTER_MENU.format(name=matter.short_name)]

    def _ask_matter_choice(self, result: NluResult, intent: Intent | None,
                           state: ConversationState) -> list[str]:
        self._clear_pending(state)
        pending = intent if intent in QUESTION_INTENTS or intent in MATTER_CHOICE_INTENTS \
            else None
        state.awaiting, state.choices = "matter", [c.matter for c in result.candidates]
        state.pending_intent = (pending or Intent(state.last_intent or Intent.ASK_MATERIALS)).value
        options = "\n".join(
            f"{n}. {matter.name}" for n, c in enumerate(result.candidates, 1)
            if (matter := self._catalogue.get(c.matter)) is not None
        )
        if len(state.choices) == 1:
            return [f"{texts.CONFIRM_MATTER}\n{options}\n{texts.CONFIRM_OR_REPHRASE}"]
        return [f"{texts.CHOOSE_MATTER}\n{options}\n{texts.REPLY_WITH_NUMBER}"]

    async def _on_choice(self, number: int, state: ConversationState,
                         user_id: str) -> list[str]:
        if not 1 <= number <= len(state.choices):
            return [texts.NO_SUCH_CHOICE]
        choice, awaiting = state.choices[number - 1], state.awaiting
        pending = Intent(state.pending_intent or Intent.ASK_MATERIALS)
        if awaiting == "matter":
            return await self._question(pending, choice, state, user_id)
        if awaiting == "variant" and state.matter:
            state.variant = choice
            return await self._question(pending, state.matter, state, user_id)
        return await self._question(Intent(choice), state.matter, state, user_id)  # menu

    def _variant_named(self, text: str, state: ConversationState) -> int | None:
        matter = self._catalogue.get(state.matter or "")
        if matter is None:
            return None
        for number, variant in enumerate(matter.variants, start=1):
            if variant.name in text or (len(text) >= 2 and text in variant.name):
                return number
        return None

    async def _other_intent(self, intent: Intent, message: Incoming, matter_id: str | None,
                            state: ConversationState) -> list[str]:
        center = self._center
        hours = center.hours.weekdays
        matter = self._catalogue.get(matter_id) if matter_id else None
        if intent is Intent.ASK_OFFICE_HOURS:
            return [guide.office_hours(center)]
        if intent is Intent.HUMAN_HANDOFF:
            return await self._handoff(message, state, "asked")
        if intent is Intent.COMPLAIN:
            promise = await self._open_handoff(message, state, "complaint")
            taken = texts.COMPLAINT_TAKEN.format(phone=center.phone)
            return [f"{taken}{promise}。" if promise else taken]
        if intent is Intent.APPLY and matter is not None:
            return await self._start_apply(matter, state, message.text)
        if intent is Intent.CHECK_PROGRESS and self._cases is not None:
            return await self._progress(message.user_id, matter, state)
        if self._appointments is not None and intent in BOOKING_INTENTS:
            return await self._appointment_intent(intent, message, matter, state)
        fixed = {
            Intent.GREET: texts.GREETING,
            Intent.THANKS: texts.THANKS,
            Intent.GOODBYE: texts.GOODBYE,
            Intent.OUT_OF_SCOPE: texts.OUT_OF_SCOPE,
            Intent.APPLY: texts.ASK_WHICH_MATTER,
            Intent.BOOK_APPOINTMENT: texts.BOOKING_NOT_YET,
            Intent.CANCEL_APPOINTMENT: texts.BOOKING_NOT_YET,
            Intent.BOOK_HOME_VISIT: texts.HOME_VISIT_NOT_YET,
            Intent.CHECK_PROGRESS: texts.PROGRESS_NOT_YET,
        }
        if intent is Intent.APPLY:
            state.awaiting, state.pending_intent = "matter", Intent.APPLY.value
        if intent in (Intent.AFFIRM, Intent.DENY):
            return [texts.NOTHING_TO_CANCEL if intent is Intent.DENY else texts.GREETING]
        return [fixed[intent].format(phone=center.phone, hours=hours)]

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
            return [booking_flow.NONE_BOOKED]
        return [f"您的预约：\n{booking_flow.numbered(items)}\n{texts.CHANGE_BOOKING_HINT}"]

    def _services(self, flow: str) -> Any:
        return self._intake if flow in CASE_FLOWS else self._appointments

    async def _in_flow(self, message: Incoming, command: str,
                       state: ConversationState) -> list[str]:
        """The flow's global commands (算了, 还差什么), its answers, and side questions."""
        flow = FLOWS[str(state.flow)]
        if command in CANCEL_WORDS:
            cancelled = state.flow == apply_flow.FLOW_NAME
            state.flow, state.flow_state, state.slots = None, None, {}
            return [texts.APPLY_CANCELLED if cancelled else texts.CANCELLED]
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

    @staticmethod
    async def _start_flow(state: ConversationState, step: Step, name: str) -> list[str]:
        if step.next_state != END:
            state.flow, state.flow_state, state.slots = name, step.next_state, dict(step.slots)
        return list(step.replies)

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
        context = FlowContext(message, state.slots, self._catalogue, self._services(state.flow))
        again = FLOWS[state.flow].prompt_again(flow_state, state.slots, context)
        return [*answer, f"{texts.APPLY_RESUME}{again}"]

    async def _progress(self, user_id: str, matter: Matter | None,
                        state: ConversationState) -> list[str]:
        """The villager's cases, those of the matter they name if they name one. With none
        on this account: what is promised for the matter and how to find their case."""
        assert self._cases is not None
        found = await self._cases.cases_of(user_id)
        if matter is None:
            if not found:
                return [texts.PROGRESS_NONE]
            return ["\n\n".join(self._timeline(case) for case in found[:3])]
        self._clear_pending(state)
        state.matter, state.last_intent = matter.id, Intent.CHECK_PROGRESS.value
        of_matter = [case for case in found if case.matter_id == matter.id]
        if of_matter:
            return ["\n\n".join(self._timeline(case) for case in of_matter[:3])]
        others = texts.PROGRESS_OTHERS if found else ""
        return [guide.progress_unknown(matter, self._center) + others]

    async def _progress_by_receipt(self, message: Incoming, receipt: str, last4: str | None,
                                   state: ConversationState) -> list[str]:
        """A receipt number is the villager's own (same account: nothing guessed, nothing
        counted), or is opened with the phone's last four digits, a guessable secret: wrong
        answers are limited per villager and per receipt number (bot/security/lockout.py),
        and no right answer, to this receipt or their own, clears them."""
        if self._cases is None or self._receipt_guesses is None:
            return [texts.PROGRESS_NOT_YET.format(phone=self._center.phone)]
        state.pending_receipt = None
        guesser = {"user": f"{message.channel.value}:{message.user_id}", "receipt": receipt}
        try:
            if last4 is None:
                return await self._own_receipt(message, receipt, guesser, state)
            return await self._receipt_with_phone(receipt, last4, guesser)
        except Locked as locked:
            return [texts.PROGRESS_LOCKED.format(wait=wait_words(locked.seconds),
                                                 phone=self._center.phone)]

    async def _own_receipt(self, message: Incoming, receipt: str, guesser: dict[str, str],
                           state: ConversationState) -> list[str]:
        assert self._cases is not None and self._receipt_guesses is not None
        case = await self._cases.find_for(receipt, user_id=message.user_id)
        if case is not None:
            return [self._timeline(case)]
        locked_for = await self._receipt_guesses.wait(**guesser)
        if locked_for:
            raise Locked(locked_for)
        state.pending_receipt = receipt  # not theirs by account: ask for the phone's last four
        return [texts.PROGRESS_ASK_PHONE]

    async def _receipt_with_phone(self, receipt: str, last4: str,
                                  guesser: dict[str, str]) -> list[str]:
        assert self._cases is not None and self._receipt_guesses is not None
        attempt = await self._receipt_guesses.attempt(**guesser)
        case = await self._cases.find_for(receipt, phone_last4=last4)
        if case is None:
            await attempt.wrong(actor=guesser["user"])
            return [texts.PROGRESS_NOT_FOUND]
        await attempt.right()
        return [self._timeline(case)]

    def _timeline(self, case: Any) -> str:
        matter = self._catalogue.get(case.matter_id)
        return timeline(case, matter.name if matter else case.matter_id)

    async def _handoff(self, message: Incoming, state: ConversationState,
                       reason: str) -> list[str]:
        self._clear_pending(state)
        promise = await self._open_handoff(message, state, reason)
        if promise is None:
            return [texts.HANDOFF_TAKEN.format(hours=self._center.hours.weekdays,
                                               phone=self._center.phone)]
        return [texts.HANDOFF_OPENED.format(promise=promise)]

    async def _open_handoff(self, message: Incoming, state: ConversationState,
                            reason: str) -> str | None:
        """Hand the conversation to the clerks; the promise of when they answer (None
        without a handoff desk: the request is only recorded)."""
        state.handoff_requested = True
        channel, user = message.channel.value, message.user_id
        if self._handoffs is None:
            await self._store.request_handoff(channel, user, reason, message.received_at)
            return None
        opened = await self._handoffs.open(user, channel, reason, state.matter,
                                           await self._store.transcript(channel, user))
        state.handoff_id = opened.handoff_id
        return str(opened.promise)

    async def _in_handoff(self, message: Incoming, state: ConversationState
                          ) -> list[str] | None:
        """While clerks have the conversation the bot stays quiet (the clerk sees every
        message) except for 「取消人工」; after they close it, a 1–5 is the rating and the
        next text the comment. None: the bot answers as usual."""
        assert self._handoffs is not None
        command = unicodedata.normalize("NFKC", message.text).strip().rstrip("。!！")
        if state.comment_for is not None:
            handoff_id, state.comment_for = state.comment_for, None
            # a question here is asked of the bot, not a comment on the clerk: answer it
            if message.kind is Kind.TEXT and parse_choice(command) is None and \
                    not QUESTION.search(command):
                if command not in NO_COMMENT_WORDS:
                    await self._handoffs.comment(handoff_id, message.text)
                return [texts.COMMENT_THANKS]
            return None
        assert state.handoff_id is not None
        found = await self._handoffs.state(state.handoff_id)
        if found is not None and found[0] in ("waiting", "claimed"):
            if command in CANCEL_HANDOFF_WORDS or command in CANCEL_WORDS:
                await self._handoffs.cancel(state.handoff_id)
                state.handoff_id = None
                return [texts.HANDOFF_CANCELLED]
            said = message.text or f"[{message.kind.value}]"
            await self._handoffs.villager_says(state.handoff_id, said)
            # 「有人吗」 too gets a word back: the clerk has it, or will
            return [texts.HANDOFF_PASSED_ON if found[0] == "waiting" else texts.HANDOFF_SEEN]
        handoff_id, state.handoff_id = state.handoff_id, None
        rating = parse_choice(command)
        if found is not None and found[0] == "closed" and found[1] is None and \
                rating is not None and 1 <= rating <= 5:
            await self._handoffs.rate(handoff_id, rating)
            state.comment_for = handoff_id
            return [texts.RATING_THANKS]
        return None

    def _not_understood(self, state: ConversationState) -> list[str]:
        state.misunderstood += 1
        if state.misunderstood >= 2:
            return [texts.NOT_UNDERSTOOD_AGAIN.format(phone=self._center.phone)]
        return [texts.NOT_UNDERSTOOD]

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
        state.more_pages = []


def _pending_choice(command: str, state: ConversationState) -> int | None:
    """The number answering the numbered choices the bot asked, or 「是」 to its one guess."""
    if not (state.awaiting and state.choices):
        return None
    if command in YES_WORDS and state.awaiting == "matter" and len(state.choices) == 1:
        return 1  # 「您问的是这件事吗？」 「是的」
    return parse_choice(command)

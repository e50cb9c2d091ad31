"""Dialogue stage: 转人工 — opening a handoff with the transcript, and the conversation while
clerks have it (the bot says only that they do), then the rating and comment.
"""

from __future__ import annotations

from bot.dialogue.base import DialogueBase
from bot.dialogue.state import ConversationState
from bot.dialogue.words import (
    CANCEL_HANDOFF_WORDS,
    CANCEL_WORDS,
    MEDIA_WORDS,
    NO_COMMENT_WORDS,
    QUESTION,
    command_of,
    parse_choice,
)
from bot.handoff.service import OPEN as OPEN_HANDOFF
from bot.handoff.service import HandoffStatus
from bot.intents import texts
from bot.messages import Incoming, Kind
from bot.review.service import ReviewReason

# Handoffs whose question goes up for review: the bot could have answered it, perhaps
HANDOFF_REVIEWED = {"asked": ReviewReason.ASKED_PERSON, "menu": ReviewReason.ASKED_PERSON,
                    "not_understood": ReviewReason.HANDED_OVER}


class HandoffHandling(DialogueBase):
    """Handoffs: opened, talked through, rated."""

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
        if reason in HANDOFF_REVIEWED:
            state.outcome = HANDOFF_REVIEWED[reason]
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
        command = command_of(message)
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
        if found is not None and found[0] in OPEN_HANDOFF:
            if command in CANCEL_HANDOFF_WORDS or command in CANCEL_WORDS:
                await self._handoffs.cancel(state.handoff_id)
                state.handoff_id = None
                return [texts.HANDOFF_CANCELLED]
            # a voice's text is what was heard, if anything; a photo's, a word for the queue
            said = message.text if message.kind is Kind.VOICE else \
                message.text or f"[{MEDIA_WORDS.get(message.kind, message.kind.value)}]"
            await self._handoffs.villager_says(state.handoff_id, said, message.kind.value,
                                               await self._keep_media(message))
            # 「有人吗」 too gets a word back: the clerk has it, or will
            return [texts.HANDOFF_PASSED_ON if found[0] == HandoffStatus.WAITING
                    else texts.HANDOFF_SEEN]
        handoff_id, state.handoff_id = state.handoff_id, None
        rating = parse_choice(command)
        if found is not None and found[0] == HandoffStatus.CLOSED and found[1] is None and \
                rating is not None and 1 <= rating <= 5:
            await self._handoffs.rate(handoff_id, rating)
            state.comment_for = handoff_id
            return [texts.RATING_THANKS]
        return None

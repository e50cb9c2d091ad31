"""Dialogue stage: answers read aloud. 「念给我听」 (a side request, in a flow or a handoff too)
has the last answer read; 「以后都用语音」 has every answer read from now on, as well as
written, until 「不要语音」. The dialogue only decides what is to be heard (Reply.read_aloud);
the channel makes the voice messages (bot/voice.py), or sends the text when it cannot.
"""

from __future__ import annotations

from bot.dialogue.base import DialogueBase
from bot.dialogue.state import ConversationState
from bot.dialogue.words import READ_ALOUD_WORDS, VOICE_OFF_WORDS, VOICE_ON_WORDS
from bot.intents import texts
from bot.messages import Channel, Incoming

Said = tuple[list[str], list[str]]  # written, read aloud


class ReadingAloud(DialogueBase):
    def _speaks_to(self, message: Incoming) -> bool:
        """Whether answers can be read aloud to this villager: speech synthesis configured,
        and a channel that carries voice (an SMS cannot: it would get the text twice)."""
        return self._voice is not None and message.channel is Channel.WECHAT

    async def _aloud(self, command: str, message: Incoming,
                     state: ConversationState) -> Said | None:
        """The voice words, answered; None for any other message."""
        if command in READ_ALOUD_WORDS:
            if not self._speaks_to(message):
                return [texts.VOICE_UNAVAILABLE.format(phone=self._center.phone)], []
            return ([], [state.last_said]) if state.last_said else ([texts.NOTHING_TO_READ], [])
        on = True if command in VOICE_ON_WORDS else False if command in VOICE_OFF_WORDS \
            else None
        if on is None:
            return None
        if self._voice is None or not self._speaks_to(message):
            return [texts.VOICE_UNAVAILABLE.format(phone=self._center.phone)], []
        await self._voice.set_voice(message.user_id, on)
        said = texts.VOICE_ON if on else texts.VOICE_OFF
        state.last_said = said
        return [said], [said] if on else []

    async def _also_aloud(self, message: Incoming, written: list[str]) -> list[str]:
        """What is also read aloud to a villager who asked for every answer so."""
        if self._voice is None or not written or not self._speaks_to(message) \
                or not await self._voice.wants_voice(message.user_id):
            return []
        return ["\n".join(written)]

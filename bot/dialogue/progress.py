"""Dialogue stage: 「办到哪了」 — the villager's cases, one by receipt number (the phone's last
four digits where it is not their own, guesses limited), or what the guide promises for a
matter they have no case of here.
"""

from __future__ import annotations

from bot.cases.progress import timeline
from bot.catalogue.model import Matter
from bot.dialogue.handoffs import HandoffHandling
from bot.dialogue.state import ConversationState
from bot.intents import Intent, guide, texts
from bot.messages import Incoming
from bot.security.lockout import Locked, wait_words
from bot.storage.tables import Case


class ProgressHandling(HandoffHandling):
    """Progress of cases."""

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

    def _timeline(self, case: Case) -> str:
        matter = self._catalogue.get(case.matter_id)
        return timeline(case, matter.name if matter else case.matter_id)

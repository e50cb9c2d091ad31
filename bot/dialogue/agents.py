"""Dialogue stage: village agents (代办员) in the chat — binding a WeChat account with the
code a clerk handed over, and the agent menu.

    「绑定 12345678」 ─→ bound (tries limited: bot/security/lockout.py AGENT_CODE)
    「代办」 ─→ the agent menu: 1 替村民申请 (the apply flow, for a villager, with their
              consent) · 2 本村在办的件 · 3 等补正的件 · 4 预约和上门服务 · 5 没送到的通知
"""

from __future__ import annotations

import re

from bot.appointments.home_visits import visit_half
from bot.cases.identity import mask_phone
from bot.cases.status import Status
from bot.dialogue.base import DialogueBase
from bot.dialogue.state import ConversationState
from bot.dialogue.words import command_of
from bot.flows import booking_changes as booking_changes_flow
from bot.intents import Intent, texts
from bot.messages import Channel, Incoming
from bot.security.lockout import Locked, wait_words
from bot.storage.tables import Case, HomeVisit

BIND = re.compile(r"(?:代办员?)?绑定(?:代办员?)?\s*(\d*)")
MENU_WORDS = frozenset({"代办", "代办菜单", "代办员", "我是代办员"})
# Said only by one who believes they are an agent; 「代办」 from a villager is a question
# (「能代办吗」) for the NLU, not a binding lesson.
AGENT_ONLY_WORDS = frozenset({"代办菜单", "我是代办员"})
BULLET = "· "  # list lines: the digits answer the agent menu, not the list
MENU = (("apply", "替村民申请"), ("cases", "本村在办的件"), ("waiting", "等补正的件"),
        ("visits", "预约和上门服务"), ("undelivered", "没送到的通知"))
SHOWN = 10  # items of a list in one message (a phone screen)


class AgentHandling(DialogueBase):
    async def _agent_words(self, message: Incoming, state: ConversationState
                           ) -> list[str] | None:
        """「绑定 …」 and 「代办」; None for any other message."""
        if self._agents is None:
            return None
        command = command_of(message)
        bind = BIND.fullmatch(command)
        if bind:
            return await self._bind_agent(message, bind.group(1))
        if command in MENU_WORDS:
            return await self._agent_menu(message, command, state)
        return None

    async def _bind_agent(self, message: Incoming, code: str) -> list[str]:
        assert self._agents is not None and self._agent_codes is not None
        if message.channel is not Channel.WECHAT:
            return [texts.AGENT_BIND_WECHAT_ONLY]
        if len(code) != 8:
            return [texts.AGENT_BIND_HOW]
        try:
            attempt = await self._agent_codes.attempt(user=message.user_id, everyone="all")
        except Locked as locked:
            return [texts.AGENT_BIND_LOCKED.format(wait=wait_words(locked.seconds))]
        agent = await self._agents.bind(message.user_id, code)
        if agent is None:
            try:
                await attempt.wrong(message.user_id)
            except Locked as locked:
                return [texts.AGENT_BIND_LOCKED.format(wait=wait_words(locked.seconds))]
            return [texts.AGENT_BIND_WRONG]
        await attempt.right(forget=("user",))
        return [texts.AGENT_BOUND.format(name=agent.name, villages="、".join(agent.villages))]

    async def _agent_menu(self, message: Incoming, command: str,
                          state: ConversationState) -> list[str] | None:
        assert self._agents is not None
        agent = await self._agents.agent_of(message.user_id)
        if agent is None:
            return [texts.NOT_AN_AGENT] if command in AGENT_ONLY_WORDS else None
        self._clear_pending(state)
        state.awaiting, state.choices = "agent", [key for key, _ in MENU]
        options = "\n".join(f"{n}. {name}" for n, (_, name) in enumerate(MENU, 1))
        return [f"{texts.AGENT_MENU.format(name=agent.name)}\n{options}"]

    async def _agent_item(self, item: str, message: Incoming,
                          state: ConversationState) -> list[str]:
        """One item of the agent menu, for the villages the agent covers."""
        assert self._agents is not None
        agent = await self._agents.agent_of(message.user_id)
        self._clear_pending(state)
        if agent is None:  # stopped by a clerk since the menu was shown
            return [texts.NOT_AN_AGENT]
        if item == "apply":
            replies = self._ask_which_matter(Intent.APPLY, texts.AGENT_WHICH_MATTER, state)
            state.for_villager = True
            return replies
        listed = await self._agent_list(item, message.user_id, agent.villages)
        state.awaiting, state.choices = "agent", [key for key, _ in MENU]  # another number
        return [f"{listed}\n{texts.AGENT_MENU_AGAIN}"]

    async def _agent_list(self, item: str, user_id: str, villages: tuple[str, ...]) -> str:
        assert self._agents is not None
        if item == "visits":
            return await self._bookings_and_visits(user_id, villages)
        if item == "undelivered":
            found = await self._agents.undelivered(villages)
            lines = [f"{BULLET}{u.person}（{mask_phone(u.phone)}）{u.reference}：{u.notice.text}"
                     for u in found[:SHOWN]]
            return "\n".join([texts.AGENT_UNDELIVERED, *lines]) if lines \
                else texts.AGENT_NONE_UNDELIVERED
        waiting = item == "waiting"
        cases = await self._agents.village_cases(
            villages, statuses=(Status.NEEDS_MATERIALS.value,) if waiting else
            tuple(s.value for s in Status if not s.closed))
        return self._case_lines(cases, waiting)

    def _case_lines(self, cases: list[Case], waiting: bool) -> str:
        if not cases:
            return texts.AGENT_NONE_WAITING if waiting else texts.AGENT_NONE_OPEN
        lines = []
        for case in cases[:SHOWN]:
            matter = self._catalogue.get(case.matter_id)
            name = matter.short_name if matter else case.matter_id
            due = f"，{case.due_date.month}月{case.due_date.day}日前" if case.due_date else ""
            line = f"{BULLET}{case.applicant_name} {name} {case.receipt_no} " \
                   f"{Status(case.status).label}{due}"
            if waiting and case.changes:
                line += f"\n   还差：{'、'.join(case.changes[-1].missing)}"
            lines.append(line)
        more = [texts.AGENT_MORE.format(count=len(cases))] if len(cases) > SHOWN else []
        head = texts.AGENT_WAITING if waiting else texts.AGENT_OPEN
        return "\n".join([head, *lines, *more])

    async def _bookings_and_visits(self, user_id: str, villages: tuple[str, ...]) -> str:
        """The window times the agent booked (for villagers or not) and the villages' home
        visits not yet done."""
        assert self._agents is not None
        parts = [self._visit_lines(await self._agents.village_visits(villages))]
        if self._appointments is not None:
            booked = await booking_changes_flow.listing(self._appointments, user_id,
                                                        self._catalogue)
            if booked:
                lines = (f"{BULLET}{line}（{number}）" for number, line in booked)
                parts.insert(0, "\n".join([texts.AGENT_BOOKINGS, *lines]))
        return "\n\n".join(parts)

    @staticmethod
    def _visit_lines(visits: list[HomeVisit]) -> str:
        if not visits:
            return texts.AGENT_NONE_VISITS
        lines = []
        for visit in visits[:SHOWN]:
            half = visit_half(visit)
            when = f"已安排{half.label}" if half else "待安排"
            lines.append(f"{BULLET}{visit.person_name}（{visit.village}）{visit.purpose}：{when}")
        return "\n".join([texts.AGENT_VISITS, *lines])

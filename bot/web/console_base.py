"""Channel stage (staff): what every console page shares — the services it reaches, the
templates (China time through the `china` filter), and `page`: signed in, in a role, CSRF
checked, errors shown as pages.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import chinatime
from bot.agents.service import AgentService
from bot.appointments.home_visits import HomeVisitService
from bot.appointments.service import BookingService
from bot.cases.service import CaseService
from bot.cases.status import Status
from bot.catalogue.center import Center
from bot.catalogue.editing import CatalogueEditor
from bot.catalogue.model import Catalogue
from bot.console.accounts import Accounts, Who
from bot.dialogue.state import StateStore
from bot.handoff.replies import SavedReplies
from bot.handoff.service import ClaimedByOther, HandoffError, HandoffService
from bot.review.service import ReviewService
from bot.storage.files import FileStore
from bot.storage.tables import Handoff
from bot.web import console_words as words
from bot.web.bodies import BadBody, row_id
from bot.web.windows import (
    OtherWindow,
    matter_window,
    require,
)

COOKIE = "bm_console"
REASONS = {"asked": "要求人工", "menu": "菜单转人工", "complaint": "投诉",
           "not_understood": "机器人没听懂", "delete_my_data": "删除个人信息",
           "clerk": "工作人员发起"}
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
    finalize=chinatime.shown_if_time)  # a time printed without the filter is China time too
TEMPLATES.filters["china"] = chinatime.shown
TEMPLATES.filters.update(
    case_status=lambda code: Status(code).label, booking_status=words.BOOKING_WORDS.get,
    visit_status=words.VISIT_WORDS.get, action=lambda code: words.ACTION_WORDS.get(code, code),
    target=words.target_words, change=words.change_words,
    channel=lambda code: words.CHANNEL_WORDS.get(code, code),
    material_state=lambda code: words.MATERIAL_WORDS.get(code, code))


@dataclass
class ConsoleServices:
    accounts: Accounts
    handoffs: HandoffService
    cases: CaseService
    bookings: BookingService
    visits: HomeVisitService
    catalogue: Catalogue
    center: Center
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    publish: Callable[[], Awaitable[str]]  # validate the catalogue and retrain: a report
    conversations: StateStore  # a clerk taking up a villager's conversation
    files: FileStore  # the photos and voice messages villagers sent
    replies: SavedReplies  # each window's 常用回复
    review: ReviewService  # 「教机器人」: questions to review, training examples
    editor: CatalogueEditor  # admins' edits of matters, as revisions
    agents: AgentService  # village agents (代办员); the one instance, for other stages too

    def window_of(self, matter_id: str | None) -> str:
        return matter_window(self.bookings.rules, matter_id)

    def window_name(self, window_id: str) -> str:
        window = self.bookings.rules.window(window_id)
        return window.name if window else "综合窗口"

    def villages(self) -> list[str]:
        """The township's villages: those the home visits cover, as the dialogue offers
        them (bot/dialogue/runtime.py), each once."""
        return list(dict.fromkeys(self.bookings.rules.home_visit.villages()))


CONSOLE = web.AppKey("console", ConsoleServices)
Handler = Callable[[web.Request, Who], Awaitable[web.StreamResponse]]


def render(name: str, who: Who | None, status: int = 200, **context: Any) -> web.Response:
    html = TEMPLATES.get_template(name).render(who=who, **context)
    return web.Response(text=html, content_type="text/html", status=status)


def page(*roles: str) -> Callable[[Handler], Callable[[web.Request], Awaitable[Any]]]:
    """Signed in (else the login page, or 401), in one of `roles` (else 403), and for a POST
    the session's CSRF token (else 403)."""

    def decorate(handler: Handler) -> Callable[[web.Request], Awaitable[Any]]:
        async def checked(request: web.Request) -> web.StreamResponse:
            services = request.app[CONSOLE]
            who = await services.accounts.who(request.cookies.get(COOKIE, ""))
            if who is None:
                if request.method == "GET":
                    raise web.HTTPFound("/console/login")
                return web.Response(status=401, text="请先登录")
            if roles and who.role not in roles:
                return render("error.html", who, 403, message="您的角色不能做这件事")
            if request.method == "POST":
                form = await request.post()
                if not hmac.compare_digest(str(form.get("csrf", "")), who.csrf):
                    return render("error.html", who, 403, message="页面已过期，请刷新后再试")
            try:
                return await handler(request, who)
            except BadBody as bad:
                return render("error.html", who, 400, message=f"填写的内容不对：{bad}")
            except OtherWindow as other:
                return render("error.html", who, 403, message=str(other))

        return checked

    return decorate


def matter_name(services: ConsoleServices, matter_id: str | None) -> str:
    """The matter's short name, or its id where the catalogue no longer has it."""
    matter = services.catalogue.get(matter_id or "")
    return matter.short_name if matter else (matter_id or "")


async def handoff_for(request: web.Request, who: Who) -> Handoff:
    """The handoff of the URL, if `who`'s windows have it (else 404 or 403)."""
    services = request.app[CONSOLE]
    handoff_id = row_id(request.match_info["handoff_id"])
    try:
        handoff = await services.handoffs.get(handoff_id) if handoff_id else None
    except HandoffError:
        handoff = None
    if handoff is None:
        raise web.HTTPNotFound(text="没有这个人工服务")
    require(who, handoff.window, "人工服务")
    return handoff


async def refusal(services: ConsoleServices, refused: HandoffError) -> str:
    """A handoff's refusal in words, naming a colleague by name, not login."""
    if isinstance(refused, ClaimedByOther):
        names = await services.accounts.names()
        return f"已由 {names.get(refused.clerk, refused.clerk)} 接手"
    return str(refused)

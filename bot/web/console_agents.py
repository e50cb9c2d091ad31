"""Channel stage (staff): village agents (代办员) and what waits in each village.

    /console/agents                      代办员: the list; supervisors, directors and admins
                                         register one (its binding code shown once), give a
                                         new code, stop or restore one; clerks read
    /console/villages                    村里待送达: each village of the township — notices
                                         that reached nobody, open cases, home visits, agents
    /console/villages/{village}/print    the A4 sheet an agent carries by hand: full phone
                                         numbers, so printing it is audited

The rules (codes, binding, what counts as undelivered) are AgentService's
(bot/agents/service.py); this reads forms and lays out pages. As everywhere in the console,
a clerk sees their own window's work (and the general desk's) and no other.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import chinatime
from bot.agents.service import CARRY_WITHIN, CODE_VALID, AgentError, Undelivered
from bot.appointments.home_visits import visit_half
from bot.cases.identity import mask_phone
from bot.cases.status import Status
from bot.console.accounts import Who
from bot.storage import keys
from bot.storage.tables import Agent, Case, HomeVisit
from bot.web.bodies import NUL_REFUSED, row_id
from bot.web.console_base import CONSOLE, ConsoleServices, matter_name, page, render
from bot.web.console_desk import FORM_NONCE
from bot.web.console_print import chinese_day, owed
from bot.web.windows import visit_window

MANAGERS = ("supervisor", "director", "admin")  # register and change agents; clerks read
BIND_WORDS = "请代办员关注公众号后发送：绑定 {code}（{days}天内有效）"
SENT_TWICE = "这张表已经提交过了，代办员已登记。绑定码只显示一次，需要时请点「重新生成绑定码」。"
FORM_KEPT = 24 * 3600  # seconds a sent form's nonce is remembered (a reload, a double click)


# --- 代办员 ---------------------------------------------------------------------------------


def _agent_row(agent: Agent, services: ConsoleServices) -> dict[str, Any]:
    expires = agent.code_expires_at
    return {"id": agent.id, "name": agent.name, "phone": mask_phone(agent.phone),
            "villages": "、".join(agent.villages), "active": agent.active,
            "bound_at": agent.bound_at if agent.user_id else None,
            "code_until": expires if expires and expires > services.bookings.now() else None}


async def _agents_page(request: web.Request, who: Who, status: int = 200, *, error: str = "",
                       typed: dict[str, Any] | None = None,
                       code: tuple[Agent, str] | None = None) -> web.Response:
    """The list and the form (`typed`: what was sent, kept); `code`: an agent's new binding
    code, shown this once — it is kept nowhere but as a hash."""
    services = request.app[CONSOLE]
    agents = await services.agents.listing()
    return render(
        "agents.html", who, status, agents=[_agent_row(a, services) for a in agents],
        villages=services.villages(), manages=who.role in MANAGERS, error=error,
        typed=typed or {"villages": []}, nonce=secrets.token_urlsafe(16),
        code={"name": code[0].name, "code": code[1],
              "words": BIND_WORDS.format(code=code[1], days=CODE_VALID.days)} if code else None)


def _audited(agent: Agent) -> dict[str, Any]:
    """An agent as the audit log keeps them: the phone masked, as in lists."""
    return {"name": agent.name, "phone": mask_phone(agent.phone),
            "villages": "、".join(agent.villages)}


@page()
async def agents_page(request: web.Request, who: Who) -> web.Response:
    return await _agents_page(request, who)


@page(*MANAGERS)
async def register(request: web.Request, who: Who) -> web.Response:
    """A new agent from the form; its binding code on the page that answers, once."""
    services = request.app[CONSOLE]
    form = await request.post()
    name, phone = str(form.get("name", "")), str(form.get("phone", ""))
    township = services.villages()
    # a village typed into the form that is not the township's is not taken
    picked = [v for v in map(str, form.getall("village", [])) if v in township]
    typed = {"name": name, "phone": phone, "villages": picked}
    if "\x00" in name + phone:
        return await _agents_page(request, who, 400, error=NUL_REFUSED, typed=typed)
    nonce = str(form.get("nonce", ""))
    if not FORM_NONCE.fullmatch(nonce):
        return await _agents_page(request, who, 400, error="页面已过期，请刷新后再试",
                                  typed=typed)
    # one form, one agent: a double click or a reload of the answer registers nobody twice
    if not await services.redis.set(keys.console_form(nonce), who.username, nx=True,
                                    ex=FORM_KEPT):
        return await _agents_page(request, who, 409, error=SENT_TWICE)
    try:
        agent, code = await services.agents.register(name, phone, picked, who.username)
    except AgentError as refused:
        await services.redis.delete(keys.console_form(nonce))  # corrected, it may go again
        return await _agents_page(request, who, 400, error=str(refused), typed=typed)
    await services.accounts.audit(who.username, "agent.add", f"agent:{agent.id}", None,
                                  _audited(agent))
    return await _agents_page(request, who, code=(agent, code))


async def _agent_for(request: web.Request) -> Agent:
    agent_id = row_id(request.match_info["agent_id"])
    try:
        if agent_id is not None:
            return await request.app[CONSOLE].agents.get(agent_id)
    except AgentError:
        pass
    raise web.HTTPNotFound(text="没有这个代办员")


@page(*MANAGERS)
async def new_code(request: web.Request, who: Who) -> web.Response:
    """「重新生成绑定码」: a lost code, or another phone; the old code stops working."""
    services = request.app[CONSOLE]
    agent = await _agent_for(request)
    if not agent.active:
        return await _agents_page(request, who, 409,
                                  error=f"{agent.name}已停用，先启用才能生成绑定码")
    code = await services.agents.new_code(agent.id)
    await services.accounts.audit(who.username, "agent.code", f"agent:{agent.id}")
    return await _agents_page(request, who, code=(agent, code))


@page(*MANAGERS)
async def set_active(request: web.Request, who: Who) -> web.Response:
    """「停用」 (the agent is unbound and files nothing more) or 「启用」 (a new code binds
    them again)."""
    services = request.app[CONSOLE]
    agent = await _agent_for(request)
    active = str((await request.post()).get("active", "")) == "1"
    await services.agents.set_active(agent.id, active)
    await services.accounts.audit(who.username, "agent.enable" if active else "agent.disable",
                                  f"agent:{agent.id}", {"active": agent.active},
                                  {"active": active})
    raise web.HTTPFound("/console/agents")


# --- 村里待送达 -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VillageWork:
    """What waits in one village, of the windows the clerk sees."""

    village: str
    undelivered: list[Undelivered]
    cases: list[Case]
    visits: list[HomeVisit]


async def _work(services: ConsoleServices, who: Who, villages: list[str]) -> list[VillageWork]:
    """Each village's failed notices (recent ones: bot/agents CARRY_WITHIN), open cases and
    home visits, each kept only where `who` sees its window."""
    failed = [u for u in await services.agents.undelivered(villages)
              if who.sees(services.window_of(u.matter_id))]
    work = []
    for village in villages:  # a few villages: a query each keeps every list's own limit
        cases = [c for c in await services.agents.village_cases([village])
                 if who.sees(services.window_of(c.matter_id))]
        visits = [v for v in await services.agents.village_visits([village])
                  if who.sees(visit_window(services.bookings.rules, v))]
        work.append(VillageWork(village, [u for u in failed if u.village == village],
                                cases, visits))
    return work


def _when(visit: HomeVisit) -> str:
    half = visit_half(visit)
    return half.label if half else "待安排"


def _notice_row(item: Undelivered, phone: str) -> dict[str, Any]:
    return {"person": item.person, "phone": phone, "reference": item.reference,
            "text": item.notice.text,
            "day": chinese_day(chinatime.day_of(item.notice.created_at))}


@page()
async def villages_page(request: web.Request, who: Who) -> web.Response:
    """村里待送达: every village of the township, phones masked as in every list."""
    services = request.app[CONSOLE]
    agents = [a for a in await services.agents.listing() if a.active]
    rows = [{"village": w.village,
             "agents": "、".join(a.name for a in agents if w.village in a.villages),
             "undelivered": [_notice_row(u, mask_phone(u.phone)) for u in w.undelivered],
             "cases": [{"receipt": c.receipt_no, "person": c.applicant_name,
                        "matter": matter_name(services, c.matter_id),
                        "status": Status(c.status).label, "owed": "、".join(owed(c)),
                        "due": c.due_date} for c in w.cases],
             "visits": [{"number": v.visit_no, "person": v.person_name,
                         "purpose": v.purpose, "when": _when(v)} for v in w.visits]}
            for w in await _work(services, who, services.villages())]
    return render("villages.html", who, villages=rows, days=CARRY_WITHIN.days)


@page()
async def village_sheet(request: web.Request, who: Who) -> web.Response:
    """The sheet an agent carries round one village: whom to tell what by hand, what each
    case in 待补正 lacks, the home visits; printed with full phone numbers, so audited."""
    services = request.app[CONSOLE]
    village = request.match_info["village"]
    if village not in services.villages():
        raise web.HTTPNotFound(text="本镇没有这个村（社区）")
    [work] = await _work(services, who, [village])
    agent = await services.agents.agent_for_village(village)
    await services.accounts.audit(who.username, "village.print", f"village:{village}")
    return render(
        "village_sheet.html", who, village=village, agent=agent.name if agent else "",
        printed=chinese_day(services.bookings.today()), center=services.center,
        undelivered=[_notice_row(u, u.phone) for u in work.undelivered],
        owing=[{"receipt": c.receipt_no, "person": c.applicant_name, "phone": c.phone,
                "matter": matter_name(services, c.matter_id), "owed": "、".join(owed(c))}
               for c in work.cases if Status(c.status) is Status.NEEDS_MATERIALS],
        visits=[{"number": v.visit_no, "person": v.person_name, "phone": v.phone,
                 "address": v.address, "purpose": v.purpose, "when": _when(v)}
                for v in work.visits])


def setup_agent_routes(app: web.Application) -> None:
    add = app.router
    add.add_get("/console/agents", agents_page)
    add.add_post("/console/agents", register)
    add.add_post("/console/agents/{agent_id}/code", new_code)
    add.add_post("/console/agents/{agent_id}/active", set_active)
    add.add_get("/console/villages", villages_page)
    add.add_get("/console/villages/{village}/print", village_sheet)

"""Channel stage (staff): 「教机器人」 — the questions the bot did not answer and the training
examples clerks make of them; and the admins' forms editing a matter, with its history.

    /console/review                        grouped questions (?sort=count|new, ?page=N),
                                           examples pending and approved
    /console/review/{question_id}/teach    a clerk attaches matter and intent
    /console/review/examples/{example_id}  an admin approves or rejects (decision=…)
    /console/catalogue/{matter_id}/edit    an admin edits a matter; its history
    /console/catalogue/{matter_id}/restore 「恢复此版本」

The review service (bot/review/service.py) and the catalogue editor
(bot/catalogue/editing.py) decide; here the forms are read and the pages drawn, and every
step is audited (an edit with the fields before and after).
"""

from __future__ import annotations

from aiohttp import web

from bot.catalogue.editing import FORM_KEYS, EditRefused, form_of
from bot.catalogue.model import Matter
from bot.console.accounts import Who
from bot.review.service import ExampleStatus, Order, ReviewError
from bot.storage.tables import TrainingExample
from bot.web.bodies import row_id
from bot.web.console_base import CONSOLE, matter_name, page, render
from bot.web.console_words import EXAMPLE_WORDS, INTENT_WORDS, REVIEW_WORDS

MAX_PAGE = 10_000


def _page_number(raw: str) -> int:
    return int(raw) if raw.isascii() and raw.isdecimal() and 0 < int(raw) <= MAX_PAGE else 1


@page("clerk", "supervisor", "admin")
async def review_page(request: web.Request, who: Who) -> web.Response:
    services = request.app[CONSOLE]
    order = Order.NEWEST if request.query.get("sort") == Order.NEWEST else Order.MOST
    number = _page_number(request.query.get("page", "1"))
    questions, pages = await services.review.questions(order, number)

    def example_row(example: TrainingExample) -> dict[str, object]:
        return {"id": example.id, "text": example.text,
                "intent": INTENT_WORDS.get(example.intent, "—"),
                "matter": matter_name(services, example.matter_id) or "不涉及具体事项",
                "status": EXAMPLE_WORDS[example.status], "by": example.proposed_by}

    names = await services.accounts.names()
    return render(
        "review.html", who, order=order, number=number, pages=pages,
        questions=[{"id": q.id, "text": q.text, "reason": REVIEW_WORDS.get(q.reason, "没答上"),
                    "count": q.count, "last_seen": q.last_seen} for q in questions],
        pending=[example_row(e) for e in await services.review.examples(ExampleStatus.PENDING)],
        approved=[example_row(e) for e in await services.review.examples(
            ExampleStatus.APPROVED, limit=20)],
        names=names, intents=list(INTENT_WORDS.items()),
        matters=sorted(((m.id, m.name) for m in services.catalogue), key=lambda m: m[1]))


@page("clerk", "supervisor", "admin")
async def teach(request: web.Request, who: Who) -> web.Response:
    """The question becomes a training example, pending an admin's approval."""
    services = request.app[CONSOLE]
    question_id = row_id(request.match_info["question_id"])
    form = await request.post()
    intent, matter = str(form.get("intent", "")), str(form.get("matter", "")) or None
    try:
        if question_id is None:
            raise ReviewError("没有这个问题")
        example = await services.review.propose(
            question_id, intent, matter, who.username, frozenset(m.id for m in services.catalogue))
    except ReviewError as refused:
        return render("error.html", who, 409, message=str(refused))
    await services.accounts.audit(who.username, "review.teach", f"question:{question_id}", None,
                                  {"text": example.text, "intent": intent,
                                   "matter": matter_name(services, matter) or "—"})
    raise web.HTTPFound("/console/review")


@page("admin")
async def decide(request: web.Request, who: Who) -> web.Response:
    """An admin approves (the next 「发布更新」 trains on it) or rejects an example."""
    services = request.app[CONSOLE]
    example_id = row_id(request.match_info["example_id"])
    decision = str((await request.post()).get("decision", ""))
    if decision not in ("approve", "reject"):
        return render("error.html", who, 400, message="请点「采用」或「不采用」")
    try:
        if example_id is None:
            raise ReviewError("没有这条例句")
        example = await services.review.decide(example_id, decision == "approve", who.username)
    except ReviewError as refused:
        return render("error.html", who, 409, message=str(refused))
    await services.accounts.audit(who.username, f"review.{decision}", f"example:{example.id}",
                                  {"status": ExampleStatus.PENDING},
                                  {"status": example.status, "text": example.text})
    raise web.HTTPFound("/console/review")


def setup_routes(app: web.Application) -> None:
    add = app.router
    add.add_get("/console/review", review_page)
    add.add_post("/console/review/{question_id}/teach", teach)
    add.add_post("/console/review/examples/{example_id}", decide)
    add.add_get("/console/catalogue/{matter_id}/edit", edit_page)
    add.add_post("/console/catalogue/{matter_id}/edit", save_matter)
    add.add_post("/console/catalogue/{matter_id}/restore", restore_matter)


# --- an admin edits a matter --------------------------------------------------------------


def _matter(request: web.Request) -> Matter:
    matter = request.app[CONSOLE].catalogue.get(request.match_info["matter_id"])
    if matter is None:
        raise web.HTTPNotFound(text="没有这个事项")
    return matter


async def _edit_form(request: web.Request, who: Who, matter: Matter, status: int = 200, *,
                     form: dict[str, str] | None = None, base: int | None = None,
                     problems: list[str] | None = None) -> web.Response:
    """The edit page: the matter's fields now (or what the admin typed, with what is
    wrong with it), and its history."""
    editor = request.app[CONSOLE].editor
    fields, now = await editor.current(matter.id)
    history = await editor.revisions.history(matter.id)
    return render("matter_edit.html", who, status, matter=matter,
                  form=form if form is not None else form_of(fields),
                  base=now if base is None else base, problems=problems or [],
                  history=history, current=now, names=await request.app[CONSOLE].accounts.names(),
                  saved=request.query.get("saved") == "1")


@page("admin")
async def edit_page(request: web.Request, who: Who) -> web.Response:
    return await _edit_form(request, who, _matter(request))


@page("admin")
async def save_matter(request: web.Request, who: Who) -> web.Response:
    """Saved as a new revision when `bot catalog check` would pass it; else the form again,
    as typed, with what is wrong."""
    services, matter = request.app[CONSOLE], _matter(request)
    posted = await request.post()
    form = {key: str(posted.get(key, "")) for key in FORM_KEYS}
    base = row_id(str(posted.get("base", ""))) or 0
    try:
        saved = await services.editor.save(matter.id, form, who.username, base)
    except EditRefused as refused:
        return await _edit_form(request, who, matter, 400, form=form, base=base,
                                problems=refused.problems)
    await services.accounts.audit(who.username, "matter.edit", f"matter:{matter.id}",
                                  saved.before, {**saved.after, "revision": saved.revision})
    raise web.HTTPFound(f"/console/catalogue/{matter.id}/edit?saved=1")


@page("admin")
async def restore_matter(request: web.Request, who: Who) -> web.Response:
    """「恢复此版本」: an older revision (0: the file's) becomes the newest."""
    services, matter = request.app[CONSOLE], _matter(request)
    posted = await request.post()
    raw, raw_base = str(posted.get("revision", "")), str(posted.get("base", ""))
    revision = 0 if raw == "0" else row_id(raw)
    base = 0 if raw_base == "0" else row_id(raw_base)
    try:
        if revision is None or base is None:
            raise EditRefused(["没有这个版本"])
        saved = await services.editor.restore(matter.id, revision, who.username, base)
    except EditRefused as refused:
        return await _edit_form(request, who, matter, 409, problems=refused.problems)
    await services.accounts.audit(who.username, "matter.restore", f"matter:{matter.id}",
                                  saved.before, {**saved.after, "revision": saved.revision})
    raise web.HTTPFound(f"/console/catalogue/{matter.id}/edit?saved=1")

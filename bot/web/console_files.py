"""Channel stage (staff): the photos and voice messages villagers sent, for the clerks who
may see them — a file is reached only through a case or a handoff of the clerk's windows
that holds it, and every view is written to the audit log.

    /console/cases/{receipt}/files/{file_id}         a material's photo (or PDF)
    /console/handoffs/{handoff_id}/files/{file_id}   a photo or voice message of the chat
    …/files/{file_id}?size=small                     a photo's thumbnail
    …/files/{file_id}/view                           a photo full size, to turn and read

Voice comes from WeChat as AMR, which browsers do not play: it is sent as WAV.
"""

from __future__ import annotations

from aiohttp import web

from bot.console.accounts import Who
from bot.storage.files import UploadRefused
from bot.storage.thumbnails import thumbnail
from bot.web.bodies import row_id
from bot.web.console_base import CONSOLE, handoff_for, page, render
from bot.web.console_work import case_for
from integrations import audio
from integrations.errors import IntegrationError


@page()
async def case_file(request: web.Request, who: Who) -> web.StreamResponse:
    case = await case_for(request, who)
    held = {m.file_id for m in case.materials if m.file_id}
    return await _send(request, who, held, f"case:{case.receipt_no}")


@page()
async def handoff_file(request: web.Request, who: Who) -> web.StreamResponse:
    handoff = await handoff_for(request, who)
    messages = await request.app[CONSOLE].handoffs.messages(handoff.id)
    held = {int(line["file_id"]) for line in handoff.transcript
            if str(line.get("file_id", "")).isdigit()}
    held |= {m.file_id for m in messages if m.file_id}
    return await _send(request, who, held, f"handoff:{handoff.id}")


async def _send(request: web.Request, who: Who, held: set[int],
                target: str) -> web.StreamResponse:
    """The file, if the case or handoff `target` holds it: in full, its view audited; as a
    thumbnail (?size=small, photos only), shown with the page it is on; or (/view) a page
    to look at a photo full size and turn it."""
    services = request.app[CONSOLE]
    file_id = row_id(request.match_info["file_id"])
    stored = await services.cases.stored_file(file_id) if file_id in held else None
    if stored is None:
        raise web.HTTPNotFound(text="没有这个文件")
    if request.path.endswith("/view"):
        return render("photo.html", who, src=request.path.removesuffix("/view"),
                      back=request.path.split("/files/")[0])
    small = request.query.get("size") == "small"
    try:
        content = await services.files.load(stored.location)
        content_type = stored.content_type
        if small:
            content, content_type = await thumbnail(content) or b"", "image/jpeg"
        elif content_type.startswith("audio/") and content_type not in audio.PLAYABLE:
            content, content_type = await audio.playable(content), "audio/wav"
    except (UploadRefused, IntegrationError):
        raise web.HTTPGone(text="文件已损坏或已过保存期限") from None
    if not content:
        raise web.HTTPNotFound(text="这个文件没有缩略图")
    if not small:
        await services.accounts.audit(who.username, "file.view", target, None,
                                      {"file": file_id})
    # private: a shared cache or the browser's disk must not keep an ID card's photo
    return web.Response(body=content, content_type=content_type, headers={
        "Cache-Control": "private, max-age=600" if small else "private, no-store"})

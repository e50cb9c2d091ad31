"""Issue #15: the photos and voice messages villagers sent, opened by the clerks who may see
them — through a case or a handoff of their windows, every view in the audit log."""

import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from bot.storage.tables import AuditEntry, Handoff, StoredFile
from bot.web.console_base import CONSOLE
from tests import test_console
from tests.media import paper_photo, photo_jpeg, voice_amr
from tests.test_apply import JPEG, Phone, fill_in_applicant
from tests.test_console_desk import asks_for_a_person, signed_in

app_client, clock = test_console.app_client, test_console.clock  # the console's fixtures


async def fetch(clerk, path, status=200):
    async with clerk.session.get(clerk.server.make_url(path), allow_redirects=False) as r:
        assert r.status == status, (path, r.status)
        return r.headers.get("Content-Type", ""), r.headers.get("Cache-Control", ""), \
            await r.read()


async def test_a_clerk_opens_the_photo_and_voice_a_villager_sent(app_client, sessions):
    amr, photo_bytes = voice_amr(), photo_jpeg()
    villager = Phone(app_client, "o_media")
    assert "收到您发的图片" in await villager.sends_photo(photo_bytes)  # before the handoff
    await villager.says("我想问低保的事")
    await villager.says("转人工")
    await villager.sends_voice(amr, recognition="我娘的低保卡丢了")
    await villager.sends_voice(amr)  # WeChat heard nothing: the clerk still can
    async with sessions() as session:
        handoff = await session.scalar(select(Handoff))
        files = list(await session.scalars(select(StoredFile).order_by(StoredFile.id)))
    assert [f.content_type for f in files] == ["image/jpeg", "audio/amr", "audio/amr"]
    assert len({f.media_id for f in files}) == 3  # each downloaded once

    li, zhou = await signed_in(app_client, "li", "zhou")
    try:
        page = await li.get(f"/console/handoffs/{handoff.id}")
        photo, voice, unheard = (f"/console/handoffs/{handoff.id}/files/{f.id}" for f in files)
        assert f'<a href="{photo}/view"' in page and "旋转" in page
        assert f'<img src="{photo}?size=small" class="thumb"' in page
        assert f'<audio controls preload="none" src="{voice}">' in page
        assert "听写：我娘的低保卡丢了" in page and "（没有听写）" in page
        content_type, cache, content = await fetch(li, f"{photo}?size=small")
        assert content_type == "image/jpeg" and "max-age" in cache  # shown with the page
        assert Image.open(io.BytesIO(content)).size == (240, 180)
        content_type, cache, content = await fetch(li, photo)  # opened: that is audited
        assert (content_type, content) == ("image/jpeg", photo_bytes) and "no-store" in cache
        assert 'id="photo"' in (await fetch(li, f"{photo}/view"))[2].decode()
        content_type, _, content = await fetch(li, unheard)
        assert content_type == "audio/wav" and content.startswith(b"RIFF")  # playable
        # another window's clerk, a file of another conversation, no file at all
        await fetch(zhou, photo, 403)
        await fetch(li, f"/console/handoffs/{handoff.id}/files/999", 404)
        await fetch(li, f"/console/handoffs/{handoff.id}/files/x", 404)
    finally:
        await li.close()
        await zhou.close()
    async with sessions() as session:
        views = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "file.view").order_by(AuditEntry.id)))
    assert [(v.actor, v.target, v.after) for v in views] == [
        ("li", f"handoff:{handoff.id}", {"file": files[0].id}),
        ("li", f"handoff:{handoff.id}", {"file": files[2].id})]


async def test_a_materials_photo_opens_from_its_case_for_its_window_only(app_client, sessions):
    villager = Phone(app_client, "o_case_photo")
    await fill_in_applicant(villager)
    answer = await villager.sends_photo()
    assert "收到" in answer
    reply = answer
    while "受理编号：" not in reply:
        reply = await villager.says("1")
    receipt = reply.split("受理编号：")[1].split("\n")[0]
    handoff = await asks_for_a_person(app_client, sessions, "o_other")
    await Phone(app_client, "o_other").sends_photo(JPEG + b"another")
    async with sessions() as session:
        first, second = list(await session.scalars(select(StoredFile).order_by(StoredFile.id)))
    li, zhou = await signed_in(app_client, "li", "zhou")
    try:
        page = await li.get(f"/console/cases/{receipt}")
        path = f"/console/cases/{receipt}/files/{first.id}"
        assert re.search(rf'<div class="material">[^<]*已拍照 .*<img src="{path}\?size=small"',
                         page, re.S)
        assert (await fetch(li, path))[2] == JPEG
        await fetch(zhou, path, 403)
        # a file is opened only through a case or handoff that holds it
        await fetch(li, f"/console/cases/{receipt}/files/{second.id}", 404)
        await fetch(li, f"/console/handoffs/{handoff.id}/files/{first.id}", 404)
    finally:
        await li.close()
        await zhou.close()


async def test_a_photo_kept_despite_its_hint_is_noted_for_the_clerk(app_client):
    villager = Phone(app_client, "o_kept_anyway")
    await fill_in_applicant(villager)
    assert "1 重拍 2 就用这张" in await villager.sends_photo(paper_photo("blurred").content)
    reply = await villager.says("2")
    while "受理编号：" not in reply:
        reply = await villager.says("1")
    [li] = await signed_in(app_client, "li")
    try:
        page = await li.get(f"/console/cases/{reply.split('受理编号：')[1].split()[0]}")
    finally:
        await li.close()
    assert "（照片模糊：村民看过重拍提示，仍用了这张）" in page


async def test_chat_photos_go_after_the_transcripts_keeping_but_a_cases_photo_stays(
        app_client, sessions, clock):
    services = app_client.server.app[CONSOLE]
    villager = Phone(app_client, "o_kept")
    await fill_in_applicant(villager)
    reply = await villager.sends_photo(JPEG)  # a material of the application
    while "受理编号：" not in reply:
        reply = await villager.says("1")
    handoff = await asks_for_a_person(app_client, sessions, "o_chat")
    await Phone(app_client, "o_chat").sends_photo(JPEG + b"in the chat")
    async with sessions() as session:
        on_case, in_chat = list(await session.scalars(select(StoredFile).order_by(StoredFile.id)))
    clock.now += timedelta(days=31)
    assert await services.cases.purge_chat_files(30, services.files) == 1
    async with sessions() as session:
        assert [f.id for f in await session.scalars(select(StoredFile))] == [on_case.id]
    assert await services.files.load(on_case.location) == JPEG
    [li] = await signed_in(app_client, "li")
    try:
        page = await li.get(f"/console/handoffs/{handoff.id}")
        await fetch(li, f"/console/handoffs/{handoff.id}/files/{in_chat.id}", 404)
    finally:
        await li.close()
    assert "[图片]" in page and f"/files/{in_chat.id}" not in page

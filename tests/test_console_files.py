"""Issue #15: the photos and voice messages villagers sent, opened by the clerks who may see
them — through a case or a handoff of their windows, every view in the audit log."""

import re
import subprocess

import imageio_ffmpeg
import pytest
from sqlalchemy import select

from bot.storage.tables import AuditEntry, Handoff, StoredFile
from tests import test_console
from tests.test_apply import JPEG, Phone, fill_in_applicant
from tests.test_console_desk import asks_for_a_person, signed_in

app_client, clock = test_console.app_client, test_console.clock  # the console's fixtures


@pytest.fixture(scope="module")
def amr() -> bytes:
    """Two seconds of AMR, as WeChat sends a voice message."""
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
         "-i", "sine=frequency=440:duration=2", "-ar", "8000", "-ac", "1",
         "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr", "pipe:1"],
        capture_output=True, check=True).stdout


async def fetch(clerk, path, status=200):
    async with clerk.session.get(clerk.server.make_url(path), allow_redirects=False) as r:
        assert r.status == status, (path, r.status)
        return r.headers.get("Content-Type", ""), r.headers.get("Cache-Control", ""), \
            await r.read()


async def test_a_clerk_opens_the_photo_and_voice_a_villager_sent(app_client, sessions, amr):
    villager = Phone(app_client, "o_media")
    assert "收到您发的图片" in await villager.sends_photo()  # before asking for a person
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
        assert f'<img src="{photo}" class="thumb"' in page and "旋转" in page
        assert f'<audio controls preload="none" src="{voice}">' in page
        assert "听写：我娘的低保卡丢了" in page and "（没有听写）" in page
        content_type, cache, content = await fetch(li, photo)
        assert (content_type, content) == ("image/jpeg", JPEG) and "no-store" in cache
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
        assert re.search(rf'<div class="material">[^<]*已拍照 .*<img src="{path}"', page, re.S)
        assert (await fetch(li, path))[2] == JPEG
        await fetch(zhou, path, 403)
        # a file is opened only through a case or handoff that holds it
        await fetch(li, f"/console/cases/{receipt}/files/{second.id}", 404)
        await fetch(li, f"/console/handoffs/{handoff.id}/files/{first.id}", 404)
    finally:
        await li.close()
        await zhou.close()

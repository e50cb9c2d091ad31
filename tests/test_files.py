"""Uploaded photos: checked by their bytes, kept once, read back only if intact."""

import pytest

from bot.storage.files import MAX_UPLOAD_BYTES, VOICE, LocalFileStore, UploadRefused

JPEG = b"\xff\xd8\xff\xe0" + b"photo" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def test_a_photo_is_kept_with_its_checksum(tmp_path):
    store = LocalFileStore(tmp_path)
    saved = await store.save(JPEG)
    assert (saved.content_type, saved.size) == ("image/jpeg", len(JPEG))
    assert await store.load(saved.location) == JPEG
    assert (await store.save(JPEG)).location == saved.location  # the same photo is one file


@pytest.mark.parametrize(("content", "words"), [
    (b"", "空"),
    (b"MZ\x90\x00 not a photo", "只能收照片"),
    (b"\xff\xd8\xff" + b"\x00" * MAX_UPLOAD_BYTES, "太大"),
])
async def test_bad_uploads_are_refused_in_plain_words(tmp_path, content, words):
    with pytest.raises(UploadRefused, match=words):
        await LocalFileStore(tmp_path).save(content)


async def test_a_damaged_file_is_noticed(tmp_path):
    store = LocalFileStore(tmp_path)
    saved = await store.save(PNG)
    (tmp_path / saved.location).write_bytes(PNG + b"tampered")
    with pytest.raises(UploadRefused, match="损坏"):
        await store.load(saved.location)
    with pytest.raises(UploadRefused):
        await store.load("../../etc/passwd")


async def test_a_voice_message_is_kept_as_voice_and_never_as_a_paper(tmp_path):
    amr = b"#!AMR\n" + b"\x3c" * 300
    store = LocalFileStore(tmp_path)
    assert (await store.save(amr, VOICE)).content_type == "audio/amr"
    with pytest.raises(UploadRefused, match="只能收照片"):
        await store.save(amr)  # a material's photo cannot be a sound
    with pytest.raises(UploadRefused, match="认不出来"):
        await store.save(JPEG, VOICE)

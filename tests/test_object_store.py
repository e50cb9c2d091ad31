"""Uploads in an S3-compatible object store, against moto's S3 server (the real S3 API)."""

import pytest
from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer

from bot.nlu.runtime import free_port
from bot.storage.files import ObjectFileStore, UploadRefused
from integrations.errors import IntegrationError
from integrations.object_store import S3ObjectStore

JPEG = b"\xff\xd8\xff\xe0" + b"a photo of an ID card" * 50
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test",
               "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def store(s3_endpoint):
    async with get_session().create_client("s3", endpoint_url=s3_endpoint,
                                           **CREDENTIALS) as client:
        await client.create_bucket(Bucket="uploads")
    async with S3ObjectStore("uploads", "center-1", s3_endpoint, "test", "test") as objects:
        yield ObjectFileStore(objects), s3_endpoint


async def test_a_photo_goes_to_the_bucket_under_its_checksum(store):
    files, _ = store
    saved = await files.save(JPEG)
    assert saved.content_type == "image/jpeg"
    assert saved.location.startswith("center-1/") and saved.location.endswith(saved.sha256)
    assert await files.load(saved.location) == JPEG


async def test_a_damaged_or_missing_object_is_noticed(store):
    files, endpoint = store
    saved = await files.save(JPEG)
    async with get_session().create_client("s3", endpoint_url=endpoint,
                                           **CREDENTIALS) as client:
        await client.put_object(Bucket="uploads", Key=saved.location, Body=b"tampered")
    with pytest.raises(UploadRefused, match="损坏"):
        await files.load(saved.location)
    with pytest.raises(IntegrationError):
        await files.load("center-1/00/" + "0" * 64)


async def test_non_images_never_reach_the_bucket(store):
    files, _ = store
    with pytest.raises(UploadRefused, match="只能收照片"):
        await files.save(b"MZ not a photo")


async def test_a_photo_past_its_retention_is_deleted_from_the_bucket(store):
    files, _ = store
    saved = await files.save(JPEG)
    await files.delete(saved.location)
    with pytest.raises(IntegrationError):
        await files.load(saved.location)
    await files.delete(saved.location)  # already gone: nothing to complain about

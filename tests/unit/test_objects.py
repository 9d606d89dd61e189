"""The local-disk object store: multipart uploads, their checks, and keys that stay inside."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oimws.objects import (
    LocalDiskObjectStore,
    PartRejected,
    UploadNotFound,
    UploadPlan,
    combined_hash,
    key_for,
    new_upload_id,
    safe_file_name,
)
from oimws.util.clock import now_ms


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


async def chunks_of(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def plan_for(data: bytes, part_size: int, name: str = "a.png", *,
             expires_in_ms: int = 60_000) -> tuple[UploadPlan, list[bytes]]:
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    upload_id = new_upload_id()
    plan = UploadPlan(upload_id=upload_id, key=key_for(upload_id, name), owner_id="alice",
                      size=len(data), part_size=part_size, content_type="image/png",
                      content_hash=combined_hash([md5(p) for p in parts]),
                      expires_at_ms=now_ms() + expires_in_ms)
    return plan, parts


@pytest.fixture
def store(tmp_path: Path) -> LocalDiskObjectStore:
    return LocalDiskObjectStore(tmp_path / "objects")


async def upload_parts(store: LocalDiskObjectStore, plan: UploadPlan, parts: list[bytes],
                       order: list[int] | None = None) -> list[str]:
    await store.create_upload(plan)
    hashes = {}
    for index in order or range(len(parts)):
        hashes[index] = await store.write_part(plan, index + 1, chunks_of(parts[index]))
    return [hashes[i] for i in range(len(parts))]


async def test_parts_in_any_order_make_the_object(store: LocalDiskObjectStore):
    data = os.urandom(10_500)
    plan, parts = plan_for(data, 4096)
    hashes = await upload_parts(store, plan, parts, order=[2, 0, 1])
    assert hashes == [md5(p) for p in parts]
    info = await store.complete_upload(plan, hashes)
    assert (info.key, info.size, info.content_type) == (plan.key, len(data), "image/png")
    location = await store.locate(plan.key)
    assert location is not None and location.path is not None
    assert location.path.read_bytes() == data
    assert await store.get_upload(plan.upload_id) is None  # the upload is gone


async def test_a_part_of_the_wrong_length_is_refused_and_not_kept(store: LocalDiskObjectStore):
    plan, parts = plan_for(os.urandom(9000), 4096)
    await store.create_upload(plan)
    with pytest.raises(PartRejected, match="longer"):
        await store.write_part(plan, 1, chunks_of(parts[0] + b"x"))
    with pytest.raises(PartRejected, match="not 4096"):
        await store.write_part(plan, 1, chunks_of(parts[0][:-1]))
    with pytest.raises(PartRejected, match="between 1 and 3"):
        await store.write_part(plan, 4, chunks_of(b"x"))
    leftovers = list((store._uploads / plan.upload_id).iterdir())
    assert [p.name for p in leftovers] == ["plan.json"]


async def test_completing_checks_every_part_and_the_upload_hash(store: LocalDiskObjectStore):
    plan, parts = plan_for(os.urandom(9000), 4096)
    hashes = await upload_parts(store, plan, parts[:2])  # the third part never came
    with pytest.raises(PartRejected, match="part 3 was not uploaded"):
        await store.complete_upload(plan, [*hashes, md5(parts[2])])
    await store.write_part(plan, 3, chunks_of(parts[2]))
    with pytest.raises(PartRejected, match="lists 2 hashes"):
        await store.complete_upload(plan, hashes)
    with pytest.raises(PartRejected, match="part 2's MD5"):
        await store.complete_upload(plan, [hashes[0], "0" * 32, md5(parts[2])])
    assert await store.locate(plan.key) is None  # nothing published by the refusals
    info = await store.complete_upload(plan, [*hashes, md5(parts[2])])
    assert info.size == 9000


async def test_parts_that_do_not_add_up_to_the_planned_hash(store: LocalDiskObjectStore):
    plan, parts = plan_for(os.urandom(5000), 4096)
    hashes = await upload_parts(store, plan, parts)
    other_plan, _ = plan_for(os.urandom(5000), 4096)
    assert combined_hash(hashes) != other_plan.content_hash
    forged = dataclasses.replace(plan, content_hash=other_plan.content_hash)
    with pytest.raises(PartRejected, match="do not add up"):
        await store.complete_upload(forged, hashes)


async def test_a_retried_part_replaces_the_first_copy(store: LocalDiskObjectStore):
    data = os.urandom(5000)
    plan, parts = plan_for(data, 4096)
    await store.create_upload(plan)
    await store.write_part(plan, 1, chunks_of(os.urandom(4096)))  # garbage first
    first = await store.write_part(plan, 1, chunks_of(parts[0]))
    second = await store.write_part(plan, 2, chunks_of(parts[1]))
    await store.complete_upload(plan, [first, second])
    location = await store.locate(plan.key)
    assert location is not None and location.path is not None
    assert location.path.read_bytes() == data


@pytest.mark.parametrize("key", [
    "../../etc/passwd",
    "0123456789abcdef0123456789abcdef/../../../etc/passwd",
    "0123456789abcdef0123456789abcdef/.hidden",
    "0123456789ABCDEF0123456789ABCDEF/a.png",
    "0123456789abcdef0123456789abcdef",
    "/etc/passwd",
    "0123456789abcdef0123456789abcdef/a/b.png",
])
async def test_keys_that_could_leave_the_store_find_nothing(store: LocalDiskObjectStore, key):
    assert await store.locate(key) is None


async def test_upload_ids_that_are_not_ours_are_unknown(store: LocalDiskObjectStore):
    assert await store.get_upload("../../x") is None
    plan, _ = plan_for(b"x" * 10, 4096)
    evil = dataclasses.replace(plan, upload_id="../" * 3 + "a" * 23)
    with pytest.raises(UploadNotFound):
        await store.write_part(evil, 1, chunks_of(b"x" * 10))


@pytest.mark.parametrize(("name", "expected"), [
    ("alice/holiday photo.png", "holiday_photo.png"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("../../etc/passwd", "passwd"),
    (".bashrc", "f.bashrc"),
    ("照片.jpg", "f__.jpg"),
    ("", "file"),
    ("x" * 300 + ".jpeg", "x" * 123 + ".jpeg"),
])
def test_file_names_are_made_safe(name, expected):
    assert safe_file_name(name) == expected


async def test_expired_uploads_are_swept_and_no_longer_found(store: LocalDiskObjectStore):
    plan, _ = plan_for(b"x" * 10, 4096, expires_in_ms=-1)
    live, _ = plan_for(b"y" * 10, 4096)
    await store.create_upload(plan)
    await store.create_upload(live)
    assert await store.get_upload(plan.upload_id) is None  # expired: as good as gone
    assert await store.sweep_expired(now_ms()) == 1
    assert not (store._uploads / plan.upload_id).exists()
    assert await store.get_upload(live.upload_id) == live

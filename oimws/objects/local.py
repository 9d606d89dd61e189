"""The object store on local disk, under ``<data_dir>/objects``::

    uploads/<uploadID>/plan.json        the plan of an upload in progress
    uploads/<uploadID>/00001.part       its parts, each with 00001.md5 beside it
    data/<objectID>/<file name>         the published objects (objectID = uploadID)
    meta/<objectID>.json                what an object is (ObjectInfo)

Every path is built from IDs this module checked (32 hex digits) and file names made safe by
``safe_file_name``, and resolved paths are checked to stay under the root. File work runs in
threads so the event loop never waits on the disk; a published object is fsynced, then
renamed into place, so it is either whole or absent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO, Any

from oimws.objects.base import (
    ObjectInfo,
    ObjectLocation,
    ObjectStore,
    PartRejected,
    UploadNotFound,
    UploadPlan,
    combined_hash,
    is_valid_key,
)

_ID = re.compile(r"[0-9a-f]{32}")
SWEEP_INTERVAL_SECONDS = 60.0


def _now_ms() -> int:
    return int(time.time() * 1000)


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write a small JSON file atomically and durably."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with temp.open("w", encoding="utf-8") as fh:
        json.dump(value, fh)
        fh.flush()
        os.fsync(fh.fileno())
    temp.replace(path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as fh:
            value = json.load(fh)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_chunk(fh: IO[bytes], digest: Any, chunk: bytes) -> None:
    digest.update(chunk)
    fh.write(chunk)


class LocalDiskObjectStore(ObjectStore):
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._uploads = self._root / "uploads"
        self._data = self._root / "data"
        self._meta = self._root / "meta"
        for directory in (self._uploads, self._data, self._meta):
            directory.mkdir(parents=True, exist_ok=True)
        self._completing: set[str] = set()
        self._last_sweep = 0.0

    # paths
    def _upload_dir(self, upload_id: str) -> Path:
        if _ID.fullmatch(upload_id) is None:
            raise UploadNotFound(f"no upload {upload_id!r}")
        return self._uploads / upload_id

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(self._root):
            raise UploadNotFound("the path leaves the object store")  # defence in depth
        return resolved

    # uploads
    async def create_upload(self, plan: UploadPlan) -> None:
        directory = self._upload_dir(plan.upload_id)

        def create() -> None:
            directory.mkdir()
            _write_json(directory / "plan.json", dataclasses.asdict(plan))

        await asyncio.to_thread(create)

    async def get_upload(self, upload_id: str) -> UploadPlan | None:
        try:
            directory = self._upload_dir(upload_id)
        except UploadNotFound:
            return None
        stored = await asyncio.to_thread(_read_json, directory / "plan.json")
        if stored is None:
            return None
        plan = UploadPlan(**stored)
        return plan if plan.expires_at_ms > _now_ms() else None

    async def write_part(self, plan: UploadPlan, number: int,
                         chunks: AsyncIterator[bytes]) -> str:
        expected = plan.part_length(number)
        directory = self._upload_dir(plan.upload_id)
        if not directory.is_dir():
            raise UploadNotFound(f"no upload {plan.upload_id!r}")
        temp = directory / f"{number:05d}.{secrets.token_hex(4)}.tmp"
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        fh = await asyncio.to_thread(temp.open, "wb")
        try:
            async for chunk in chunks:
                received += len(chunk)
                if received > expected:
                    raise PartRejected(f"part {number} is longer than its {expected} bytes")
                await asyncio.to_thread(_write_chunk, fh, digest, chunk)
            if received != expected:
                raise PartRejected(f"part {number} has {received} bytes, not {expected}")
            part_hash = digest.hexdigest()

            def publish() -> None:
                fh.close()
                # a retried part replaces the earlier copy; the hash goes first so that a
                # part file never sits beside a stale hash
                (directory / f"{number:05d}.md5").write_text(part_hash)
                temp.replace(directory / f"{number:05d}.part")

            await asyncio.to_thread(publish)
            return part_hash
        finally:
            if not fh.closed:
                fh.close()
            temp.unlink(missing_ok=True)

    async def complete_upload(self, plan: UploadPlan, part_hashes: Sequence[str]
                              ) -> ObjectInfo:
        if plan.upload_id in self._completing:
            raise PartRejected("this upload is being completed already")
        self._completing.add(plan.upload_id)
        try:
            return await asyncio.to_thread(self._assemble, plan, list(part_hashes))
        finally:
            self._completing.discard(plan.upload_id)

    def _assemble(self, plan: UploadPlan, part_hashes: list[str]) -> ObjectInfo:
        directory = self._upload_dir(plan.upload_id)
        if not directory.is_dir():
            raise UploadNotFound(f"no upload {plan.upload_id!r}")
        if len(part_hashes) != plan.part_count:
            raise PartRejected(f"parts lists {len(part_hashes)} hashes; the upload has "
                               f"{plan.part_count} parts")
        for number, claimed in enumerate(part_hashes, start=1):
            try:
                stored = (directory / f"{number:05d}.md5").read_text()
            except OSError:
                raise PartRejected(f"part {number} was not uploaded") from None
            if stored != claimed.lower():
                raise PartRejected(f"part {number}'s MD5 is {stored}, not {claimed}")
        if combined_hash([h.lower() for h in part_hashes]) != plan.content_hash.lower():
            raise PartRejected("the parts' hashes do not add up to the upload's hash")
        object_id, name = plan.key.split("/", 1)
        target_dir = self._inside(self._data / object_id)
        target_dir.mkdir(exist_ok=True)
        target = self._inside(target_dir / name)
        temp = target_dir / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            with temp.open("wb") as out:
                for number in range(1, plan.part_count + 1):
                    with (directory / f"{number:05d}.part").open("rb") as part:
                        shutil.copyfileobj(part, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
                if out.tell() != plan.size:
                    raise PartRejected(f"the parts hold {out.tell()} bytes, not {plan.size}")
            temp.replace(target)
        finally:
            temp.unlink(missing_ok=True)
        info = ObjectInfo(key=plan.key, size=plan.size, content_type=plan.content_type,
                          owner_id=plan.owner_id, created_ms=_now_ms())
        _write_json(self._meta / f"{object_id}.json", dataclasses.asdict(info))
        shutil.rmtree(directory, ignore_errors=True)
        return info

    async def sweep_expired(self, now_ms: int) -> int:
        """At most once a minute (it lists the uploads directory), whatever the callers."""
        if time.monotonic() - self._last_sweep < SWEEP_INTERVAL_SECONDS:
            return 0
        self._last_sweep = time.monotonic()

        def sweep() -> int:
            swept = 0
            for directory in self._uploads.iterdir():
                stored = _read_json(directory / "plan.json")
                if stored is not None:
                    expired = stored.get("expires_at_ms", 0) <= now_ms
                else:  # no plan: a failed create, unless it is being created right now
                    expired = directory.stat().st_mtime * 1000 < now_ms - 60_000
                if expired and directory.name not in self._completing:
                    shutil.rmtree(directory, ignore_errors=True)
                    swept += 1
            return swept

        return await asyncio.to_thread(sweep)

    # objects
    async def locate(self, key: str) -> ObjectLocation | None:
        if not is_valid_key(key):
            return None
        object_id, name = key.split("/", 1)

        def find() -> ObjectLocation | None:
            stored = _read_json(self._meta / f"{object_id}.json")
            if stored is None or stored.get("key") != key:
                return None
            path = self._inside(self._data / object_id / name)
            return ObjectLocation(ObjectInfo(**stored), path=path) if path.is_file() else None

        return await asyncio.to_thread(find)

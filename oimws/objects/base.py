"""The object store interface: multipart uploads that become immutable objects.

An upload is planned first (size, part size, content type, the client's hash), its parts
arrive in any order (the jssdk PUTs them all at once), and completing it checks every part's
MD5 against the client's list and that list against the planned hash (OpenIM's rule: the
hash is the MD5 of the part MD5s joined by commas), then publishes the object under its key.
Keys are made here, never taken from clients: ``<32 hex>/<safe file name>``.
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import re
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

OBJECT_ID_HEX = 32
MAX_FILE_NAME = 128
KEY_PATTERN = re.compile(r"[0-9a-f]{32}/[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
PART_SEPARATOR = ","


class ObjectStoreError(Exception):
    """An upload or object request that cannot be served as asked."""


class UploadNotFound(ObjectStoreError):
    """No such upload (never planned, completed already, aborted or expired)."""


class PartRejected(ObjectStoreError):
    """A part or the completion does not match the plan (size, number, hash)."""


@dataclasses.dataclass(frozen=True, slots=True)
class UploadPlan:
    upload_id: str
    key: str  # what the object will be called
    owner_id: str
    size: int
    part_size: int
    content_type: str
    content_hash: str  # the client's: MD5 of its part MD5s joined by commas
    expires_at_ms: int

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def part_length(self, number: int) -> int:
        """Bytes of part ``number`` (1-based)."""
        if not 1 <= number <= self.part_count:
            raise PartRejected(f"part {number} is not between 1 and {self.part_count}")
        return min(self.part_size, self.size - (number - 1) * self.part_size)


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    owner_id: str
    created_ms: int


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectLocation:
    """Where an object's bytes are: a local file to send, or (for remote backends) a URL to
    redirect to."""

    info: ObjectInfo
    path: Path | None = None
    redirect_url: str | None = None


def safe_file_name(name: str) -> str:
    """The last path segment of a client's file name, made safe for a URL and a file system:
    letters, digits, ``.``, ``_`` and ``-`` only, never starting with a dot."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE.sub("_", base) or "file"
    if not cleaned[0].isalnum():
        cleaned = "f" + cleaned
    if len(cleaned) > MAX_FILE_NAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            cleaned = stem[:MAX_FILE_NAME - len(extension) - 1] + "." + extension
        else:
            cleaned = cleaned[:MAX_FILE_NAME]
    return cleaned


def new_upload_id() -> str:
    return secrets.token_hex(OBJECT_ID_HEX // 2)


def key_for(upload_id: str, file_name: str) -> str:
    return f"{upload_id}/{safe_file_name(file_name)}"


def is_valid_key(key: str) -> bool:
    return KEY_PATTERN.fullmatch(key) is not None


def combined_hash(part_hashes: Sequence[str]) -> str:
    return hashlib.md5(PART_SEPARATOR.join(part_hashes).encode(), usedforsecurity=False
                       ).hexdigest()


class ObjectStore(abc.ABC):
    @abc.abstractmethod
    async def create_upload(self, plan: UploadPlan) -> None: ...

    @abc.abstractmethod
    async def get_upload(self, upload_id: str) -> UploadPlan | None:
        """The plan of an upload still in progress (None when unknown or expired)."""

    @abc.abstractmethod
    async def write_part(self, plan: UploadPlan, number: int,
                         chunks: AsyncIterator[bytes]) -> str:
        """Store part ``number`` from ``chunks``; returns its MD5 (hex). Raises
        ``PartRejected`` (and keeps nothing) unless exactly the planned bytes arrive."""

    @abc.abstractmethod
    async def complete_upload(self, plan: UploadPlan, part_hashes: Sequence[str]
                              ) -> ObjectInfo:
        """Check the parts against ``part_hashes`` and the plan, then publish the object;
        the upload is gone afterwards."""

    @abc.abstractmethod
    async def locate(self, key: str) -> ObjectLocation | None:
        """Where to read an object from; None for an unknown or malformed key."""

    @abc.abstractmethod
    async def sweep_expired(self, now_ms: int) -> int:
        """Drop uploads whose time ran out; returns how many."""

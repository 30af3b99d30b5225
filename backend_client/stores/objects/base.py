"""The object-store interface both implementations pass the same contract tests against."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from backend_client.errors import Conflict, ValidationError

_KEY_PART = re.compile(r"^[A-Za-z0-9._=-]+$")
MAX_KEY_LENGTH = 512


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str
    content_type: str
    modified_at: datetime


class ObjectStore(Protocol):
    """Blobs by key. Keys are ``/``-separated segments of ``[A-Za-z0-9._=-]``."""

    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
            sha256: str | None = None) -> ObjectInfo:
        """Store ``data`` at ``key`` (replacing it). If ``sha256`` is given, the store
        rejects data that does not match it with ``Conflict``."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes at ``key``, checked against their SHA-256; ``NotFound`` if absent."""
        ...

    def stat(self, key: str) -> ObjectInfo:
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error (idempotent)."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order."""
        ...

    def describe(self) -> str:
        """Where the objects live, without secrets (for health and logs)."""
        ...

    def ping(self) -> None:
        """One cheap round trip; raises ``Unavailable`` when the store cannot be used."""
        ...


def validate_key(key: str) -> str:
    if not key:
        raise ValidationError("key", "an object key cannot be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError("key", f"an object key is at most {MAX_KEY_LENGTH} characters")
    for part in key.split("/"):
        if part in ("", ".", "..") or not _KEY_PART.match(part):
            raise ValidationError(
                "key",
                "an object key is made of '/'-separated parts of letters, digits and . _ = -",
            )
    return key


def validate_prefix(prefix: str) -> str:
    if prefix and not all(_KEY_PART.match(p) for p in prefix.rstrip("/").split("/")):
        raise ValidationError("prefix", "not a valid object key prefix")
    return prefix


Buffer = bytes | bytearray | memoryview
"""Bytes to send: a multipart part is a view of the sealed object, not a copy of it."""


def sha256_hex(data: Buffer) -> str:
    return hashlib.sha256(data).hexdigest()


def check_expected(data: Buffer, expected: str | None) -> str:
    actual = sha256_hex(data)
    if expected is not None and expected.lower() != actual:
        raise Conflict("The data does not match its expected SHA-256 checksum; nothing was stored.")
    return actual


class ResumableObjectStore(ObjectStore, Protocol):
    """What dictation delivery needs beyond ``ObjectStore`` (both stores have it): the
    checksum the *server* computed, and multipart uploads that survive a restart.

    Part numbers start at 1; every part but the last has the same size. A part sent again
    under the same number replaces the earlier one (so resuming after a crash between
    sending a part and noting it is harmless)."""

    def put_unread(self, key: str, data: Buffer, *, content_type: str, sha256: str) -> str:
        """``put`` without reading the object back: one round trip less. Returns the
        SHA-256 hex the store says it computed of what it received (S3 refuses a body
        whose checksum differs from the one sent, and echoes it), or "" when the store
        does not say; then the caller verifies with ``head_checksum``."""
        ...

    def head_checksum(self, key: str) -> tuple[int, str]:
        """(size, SHA-256 hex) as the store computed it: of the whole object when it was
        put at once, or the composite of its parts' SHA-256s (``composite_sha256``) when it
        was uploaded in parts. ``NotFound`` if absent."""
        ...

    def multipart_start(self, key: str, *, content_type: str, sha256: str) -> str:
        """A new multipart upload for ``key`` (whose whole SHA-256 is ``sha256``); its id."""
        ...

    def multipart_parts(self, key: str, upload_id: str) -> dict[int, int]:
        """The parts the store holds for this upload (number → size); ``NotFound`` when the
        upload is unknown (completed, aborted or expired)."""
        ...

    def multipart_put_part(self, key: str, upload_id: str, number: int, data: Buffer,
                           sha256: str | None = None) -> str:
        """Send one part (checked by the store against its SHA-256, ``sha256`` when the
        caller has it already); its ETag."""
        ...

    def multipart_complete(self, key: str, upload_id: str,
                           parts: dict[int, tuple[str, str]]) -> str:
        """Join the parts (number → (ETag, SHA-256 hex)) into the object. Returns the
        composite checksum the store says it holds (``composite_sha256``), or ""."""
        ...

    def multipart_abort(self, key: str, upload_id: str) -> None:
        ...


def composite_sha256(part_digests: list[bytes]) -> str:
    """S3's checksum of a multipart object: the SHA-256 of its parts' SHA-256s, in order."""
    return hashlib.sha256(b"".join(part_digests)).hexdigest()

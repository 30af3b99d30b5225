"""AES-256-GCM sealing for dictation: recording keys and segment files (docs/dictation.md).

Why GCM with an AAD on everything: a segment's AAD names its recording, take, sequence
number and frame count, so a segment copied into another recording, another slot or with
its header's frame count changed is refused exactly like a flipped byte — the store can
trust whatever opens. Why files are written as ``.tmp`` → fsync → rename → fsync the
folder: a crash or kill at any instant leaves either the whole new file or none.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEGMENT_MAGIC = b"DRAS"
SEGMENT_FORMAT = 1
# magic | u8 format | u32 LE frame count | 12-byte nonce, then the ciphertext (+16-byte tag).
_HEADER = struct.Struct("<4sBI12s")
HEADER_SIZE = _HEADER.size
KEY_SIZE = 32
NONCE_SIZE = 12


class SealError(ValueError):
    """The bytes do not open: torn, tampered, wrong key or the wrong place (AAD)."""


def new_key() -> bytes:
    return os.urandom(KEY_SIZE)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """``nonce | ciphertext+tag``; a fresh random nonce each time (keys seal few items)."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < NONCE_SIZE + 16:
        raise SealError("too short to be sealed data")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
    except InvalidTag as exc:
        raise SealError("does not open (damaged, or sealed for something else)") from exc


def _key_aad(recording_id: str) -> bytes:
    return b"dra-recording-key:" + recording_id.encode()


def wrap_key(workstation_key: bytes, recording_id: str, recording_key: bytes) -> bytes:
    """The recording key sealed under the workstation key, bound to the recording's id."""
    return seal(workstation_key, recording_key, _key_aad(recording_id))


def unwrap_key(workstation_key: bytes, recording_id: str, wrapped: bytes) -> bytes:
    key = open_sealed(workstation_key, wrapped, _key_aad(recording_id))
    if len(key) != KEY_SIZE:
        raise SealError("the wrapped recording key has the wrong size")
    return key


def segment_aad(recording_id: str, take: int, seq: int, frames: int) -> bytes:
    return f"{recording_id}/{take}/{seq}/{frames}".encode()


def seal_segment(key: bytes, recording_id: str, take: int, seq: int, frames: int,
                 payload: bytes) -> bytes:
    """A whole segment file's bytes for ``payload`` (an OGG/Opus file of ``frames``)."""
    nonce = os.urandom(NONCE_SIZE)
    aad = segment_aad(recording_id, take, seq, frames)
    return (_HEADER.pack(SEGMENT_MAGIC, SEGMENT_FORMAT, frames, nonce)
            + AESGCM(key).encrypt(nonce, payload, aad))


def segment_frames(data: bytes) -> int:
    """The frame count a segment's header claims (checked only by ``open_segment``)."""
    if len(data) < HEADER_SIZE or data[:4] != SEGMENT_MAGIC:
        raise SealError("not a dictation segment")
    return int(_HEADER.unpack_from(data)[2])


def open_segment(key: bytes, recording_id: str, take: int, seq: int, data: bytes
                 ) -> tuple[int, bytes]:
    """``(frames, payload)`` of a segment file; ``SealError`` when it does not open."""
    if len(data) < HEADER_SIZE + 16:
        raise SealError("segment is truncated")
    magic, fmt, frames, nonce = _HEADER.unpack_from(data)
    if magic != SEGMENT_MAGIC or fmt != SEGMENT_FORMAT:
        raise SealError("not a dictation segment of a known format")
    try:
        payload = AESGCM(key).decrypt(nonce, data[HEADER_SIZE:],
                                      segment_aad(recording_id, take, seq, frames))
    except InvalidTag as exc:
        raise SealError("segment does not open (damaged or misplaced)") from exc
    return int(frames), payload


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (POSIX: the directory entry is its own write)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, tmp_suffix: str = ".tmp") -> None:
    """Write ``data`` to ``path`` all-or-nothing, mode 0600.

    On any ``OSError`` (a full disk above all) the temp file is removed before the error
    goes up, so nothing torn is left and nothing earlier is touched.
    """
    tmp = path.with_name(path.name + tmp_suffix)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)

"""The crash-safe copy of notes being written, on this workstation (no Qt).

The editor puts the note here 2 seconds after the last keystroke, before (and whether or
not) MongoDB takes it, so a crash, kill -9, power cut or MongoDB outage loses at most
those 2 seconds; the next sign-in offers what MongoDB does not have (``pending``).

SQLite in WAL mode with ``synchronous=FULL``: a put returns only after its commit is on
disk, and a half-written transaction is rolled back when the file is opened again, so the
file always holds the last completed put. What was typed, the patient's label and the
title are sealed with AES-256-GCM under the author's draft key (derived from their
password at sign-in, never stored), like ``backend_client/drafts/store.py``: nothing
readable is on disk, and the associated data binds each copy to its author and note, so a
row copied to another note or author fails to open. Whether a copy was pushed is decided
by keyed tags (HMAC) of the content hash, which say nothing about the content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend_client.notes.dto import NoteContent, SectionContent, UnsavedNote

log = logging.getLogger(__name__)

_SCHEME = "note-aesgcm1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS local_notes (
    user_id     INTEGER NOT NULL,
    note_id     TEXT    NOT NULL,
    sealed      BLOB    NOT NULL,
    current_tag TEXT    NOT NULL,
    pushed_tag  TEXT,
    saved_at    TEXT    NOT NULL,
    PRIMARY KEY (user_id, note_id)
)
"""


# --------------------------------------------------------------------------- content


def content_to_dict(content: NoteContent) -> dict[str, Any]:
    return {"title": content.title,
            "sections": [{"key": s.key, "title": s.title, "text": s.text,
                          "values": [list(v) for v in s.values]} for s in content.sections]}


def content_from_dict(data: dict[str, Any]) -> NoteContent:
    return NoteContent(
        title=str(data.get("title", "")),
        sections=tuple(SectionContent(key=str(s["key"]), title=str(s.get("title", "")),
                                      text=str(s.get("text", "")),
                                      values=tuple((str(k), str(v)) for k, v in
                                                   s.get("values", ())))
                       for s in data.get("sections", ())))


def content_hash(content: NoteContent) -> str:
    """sha256 hex of the canonical JSON of ``content`` (what ``mark_pushed`` is given)."""
    canonical = json.dumps(content_to_dict(content), ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------- the store


class LocalNoteStore:
    """One author's local copies in a SQLite file shared by everyone at this workstation.

    Thread-safe: puts come from the task runner's write pool, reads from anywhere.
    """

    def __init__(self, path: Path | str, user_id: int, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a draft key is 32 bytes (derived at sign-in)")
        self.path = Path(path)
        self.user_id = user_id
        self._aead = AESGCM(_subkey(key, b"dra local note content"))
        self._mac_key = _subkey(key, b"dra local note pushed-tag")
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Only this OS user may read the file (it is sealed too, but no need to share it).
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsynced at every commit, so a put that returned survives a
        # power cut (NORMAL would only keep the file consistent, not the last commit).
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    # ------------------------------------------------------------ writing

    def put(self, note_id: str, patient_id: int, patient_label: str, title: str,
            base_revision: str | None, content: NoteContent, *,
            extra: dict[str, str] | None = None) -> None:
        """Keep this version of the note (replacing the previous one), durably. ``extra``
        (e.g. the template of a note MongoDB has not seen yet) comes back in
        ``UnsavedNote.extra``."""
        payload = {"patient_id": patient_id, "patient_label": patient_label, "title": title,
                   "base_revision": base_revision, "content": content_to_dict(content),
                   "extra": dict(extra or {})}
        plain = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, plain, self._aad(note_id))
        tag = self._tag(note_id, content_hash(content))
        now = datetime.now(UTC).isoformat()
        with self._lock:
            self._conn().execute(
                "INSERT INTO local_notes (user_id, note_id, sealed, current_tag, saved_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, note_id) DO UPDATE SET "
                "sealed = excluded.sealed, current_tag = excluded.current_tag, "
                "saved_at = excluded.saved_at",
                (self.user_id, note_id, sealed, tag, now))

    def mark_pushed(self, note_id: str, content_hash: str) -> None:
        """MongoDB now holds the content whose hash is ``content_hash`` (an autosave or a
        save): if the local copy is that content, it is no longer offered."""
        with self._lock:
            self._conn().execute(
                "UPDATE local_notes SET pushed_tag = ? WHERE user_id = ? AND note_id = ?",
                (self._tag(note_id, content_hash), self.user_id, note_id))

    def discard(self, note_id: str) -> None:
        with self._lock:
            self._conn().execute("DELETE FROM local_notes WHERE user_id = ? AND note_id = ?",
                                 (self.user_id, note_id))

    # ------------------------------------------------------------ reading

    def pending(self) -> tuple[UnsavedNote, ...]:
        """This author's copies newer than what MongoDB has, newest first. Copies that do
        not open with the key (another author's, altered, or sealed before a password
        change) are left out."""
        with self._lock:
            rows = self._conn().execute(
                "SELECT note_id, sealed, saved_at FROM local_notes WHERE user_id = ? "
                "AND (pushed_tag IS NULL OR pushed_tag != current_tag) "
                "ORDER BY saved_at DESC", (self.user_id,)).fetchall()
        out: list[UnsavedNote] = []
        for note_id, sealed, saved_at in rows:
            note = self._open(str(note_id), bytes(sealed), str(saved_at))
            if note is not None:
                out.append(note)
        if len(out) < len(rows):
            log.warning("%d local note copies could not be opened with their key",
                        len(rows) - len(out))
        return tuple(out)

    def get(self, note_id: str) -> UnsavedNote | None:
        """The local copy of one note, pushed or not."""
        with self._lock:
            row = self._conn().execute(
                "SELECT sealed, saved_at FROM local_notes WHERE user_id = ? AND note_id = ?",
                (self.user_id, note_id)).fetchone()
        return None if row is None else self._open(note_id, bytes(row[0]), str(row[1]))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ------------------------------------------------------------ inside

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the local note store is closed")
        return self._db

    def _aad(self, note_id: str) -> bytes:
        return json.dumps([_SCHEME, self.user_id, note_id]).encode()

    def _tag(self, note_id: str, digest: str) -> str:
        return hmac.new(self._mac_key, f"{self.user_id}:{note_id}:{digest}".encode(),
                        hashlib.sha256).hexdigest()

    def _open(self, note_id: str, sealed: bytes, saved_at: str) -> UnsavedNote | None:
        if len(sealed) < 12 + 16:
            return None
        try:
            plain = self._aead.decrypt(sealed[:12], sealed[12:], self._aad(note_id))
        except InvalidTag:
            return None
        data = json.loads(plain)
        base = data.get("base_revision")
        return UnsavedNote(note_id=note_id, patient_id=int(data["patient_id"]),
                           patient_label=str(data.get("patient_label", "")),
                           title=str(data.get("title", "")),
                           base_revision=None if base is None else str(base),
                           content=content_from_dict(data["content"]),
                           saved_locally_at=datetime.fromisoformat(saved_at),
                           extra={str(k): str(v) for k, v in data.get("extra", {}).items()})


def _subkey(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)

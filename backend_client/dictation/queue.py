"""The workstation's durable upload queue (``UploadQueueApi``): one SQLite row per stopped
recording, in ``<data dir>/dictation/queue.sqlite3`` (WAL, ``synchronous=FULL``, 0600).

A row holds what delivery must not forget across a crash or a restart: its state, attempts
and next attempt, the last error as a sentence, the sealed object's size and SHA-256, the
data key (wrapped by the workstation key), the multipart upload id and its finished parts.
``run_once`` hands the next due row to the ``Deliverer`` (upload.py), which notes each step
here as it finishes it; errors come back as ``Transient``/``Permanent`` with their
sentence. Times here are the workstation's clock: they only schedule retries.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from backend_client.dictation.dto import LocalRecording, QueueItem

Progress = Callable[[str, int, int], None]
# How long a row being delivered is kept from others (another app instance on this data
# dir): a crash mid-delivery makes it due again after this.
LEASE_SECONDS = 600.0
DONE_SHOWN_SECONDS = 3600.0
MAX_BACKOFF = 300.0
_ORDER = "CASE priority WHEN 'stat' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END, queued_at"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    recording_id TEXT PRIMARY KEY,
    author_id INTEGER NOT NULL,
    patient_id INTEGER NOT NULL,
    patient_caption TEXT NOT NULL,
    encounter_id INTEGER,
    note_id TEXT,
    priority TEXT NOT NULL,
    work_type TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    problem TEXT NOT NULL DEFAULT '',
    size_bytes INTEGER NOT NULL DEFAULT 0,
    sent_bytes INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT,
    wrapped_key BLOB,
    upload_id TEXT,
    parts TEXT NOT NULL DEFAULT '{}',
    registered INTEGER NOT NULL DEFAULT 0,
    stored INTEGER NOT NULL DEFAULT 0,
    described INTEGER NOT NULL DEFAULT 0,
    queued_at REAL NOT NULL,
    done_at REAL,
    purge_at REAL,
    leased_by TEXT
)"""


def _this_process() -> str:
    """Who holds a lease: the pid and the process's start time (a pid alone may be reused
    by another process after a crash)."""
    import psutil

    return f"{os.getpid()}:{psutil.Process().create_time():.3f}"


def _alive(holder: str | None) -> bool:
    """Whether the process that took a lease still runs (several app instances may share a
    data folder, so a lease of a live one is left alone)."""
    import psutil

    if not holder:
        return False
    pid, _, started = holder.partition(":")
    try:
        return f"{psutil.Process(int(pid)).create_time():.3f}" == started
    except (ValueError, psutil.Error):
        return False


class Transient(Exception):
    """Try again later by itself (network, S3 down, author signed out): the sentence."""


class Permanent(Exception):
    """Do not try again until the user asks: the sentence says why."""


@dataclass(frozen=True)
class Job:
    """A queue row as the deliverer sees it."""

    recording_id: str
    author_id: int
    patient_id: int
    encounter_id: int | None
    note_id: str | None
    priority: str
    work_type: str
    started_at: datetime
    duration_ms: int
    attempts: int
    size_bytes: int
    sha256: str | None
    wrapped_key: bytes | None
    upload_id: str | None
    parts: dict[int, tuple[str, str]] = field(default_factory=dict)
    registered: bool = False
    stored: bool = False
    described: bool = False


class Deliverer(Protocol):
    def deliver(self, job: Job, note: Callable[..., None], progress: Progress | None
                ) -> None:
        """Steps 1–5 of delivery for ``job``; ``note(**columns)`` saves what a step
        finished (durably, before the next step). Raises ``Transient`` or ``Permanent``."""
        ...

    def discard_local(self, job: Job) -> None:
        """Step 6: the local copy goes (the recording is stored)."""
        ...


@dataclass
class Clock:
    """The queue's clock and randomness, injectable for tests."""

    now: Callable[[], float] = time.time
    uniform: Callable[[float, float], float] = random.uniform


class UploadQueue:
    """Implements ``UploadQueueApi``.

    Args:
        data_dir: the app's data dir; the queue lives in ``dictation/`` under it.
        deliverer: does the work of ``run_once`` (``upload.Uploader``); None: the queue
            only records (a workstation that cannot reach the stores yet).
        keep_days: keep the local copy this long after delivery (DRA_DICTATION_KEEP_DAYS).
        clock: the workstation's clock and the jitter's randomness.
    """

    def __init__(self, data_dir: Path, deliverer: Deliverer | None = None, *,
                 keep_days: float = 0.0, clock: Clock | None = None) -> None:
        self.folder = Path(data_dir) / "dictation"
        self.path = self.folder / "queue.sqlite3"
        self.deliverer = deliverer
        self.keep_seconds = max(0.0, keep_days) * 86400
        self.clock = clock or Clock()
        self._me = _this_process()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    # ------------------------------------------------------------------ storage

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.folder, 0o700)
            # Made 0600 before SQLite opens it (its -wal and -shm follow the file's mode).
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            os.chmod(self.path, 0o600)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=10)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(_SCHEMA)
            columns = {r[1] for r in conn.execute("PRAGMA table_info(items)")}
            if "leased_by" not in columns:   # a queue made before leases named their holder
                conn.execute("ALTER TABLE items ADD COLUMN leased_by TEXT")
            self._conn = conn
        return self._conn

    @contextmanager
    def _tx(self, *, synced: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; ``synced=False`` commits without waiting for the disk
        (WAL ``synchronous=NORMAL``): safe against a crash or kill of the app, while a
        power cut may take the last such commits back — the next synced commit makes them
        durable too."""
        with self._lock:
            conn = self._connect()
            if not synced:
                conn.execute("PRAGMA synchronous=NORMAL")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                if not synced:
                    conn.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _item(self, row: sqlite3.Row) -> QueueItem:
        due = row["next_attempt_at"]
        return QueueItem(
            recording_id=row["recording_id"], author_id=row["author_id"],
            patient_caption=row["patient_caption"], priority=row["priority"],
            state=row["state"], size_bytes=row["size_bytes"], sent_bytes=row["sent_bytes"],
            attempts=row["attempts"], problem=row["problem"],
            queued_at=datetime.fromtimestamp(row["queued_at"], UTC),
            next_attempt_at=(datetime.fromtimestamp(due, UTC)
                             if due is not None and row["state"] != "done" else None))

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        parts = {int(n): (str(v[0]), str(v[1])) for n, v in json.loads(row["parts"]).items()}
        return Job(
            recording_id=row["recording_id"], author_id=row["author_id"],
            patient_id=row["patient_id"], encounter_id=row["encounter_id"],
            note_id=row["note_id"], priority=row["priority"], work_type=row["work_type"],
            started_at=datetime.fromisoformat(row["started_at"]),
            duration_ms=row["duration_ms"], attempts=row["attempts"],
            size_bytes=row["size_bytes"], sha256=row["sha256"],
            wrapped_key=row["wrapped_key"], upload_id=row["upload_id"], parts=parts,
            registered=bool(row["registered"]), stored=bool(row["stored"]),
            described=bool(row["described"]))

    def _get(self, conn: sqlite3.Connection, recording_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM items WHERE recording_id = ?",
                           (recording_id,)).fetchone()
        if row is None:
            raise KeyError(recording_id)
        return row

    def note(self, recording_id: str, **columns: Any) -> None:
        """Save what a delivery step finished (committed before the next step).

        Not waiting for the disk: every step is idempotent and checked against the stores
        when it is repeated, so a note a power cut took back costs that step again, never
        a duplicate or a loss (the recording itself and its place in the queue are
        synced). An fsync each cost more than sending a five-minute dictation."""
        if "parts" in columns:
            columns["parts"] = json.dumps({str(n): list(v)
                                           for n, v in columns["parts"].items()})
        for flag in ("registered", "stored", "described"):
            if flag in columns:
                columns[flag] = int(bool(columns[flag]))
        names = ", ".join(f"{c} = ?" for c in columns)
        with self._tx(synced=False) as conn:
            conn.execute(f"UPDATE items SET {names} WHERE recording_id = ?",  # noqa: S608
                         (*columns.values(), recording_id))

    # ------------------------------------------------------------------ UploadQueueApi

    def enqueue(self, recording: LocalRecording, *, registered: bool = False) -> QueueItem:
        t = recording.target
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO items (recording_id, author_id, patient_id, patient_caption, "
                "encounter_id, note_id, priority, work_type, started_at, duration_ms, state, "
                "next_attempt_at, size_bytes, queued_at, registered) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?) "
                "ON CONFLICT (recording_id) DO NOTHING",
                (recording.id, recording.author_id, t.patient_id, t.patient_caption,
                 t.encounter_id, t.note_id, t.priority, t.work_type,
                 recording.started_at.isoformat(), recording.duration_ms,
                 self.clock.now(), recording.size_bytes, self.clock.now(), int(registered)))
            return self._item(self._get(conn, recording.id))

    def items(self) -> tuple[QueueItem, ...]:
        since = self.clock.now() - DONE_SHOWN_SECONDS
        with self._tx() as conn:
            rows = conn.execute("SELECT * FROM items WHERE state <> 'done' OR done_at >= ? "
                                "ORDER BY queued_at", (since,)).fetchall()
        return tuple(self._item(r) for r in rows)

    def item(self, recording_id: str) -> QueueItem:
        with self._tx() as conn:
            return self._item(self._get(conn, recording_id))

    def waiting(self) -> int:
        with self._tx() as conn:
            return int(conn.execute("SELECT count(*) FROM items WHERE state <> 'done'"
                                    ).fetchone()[0])

    def retry(self, recording_id: str) -> None:
        """A failed item is tried again now (a waiting one too: its author signed in, or
        the user does not want to wait for the backoff)."""
        with self._tx() as conn:
            conn.execute("UPDATE items SET state = CASE state WHEN 'failed' THEN 'waiting' "
                         "ELSE state END, attempts = CASE state WHEN 'failed' THEN 0 "
                         "ELSE attempts END, next_attempt_at = ? "
                         "WHERE recording_id = ? AND state IN ('failed', 'waiting')",
                         (self.clock.now(), recording_id))

    def _reclaim(self) -> None:
        """An item whose delivery was cut off by a crash (its lease's process is gone) is
        due at once, not when the lease runs out: the app started again resumes it."""
        now = self.clock.now()
        with self._tx() as conn:
            rows = conn.execute("SELECT recording_id, leased_by FROM items WHERE state = "
                                "'uploading' AND next_attempt_at > ?", (now,)).fetchall()
            for row in rows:
                if row["leased_by"] != self._me and not _alive(row["leased_by"]):
                    conn.execute("UPDATE items SET next_attempt_at = ?, leased_by = NULL "
                                 "WHERE recording_id = ?", (now, row["recording_id"]))

    def next_due_in(self) -> float | None:
        self._reclaim()
        with self._tx() as conn:
            row = conn.execute("SELECT min(next_attempt_at) FROM items WHERE state IN "
                               "('waiting', 'uploading', 'registering')").fetchone()
        if row[0] is None:
            return None
        return max(0.0, float(row[0]) - self.clock.now())

    def run_once(self, progress: Progress | None = None) -> QueueItem | None:
        self._purge()
        if self.deliverer is None:
            return None
        self._reclaim()
        now = self.clock.now()
        with self._tx() as conn:
            row = conn.execute(
                "SELECT * FROM items WHERE state IN ('waiting', 'uploading', 'registering') "
                f"AND next_attempt_at <= ? ORDER BY {_ORDER} LIMIT 1", (now,)).fetchone()
            if row is None:
                return None
            # The lease: a crash mid-delivery leaves it due again at the next start (its
            # holder is gone), or after LEASE_SECONDS whatever happens.
            conn.execute("UPDATE items SET state = 'uploading', next_attempt_at = ?, "
                         "leased_by = ? WHERE recording_id = ?",
                         (now + LEASE_SECONDS, self._me, row["recording_id"]))
            job = self._job(row)
        rid = job.recording_id
        try:
            self.deliverer.deliver(job, lambda **c: self.note(rid, **c), progress)
        except Transient as exc:
            self._failed(rid, str(exc), permanent=False)
        except Permanent as exc:
            self._failed(rid, str(exc), permanent=True)
        else:
            self._done(job)
        return self.item(rid)

    # ------------------------------------------------------------------ outcomes

    def _failed(self, recording_id: str, sentence: str, *, permanent: bool) -> None:
        with self._tx() as conn:
            attempts = int(self._get(conn, recording_id)["attempts"]) + 1
            # Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
            delay = self.clock.uniform(0, min(MAX_BACKOFF, 2 * 2 ** (attempts - 1)))
            conn.execute("UPDATE items SET state = ?, attempts = ?, problem = ?, "
                         "next_attempt_at = ? WHERE recording_id = ?",
                         ("failed" if permanent else "waiting", attempts, sentence,
                          None if permanent else self.clock.now() + delay, recording_id))

    def _done(self, job: Job) -> None:
        now = self.clock.now()
        self.note(job.recording_id, state="done", problem="", done_at=now,
                  next_attempt_at=None, wrapped_key=None,
                  purge_at=now + self.keep_seconds)
        if not self.keep_seconds:
            self._purge()

    def _purge(self) -> None:
        """Step 6: local copies of delivered recordings whose retention has passed."""
        if self.deliverer is None:
            return
        with self._tx() as conn:
            rows = conn.execute("SELECT * FROM items WHERE state = 'done' "
                                "AND purge_at IS NOT NULL AND purge_at <= ?",
                                (self.clock.now(),)).fetchall()
        for row in rows:
            self.deliverer.discard_local(self._job(row))
            self.note(row["recording_id"], purge_at=None)

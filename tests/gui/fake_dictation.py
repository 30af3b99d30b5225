"""Fakes of the four dictation APIs (backend_client/dictation/api.py) at our own seam, for
the presenter and view tests and the GUI benchmark.

``FakeRecorder`` records nothing: its clock is driven by the test (``advance(ms)``) and
its level is set by hand, so a test sees exactly what a user would after so many seconds
of speech. ``lose_device()``, ``fill_disk()`` and ``no_microphone`` stage the problems the
real recorder reports. The recordings it makes live in a ``FakeLocalDictations`` shared
with it; ``FakeUploadQueue`` and ``FakeRecordingsApi`` keep their rows in memory.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from backend_client.dictation.dto import (
    LocalRecording,
    QueueItem,
    RecorderStatus,
    RecordingTarget,
    StoredRecording,
)
from backend_client.errors import DeviceProblem, PermissionDenied

STARTED_AT = datetime(2026, 11, 27, 9, 45, tzinfo=UTC)
NO_MICROPHONE = ("No microphone was found. Connect one (or choose it in the system's sound "
                 "settings) and try again.")
_AUDIO: list[bytes] = []


def fake_audio() -> bytes:
    """2 s of a tone as OGG/Opus: what the player is given (made once, in memory)."""
    if not _AUDIO:
        import io

        import numpy as np
        import soundfile as sf

        buffer = io.BytesIO()
        tone = (np.sin(np.arange(32_000) * 0.2) * 8000).astype("int16")
        sf.write(buffer, tone, 16_000, format="OGG", subtype="OPUS")
        _AUDIO.append(buffer.getvalue())
    return _AUDIO[0]


class FakeLocalDictations:
    def __init__(self) -> None:
        self.rows: dict[str, LocalRecording] = {}
        self.interrupted_ids: set[str] = set()
        self.discarded: list[str] = []
        self.audio_calls: list[str] = []

    def put(self, rec: LocalRecording) -> None:
        self.rows[rec.id] = rec

    def recordings(self, author_id: int) -> tuple[LocalRecording, ...]:
        mine = [r for r in self.rows.values() if r.author_id == author_id]
        return tuple(sorted(mine, key=lambda r: r.started_at, reverse=True))

    def interrupted(self, author_id: int) -> tuple[LocalRecording, ...]:
        return tuple(r for r in self.recordings(author_id) if r.id in self.interrupted_ids)

    def audio(self, recording_id: str, author_id: int) -> bytes:
        rec = self.rows[recording_id]
        if rec.author_id != author_id:
            raise PermissionDenied("This recording belongs to another author.")
        self.audio_calls.append(recording_id)
        return fake_audio()

    def discard(self, recording_id: str, author_id: int) -> None:
        rec = self.rows.get(recording_id)
        if rec is not None and rec.author_id != author_id:
            raise PermissionDenied("This recording belongs to another author.")
        self.rows.pop(recording_id, None)
        self.interrupted_ids.discard(recording_id)
        self.discarded.append(recording_id)

    def add(self, author_id: int, target: RecordingTarget, *, state: str = "paused",
            duration_ms: int = 30_000, started_at: datetime = STARTED_AT) -> LocalRecording:
        rec = LocalRecording(uuid.uuid4().hex, author_id, target, started_at, duration_ms,
                             duration_ms * 2, state)
        self.rows[rec.id] = rec
        if state == "interrupted":
            self.interrupted_ids.add(rec.id)
        return rec

    def take(self, recording_id: str) -> None:
        """Queued: no longer listed as local."""
        self.rows.pop(recording_id, None)


class FakeRecorder:
    """The recorder, driven by the test's clock. ``calls`` lists what was asked of it."""

    def __init__(self, local: FakeLocalDictations | None = None, *,
                 no_microphone: bool = False, record_delay: float = 0.0) -> None:
        self.local = local or FakeLocalDictations()
        self.no_microphone = no_microphone
        self.record_delay = record_delay   # seconds record() takes (opening a device)
        self.record_gate: threading.Event | None = None   # record() waits for it when set
        self.calls: list[str] = []
        self.rec: LocalRecording | None = None
        self.state = "idle"
        self.position = 0
        self.duration = 0
        self.level = 0.0
        self.mode = "append"
        self.problem = ""
        self.takes: list[tuple[str, int, int]] = []   # (mode, at, length) per take
        self.record_thread: threading.Thread | None = None
        self._take_at = 0
        self._lock = threading.Lock()

    # ----------------------------------------------------------- the test's controls

    def advance(self, ms: int, level: float = 0.5) -> None:
        """``ms`` of capture (when recording) at this level."""
        with self._lock:
            if self.state != "recording":
                return
            self.level = level
            start = self.position
            self.position += ms
            if self.mode == "append" or self.mode == "insert":
                self.duration += ms
            else:  # overwrite: grows only past the end
                self.duration = max(self.duration, self.position)
            del start

    def lose_device(self) -> None:
        with self._lock:
            self._end_take()
            self.state = "paused"
            self.problem = (f"The microphone was disconnected. The {_mmss(self.duration)} "
                            "recorded so far are kept; connect it and press Record to go on.")

    def fill_disk(self) -> None:
        with self._lock:
            self._end_take()
            self.state = "paused"
            self.problem = (f"The disk is full: recording paused. The {_mmss(self.duration)} "
                            "recorded so far are kept; free some space to go on.")

    # ----------------------------------------------------------- the protocol

    def microphone_problem(self) -> str:
        return NO_MICROPHONE if self.no_microphone else ""

    def new(self, author_id: int, target: RecordingTarget) -> LocalRecording:
        self.calls.append("new")
        assert self.state in ("idle", "paused", "stopped"), "the open one must be left first"
        rec = LocalRecording(uuid.uuid4().hex, author_id, target, STARTED_AT, 0, 0, "paused")
        self.local.put(rec)
        self.rec, self.state, self.position, self.duration = rec, "paused", 0, 0
        self.mode, self.problem, self.takes = "append", "", []
        return rec

    def open(self, recording_id: str, author_id: int) -> LocalRecording:
        self.calls.append("open")
        rec = self.local.rows[recording_id]
        if rec.author_id != author_id:
            raise PermissionDenied("This recording belongs to another author.")
        self.rec, self.state = rec, "paused"
        self.duration = self.position = rec.duration_ms
        self.mode, self.problem = "append", ""
        self.local.interrupted_ids.discard(recording_id)
        return rec

    def record(self) -> None:
        self.calls.append("record")
        if self.record_delay:
            time.sleep(self.record_delay)
        if self.record_gate is not None:
            assert self.record_gate.wait(10), "the test never let the device open"
        self.record_thread = threading.current_thread()
        if self.no_microphone:
            raise DeviceProblem(NO_MICROPHONE)
        with self._lock:
            assert self.rec is not None
            if self.mode == "append":
                self.position = self.duration
            self._take_at = self.position
            self.state, self.problem = "recording", ""

    def pause(self) -> None:
        self.calls.append("pause")
        with self._lock:
            self._end_take()
            if self.state == "recording":
                self.state = "paused"

    def seek(self, position_ms: int) -> None:
        self.calls.append(f"seek {position_ms}")
        with self._lock:
            if self.state != "recording":
                self.position = max(0, min(self.duration, position_ms))

    def set_mode(self, mode: str) -> None:
        self.calls.append(f"mode {mode}")
        self.mode = mode

    def stop(self) -> LocalRecording:
        self.calls.append("stop")
        with self._lock:
            self._end_take()
            assert self.rec is not None
            rec = replace(self.rec, duration_ms=self.duration, size_bytes=self.duration * 2,
                          state="stopped")
            self.local.put(rec)
            self.rec, self.state, self.position, self.duration = None, "idle", 0, 0
            self.level = 0.0
            return rec

    def discard(self) -> None:
        self.calls.append("discard")
        with self._lock:
            if self.rec is not None:
                self.local.rows.pop(self.rec.id, None)
                self.local.discarded.append(self.rec.id)
            self.rec, self.state, self.position, self.duration = None, "idle", 0, 0

    def status(self) -> RecorderStatus:
        with self._lock:
            return RecorderStatus(self.state, self.rec.id if self.rec else None,
                                  self.position, self.duration,
                                  self.level if self.state == "recording" else 0.0,
                                  self.mode, self.problem)

    def close(self) -> None:
        self.calls.append("close")
        with self._lock:
            self._end_take()
            if self.state == "recording":
                self.state = "paused"
            if self.rec is not None:
                self.local.put(replace(self.rec, duration_ms=self.duration, state="paused"))
            self.rec, self.state = None, "idle"

    def _end_take(self) -> None:
        if self.state == "recording":
            self.takes.append((self.mode, self._take_at, self.position - self._take_at))
            if self.rec is not None:
                self.rec = replace(self.rec, duration_ms=self.duration)
                self.local.put(self.rec)
        self.level = 0.0


class FakeUploadQueue:
    """The queue in memory. ``run_once`` delivers the oldest due item in ``steps`` progress
    calls, sleeping ``delay`` seconds each (a simulated upload); ``fail_next`` makes the next
    delivery fail permanently with that sentence."""

    def __init__(self, local: FakeLocalDictations | None = None,
                 recordings: FakeRecordingsApi | None = None, *, delay: float = 0.0,
                 steps: int = 4) -> None:
        self.local = local
        self.recordings = recordings
        self.rows: dict[str, QueueItem] = {}
        self.delay, self.steps = delay, steps
        self.fail_next = ""
        self.hold = False       # True: nothing is due (the network is down)
        self.runs = 0
        self._lock = threading.Lock()
        self.now = STARTED_AT

    def enqueue(self, recording: LocalRecording, *, registered: bool = False) -> QueueItem:
        with self._lock:
            item = self.rows.get(recording.id)
            if item is None:
                item = QueueItem(recording.id, recording.author_id,
                                 recording.target.patient_caption, recording.target.priority,
                                 "waiting", recording.size_bytes, 0, 0, "", self.now, self.now)
                self.rows[recording.id] = item
        if self.local is not None:
            self.local.take(recording.id)
        return item

    def items(self) -> tuple[QueueItem, ...]:
        with self._lock:
            return tuple(sorted(self.rows.values(), key=lambda i: i.queued_at))

    def waiting(self) -> int:
        with self._lock:
            return sum(1 for i in self.rows.values() if i.state != "done")

    def retry(self, recording_id: str) -> None:
        with self._lock:
            item = self.rows[recording_id]
            self.rows[recording_id] = replace(item, state="waiting", problem="",
                                              next_attempt_at=self.now)

    def next_due_in(self) -> float | None:
        with self._lock:
            due = [i for i in self.rows.values() if i.state == "waiting"]
        return 0.0 if due and not self.hold else None

    def run_once(self, progress: Callable[[str, int, int], None] | None = None
                 ) -> QueueItem | None:
        with self._lock:
            due = sorted((i for i in self.rows.values() if i.state == "waiting"),
                         key=lambda i: i.queued_at)
            if not due or self.hold:
                return None
            item = replace(due[0], state="uploading", attempts=due[0].attempts + 1)
            self.rows[item.recording_id] = item
            self.runs += 1
        total = max(1, item.size_bytes)
        for step in range(1, self.steps + 1):
            if self.delay:
                time.sleep(self.delay)
            sent = total * step // self.steps
            with self._lock:
                self.rows[item.recording_id] = replace(self.rows[item.recording_id],
                                                       sent_bytes=sent)
            if progress is not None:
                progress(item.recording_id, sent, total)
        with self._lock:
            if self.fail_next:
                item = replace(self.rows[item.recording_id], state="failed",
                               problem=self.fail_next, next_attempt_at=None)
                self.fail_next = ""
            else:
                item = replace(self.rows[item.recording_id], state="done", sent_bytes=total,
                               next_attempt_at=None)
            self.rows[item.recording_id] = item
        if item.state == "done" and self.recordings is not None:
            self.recordings.deliver(item.recording_id)
        return item

    def put(self, item: QueueItem) -> None:
        with self._lock:
            self.rows[item.recording_id] = item


class FakeRecordingsApi:
    """What is stored. ``can_read``/``can_create`` stand for the role's permissions."""

    def __init__(self, *, author_name: str = "Dr Anna Demo", can_read: bool = True,
                 can_create: bool = True) -> None:
        self.author_name = author_name
        self.can_read, self.can_create = can_read, can_create
        self.pending: dict[str, LocalRecording] = {}
        self.stored: dict[str, StoredRecording] = {}
        self.played: list[str] = []
        self.fail_register: BaseException | None = None
        self._next_at = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

    def register(self, recording: LocalRecording) -> None:
        if not self.can_create:
            raise PermissionDenied("Your role does not include recording dictations.")
        if self.fail_register is not None:
            raise self.fail_register
        self.pending[recording.id] = recording

    def deliver(self, recording_id: str) -> None:
        rec = self.pending.pop(recording_id, None)
        if rec is not None:
            self.add(rec.target, duration_ms=rec.duration_ms, rec_id=rec.id)

    def add(self, target: RecordingTarget, *, duration_ms: int = 65_000,
            rec_id: str | None = None, author: str | None = None,
            status: str = "uploaded") -> StoredRecording:
        self._next_at += timedelta(minutes=5)
        stored = StoredRecording(rec_id or uuid.uuid4().hex, target.patient_id,
                                 target.patient_caption, target.encounter_id, target.note_id,
                                 author or self.author_name, self._next_at, duration_ms,
                                 duration_ms * 2, target.priority, target.work_type, status)
        self.stored[stored.id] = stored
        return stored

    def recordings(self, patient_id: int) -> tuple[StoredRecording, ...]:
        if not self.can_read:
            raise PermissionDenied("Your role does not include listening to recordings.")
        mine = [r for r in self.stored.values() if r.patient_id == patient_id]
        return tuple(sorted(mine, key=lambda r: r.recorded_at, reverse=True))

    def worklist(self) -> tuple[StoredRecording, ...]:
        order = {"stat": 0, "urgent": 1, "routine": 2}
        return tuple(sorted((r for r in self.stored.values() if r.status != "transcribed"),
                            key=lambda r: (order[r.priority], r.recorded_at)))

    def audio(self, recording_id: str) -> bytes:
        if not self.can_read:
            raise PermissionDenied("Your role does not include listening to recordings.")
        self.played.append(recording_id)
        return fake_audio()


def _mmss(ms: int) -> str:
    s = ms // 1000
    return f"{s // 60:02d}:{s % 60:02d}"

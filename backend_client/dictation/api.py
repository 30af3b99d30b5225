"""What dictation offers the app (docs/dictation.md has the whole design).

Four parts, each Qt-free, each with a fake for presenter tests (tests/gui/fake_dictation.py):

- ``DictationRecorder`` (backend_client/dictation/capture.py): one per running app. The
  sounddevice callback only copies frames onto a queue; a writer thread encodes ~2 s
  segments as OGG/Opus, seals each (AES-256-GCM under the recording's key, itself wrapped
  by the workstation key from the OS keyring or a 0600 file), fsyncs and renames it into
  place. Whatever happens, at most the unfinished segment is lost.
- ``LocalDictations`` (backend_client/dictation/local_store.py): the recordings on this
  workstation, what survived a crash, and their audio (decrypted, edits applied).
- ``UploadQueueApi`` (backend_client/dictation/queue.py + upload.py): the durable queue
  (SQLite in WAL mode) and its delivery: object → MongoDB document → PostgreSQL row, each
  idempotent; ``run_once`` is called by the upload worker on the upload pool.
- ``RecordingsApi`` (backend_client/dictation/service.py): what is stored, for the chart and
  the transcription worklist; playback audited.

Errors: ``DeviceProblem`` (no microphone, device lost, disk full: a sentence),
``PermissionDenied``, ``NotFound``, ``Unavailable``, ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from backend_client.dictation.dto import (
    LocalRecording,
    QueueItem,
    RecorderStatus,
    RecordingTarget,
    StoredRecording,
)


class DictationRecorder(Protocol):
    """One recording at a time is open in the recorder. All methods return at once (no
    I/O waits longer than opening the device); the GUI polls ``status()``."""

    def microphone_problem(self) -> str:
        """"" when an input device can be opened; else the sentence to show beside a
        disabled Record button ("No microphone was found. Connect one and ...")."""
        ...

    def new(self, author_id: int, target: RecordingTarget) -> LocalRecording:
        """A new, empty recording on disk (manifest written and fsynced), open in the
        recorder, paused at 0. The recording open before must have been stopped, paused or
        discarded; a paused one stays on disk for its author."""
        ...

    def open(self, recording_id: str, author_id: int) -> LocalRecording:
        """Reopen one of this author's paused or interrupted recordings, positioned at its
        end. ``PermissionDenied`` for another author's."""
        ...

    def record(self) -> None:
        """Capture from the current position in the current mode (``append`` at the end;
        ``overwrite`` replaces audio from the position on as long as capture runs;
        ``insert`` pushes what follows later). ``DeviceProblem`` when no device opens."""
        ...

    def pause(self) -> None:
        """Stop capturing; the frames captured so far are written as a (short) segment."""
        ...

    def seek(self, position_ms: int) -> None:
        """Rewind/forward (clamped to 0 … duration); only while not capturing."""
        ...

    def set_mode(self, mode: str) -> None:
        """One of RECORD_MODES; takes effect at the next ``record()``."""
        ...

    def stop(self) -> LocalRecording:
        """Finish the open recording: flushed, state "stopped", recorder idle. The caller
        then queues it (``UploadQueueApi.enqueue``)."""
        ...

    def discard(self) -> None:
        """Remove the open recording from disk (the user confirmed)."""
        ...

    def status(self) -> RecorderStatus:
        ...

    def close(self) -> None:
        """App exit, sign-out or lock: pause (flushing), release the device. The open
        recording stays on disk, paused, for its author."""
        ...


class LocalDictations(Protocol):
    def recordings(self, author_id: int) -> tuple[LocalRecording, ...]:
        """This author's recordings on the workstation not yet queued (paused, stopped,
        interrupted), newest first."""
        ...

    def interrupted(self, author_id: int) -> tuple[LocalRecording, ...]:
        """Those a crash left (no recorder held them): offered at sign-in."""
        ...

    def audio(self, recording_id: str, author_id: int) -> bytes:
        """The recording as one OGG/Opus file (decrypted, edits applied): for playback
        before delivery. Raises ``PermissionDenied`` for another author's."""
        ...

    def discard(self, recording_id: str, author_id: int) -> None:
        ...


class UploadQueueApi(Protocol):
    def enqueue(self, recording: LocalRecording, *, registered: bool = False) -> QueueItem:
        """Queue a stopped recording (idempotent: queuing it again returns its item).
        ``registered``: its PostgreSQL row was registered at stop, so delivery need not
        register it again (a round trip less); False, and delivery registers it."""
        ...

    def items(self) -> tuple[QueueItem, ...]:
        """Everything not yet done, and what was done in the last hour, oldest first."""
        ...

    def waiting(self) -> int:
        """How many are not yet delivered (the status bar's count)."""
        ...

    def retry(self, recording_id: str) -> None:
        """A failed item is tried again now."""
        ...

    def run_once(self, progress: Callable[[str, int, int], None] | None = None
                 ) -> QueueItem | None:
        """Deliver the next due item (blocking: the upload pool only) and return it in its
        new state; None when nothing is due. ``progress(recording_id, sent, total)``."""
        ...

    def next_due_in(self) -> float | None:
        """Seconds until an item is due (0 when one is now), None when none waits."""
        ...


class RecordingsApi(Protocol):
    """Permissions: ``recording.create`` registers (doctor); ``recording.read`` lists and
    plays (doctor, nurse, transcriptionist); reception neither (``PermissionDenied``)."""

    def register(self, recording: LocalRecording) -> None:
        """At stop, with the author's session: the ``recordings`` row in state "pending"
        (invisible to lists until delivered). Idempotent by id."""
        ...

    def recordings(self, patient_id: int) -> tuple[StoredRecording, ...]:
        """The patient's delivered recordings, newest first."""
        ...

    def worklist(self) -> tuple[StoredRecording, ...]:
        """Delivered recordings not yet transcribed, STAT then urgent then routine, oldest
        first within each (the transcriptionist's list)."""
        ...

    def audio(self, recording_id: str) -> bytes:
        """The recording as OGG/Opus, fetched from object storage and decrypted; audited
        ("recording.play")."""
        ...

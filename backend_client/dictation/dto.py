"""Dictation as the UI sees it (frozen; the UI may import this module).

A recording lives first on the workstation (encrypted segments under the data dir,
``LocalRecording``), then waits in the upload queue (``QueueItem``), then is stored: an
encrypted object in S3, a metadata document in MongoDB and the ``recordings`` row in
PostgreSQL that makes it visible in the chart (``StoredRecording``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PRIORITIES = ("routine", "urgent", "stat")          # STAT first, then urgent
WORK_TYPES = ("letter", "note", "report")
PRIORITY_LABELS = {"routine": "Routine", "urgent": "Urgent", "stat": "STAT"}
WORK_TYPE_LABELS = {"letter": "Letter", "note": "Note", "report": "Report"}

# Where new audio goes when recording starts from a position (dictation products' modes).
RECORD_MODES = ("append", "overwrite", "insert")

# A local recording's life on the workstation.
LOCAL_STATES = ("recording", "paused", "stopped", "interrupted")
# ``interrupted``: found at start-up with no recorder holding it (a crash, kill -9, power
# cut): offered to its author to finish (queue it) or discard.

# An upload queue item's life.
QUEUE_STATES = ("waiting", "uploading", "registering", "done", "failed")
# ``waiting``: not yet tried, or a transient error (network, S3 down): retried with
# full-jitter backoff by itself. ``failed``: a permanent error (access denied, no bucket,
# damaged local copy): shown with its sentence, retried only when the user asks.

SAMPLE_RATE = 16_000
SEGMENT_SECONDS = 2.0


@dataclass(frozen=True)
class RecordingTarget:
    """What a new recording is linked to and how it is to be typed."""

    patient_id: int
    patient_caption: str            # "Müller, Anna · born 12 Mar 1984 · MRN M1000001"
    encounter_id: int | None = None
    note_id: str | None = None
    priority: str = "routine"       # one of PRIORITIES
    work_type: str = "note"         # one of WORK_TYPES


@dataclass(frozen=True)
class LocalRecording:
    """A recording on this workstation (not yet delivered, or kept by retention)."""

    id: str                          # uuid4 hex, made on the workstation: the key everywhere
    author_id: int
    target: RecordingTarget
    started_at: datetime             # the workstation's clock: a label, not the record
    duration_ms: int                 # of the audio as edited (overwrite/insert applied)
    size_bytes: int                  # encrypted segments on disk
    state: str                       # one of LOCAL_STATES


@dataclass(frozen=True)
class RecorderStatus:
    """What the recorder shows, polled ~30 times a second by the GUI."""

    state: str                       # "idle", "recording", "paused", "stopped"
    recording_id: str | None
    position_ms: int                 # where the next recorded or played audio is
    duration_ms: int
    level: float                     # 0.0–1.0, the last ~50 ms of input (peak, dBFS-scaled)
    mode: str                        # one of RECORD_MODES
    problem: str = ""                # a sentence: device lost, disk full; "" when none


@dataclass(frozen=True)
class QueueItem:
    recording_id: str
    author_id: int
    patient_caption: str
    priority: str
    state: str                       # one of QUEUE_STATES
    size_bytes: int
    sent_bytes: int
    attempts: int
    problem: str                     # the last error as a sentence ("" when none)
    queued_at: datetime              # workstation clock (a label)
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class StoredRecording:
    """A delivered recording, as the chart and the transcription list show it."""

    id: str
    patient_id: int
    patient_caption: str
    encounter_id: int | None
    note_id: str | None
    author_name: str
    recorded_at: datetime            # PostgreSQL's clock: when the row was made
    duration_ms: int
    size_bytes: int
    priority: str
    work_type: str
    status: str                      # "uploaded", "transcribing", "transcribed", "failed"

"""The recorder: microphone → 2 s OGG/Opus segments, sealed, on disk (``DictationRecorder``).

Why this shape (docs/dictation.md, "Capture"): PortAudio calls back on its own real-time
thread, where any wait (a lock, the disk, the GIL held by an encoder) drops audio — so the
callback only copies the block onto a ``SimpleQueue``. A writer thread does the rest:
level and position, and every 32,000 frames encode + seal + write one segment whole
(``LocalDictationStore.write_segment``). A crash at any instant loses at most the segment
being gathered.

Faults are sentences in ``status().problem``, never exceptions on a thread nobody
watches: PortAudio reports a vanished device by simply not calling back any more (no
status flag, no error), so the writer pauses when no block came for ``stall_seconds`` or
the stream went inactive; a full disk pauses with what was written intact (the torn temp
file is removed). sounddevice is imported inside functions only: PortAudio reads
``PULSE_SERVER`` and the device list when it initialises, which must not happen at import.
"""

from __future__ import annotations

import errno
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from backend_client.dictation.dto import (
    RECORD_MODES,
    SAMPLE_RATE,
    SEGMENT_SECONDS,
    LocalRecording,
    RecorderStatus,
    RecordingTarget,
)
from backend_client.dictation.local_store import LocalDictationStore, RecordingLock
from backend_client.errors import DeviceProblem, PermissionDenied

log = logging.getLogger(__name__)

BLOCK_FRAMES = 800                      # 50 ms at 16 kHz
SEGMENT_FRAMES = int(SAMPLE_RATE * SEGMENT_SECONDS)
FRAME_20MS = SAMPLE_RATE // 50

NO_MICROPHONE = ("No microphone was found. Connect one and try again; until then you can "
                 "type the note.")
_STOP = object()

# A stream factory gets the keyword arguments of ``sounddevice.InputStream`` and returns an
# object with start(), stop(), close() and ``active`` (tests may pass their own).
StreamFactory = Callable[..., Any]


def _clock(frames: int) -> str:
    seconds = frames // SAMPLE_RATE
    return f"{seconds // 60}:{seconds % 60:02d}"


def _level(block: np.ndarray) -> float:
    """Peak of the block on a 60 dB scale: -60 dBFS and below → 0.0, full scale → 1.0."""
    peak = int(np.max(np.abs(block.astype(np.int32)))) if len(block) else 0
    if peak <= 0:
        return 0.0
    return max(0.0, min(1.0, (20 * math.log10(peak / 32768) + 60) / 60))


def _rescan() -> None:
    """Let PortAudio see devices plugged in (or a sound server started) since it began."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


class Recorder:
    """``DictationRecorder`` over a ``LocalDictationStore``.

    ``pause``/``stop`` wait for the last (partial) segment to be written — at most 2 s of
    audio to encode and fsync, typically well under 50 ms.

    Args:
        store: where recordings live.
        device: a sounddevice input device (index or name); None is the system default.
        stream_factory: builds the input stream; None is ``sounddevice.InputStream``.
        stall_seconds: no block for this long while recording means the device is gone.
        segment_frames: frames per segment (docs/dictation.md: 2 s); the kill tests use
            shorter ones so that kills land inside segment writes more often.
    """

    def __init__(self, store: LocalDictationStore, *, device: int | str | None = None,
                 stream_factory: StreamFactory | None = None,
                 stall_seconds: float = 1.0, segment_frames: int = SEGMENT_FRAMES) -> None:
        self._store = store
        self._device = device
        self._factory = stream_factory
        self._stall = stall_seconds
        self._segment_frames = segment_frames
        self._lock = threading.Lock()
        self._state = "idle"
        self._rid: str | None = None
        self._author: int | None = None
        self._held: RecordingLock | None = None
        self._mode = "append"
        self._position = 0          # frames
        self._duration = 0          # frames, as edited, on disk
        self._level = 0.0
        self._problem = ""
        self._stream: Any = None
        self._writer: threading.Thread | None = None
        # Per take: where it began, its mode, frames captured and frames on disk.
        self._take = 0
        self._take_at = 0
        self._take_mode = "append"
        self._captured = 0
        self._written = 0
        self._take_problem = ""     # the writer's sentence, "{at}" filled in when paused
        self._pausing = False
        self._flagged = 0           # callbacks with a status flag in this take
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()

    # ----- device -----------------------------------------------------------------------
    def microphone_problem(self) -> str:
        try:
            import sounddevice as sd
        except OSError:
            return ("Sound input is not available on this computer (the PortAudio library "
                    "is missing). Ask your administrator to install it.")
        with self._lock:
            capturing = self._stream is not None
        try:
            if not capturing:
                _rescan()
            if self._device is not None:
                info = sd.query_devices(self._device)
            else:
                info = sd.query_devices(kind="input")
            if int(info["max_input_channels"]) < 1:
                return NO_MICROPHONE
        except Exception:  # noqa: BLE001 - PortAudioError/ValueError: none to be had
            return NO_MICROPHONE
        return ""

    def _open_stream(self) -> Any:
        kwargs = dict(samplerate=SAMPLE_RATE, channels=1, dtype="int16",
                      blocksize=BLOCK_FRAMES, device=self._device, callback=self._callback)
        factory = self._factory
        if factory is None:
            import sounddevice as sd

            factory = sd.InputStream
        last: Exception | None = None
        for attempt in range(2):
            try:
                stream = factory(**kwargs)
                stream.start()
                return stream
            except Exception as exc:  # noqa: BLE001 - PortAudioError, ValueError, OSError
                last = exc
                if attempt == 0 and self._factory is None:
                    _rescan()           # a microphone plugged in since PortAudio began
        log.warning("dictation: input stream did not open: %s", type(last).__name__)
        raise DeviceProblem(self.microphone_problem() or
                            "The microphone could not be opened. Check that no other "
                            "program is using it and try again.")

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy and go. Nothing here may wait.
        self._queue.put(indata.copy())
        if status:                  # input overflow: frames were dropped before we saw them
            self._flagged += 1

    # ----- recordings -------------------------------------------------------------------
    def new(self, author_id: int, target: RecordingTarget) -> LocalRecording:
        self._release_current()
        rec = self._store.create(author_id, target)
        self._take_ownership(rec.id, author_id)
        return self._store.recording(rec.id)

    def open(self, recording_id: str, author_id: int) -> LocalRecording:
        data = self._store.manifest(recording_id)
        if data["author_id"] != author_id:
            raise PermissionDenied("This recording belongs to another author.")
        if self._rid == recording_id:
            return self._store.recording(recording_id)
        self._release_current()
        self._take_ownership(recording_id, author_id)
        self._store.set_state(recording_id, "open")
        return self._store.recording(recording_id)

    def _take_ownership(self, recording_id: str, author_id: int) -> None:
        held = self._store.lock(recording_id)
        duration = self._store.duration_frames(recording_id)
        with self._lock:
            self._held, self._rid, self._author = held, recording_id, author_id
            self._state, self._problem = "paused", ""
            self._duration = self._position = duration

    def _release_current(self) -> None:
        """Pause, mark the manifest "paused" (so the recording is not taken for one a
        crash left), and let go of its lock."""
        rid = self._rid
        if rid is None:
            return
        self.pause()
        try:
            if self._store.manifest(rid)["state"] == "open":
                self._store.set_state(rid, "paused")
        except OSError as exc:      # a full disk: it will be offered as interrupted instead
            log.warning("dictation: manifest not marked paused: %s", type(exc).__name__)
        if self._held is not None:
            self._held.release()
        with self._lock:
            self._held = None
            self._rid = self._author = None
            self._state = "idle"
            self._position = self._duration = 0

    # ----- capture ----------------------------------------------------------------------
    def record(self) -> None:
        with self._lock:
            if self._rid is None:
                raise DeviceProblem("Start a new recording first.")
            if self._state == "recording":
                return
            rid, mode, position, duration = self._rid, self._mode, self._position, \
                self._duration
        self._queue = queue.SimpleQueue()
        stream = self._open_stream()
        at = duration if mode == "append" else position
        try:
            take = self._store.start_take(rid, mode, at)
        except OSError as exc:
            self._close(stream)
            raise DeviceProblem(self._disk_sentence(exc)) from exc
        with self._lock:
            self._stream = stream
            self._take, self._take_at, self._take_mode = take, at, mode
            self._captured = self._written = self._flagged = 0
            self._take_problem = ""
            self._state, self._problem = "recording", ""
            self._writer = threading.Thread(target=self._write_loop, name="dictation-writer",
                                            args=(rid, take, stream), daemon=True)
            self._writer.start()

    def _write_loop(self, rid: str, take: int, stream: Any) -> None:
        blocks: list[np.ndarray] = []
        buffered = 0
        seq = 0
        # PortAudio may take a moment to deliver the first block (a sound server's sinks
        # waking up); only a stall after that, or a long silence at start, is a lost device.
        last_block = time.monotonic() + max(0.0, 3.0 - self._stall)
        problem = ""
        with self._lock:
            mode = self._take_mode

        def flush(frames: int) -> bool:
            nonlocal blocks, buffered, seq, problem
            if frames <= 0:
                return True
            data = np.concatenate(blocks).reshape(-1)
            try:
                self._store.write_segment(rid, take, seq + 1, data[:frames])
            except OSError as exc:
                problem = self._disk_sentence(exc)
                log.warning("dictation: segment not written: %s", errno.errorcode.get(
                    exc.errno or 0, type(exc).__name__))
                return False
            seq += 1
            rest = data[frames:]
            blocks, buffered = ([rest] if len(rest) else []), len(rest)
            with self._lock:
                self._written += frames
            return True

        def last_frames() -> int:
            # An inserted take ends on a whole 20 ms frame (padded with at most 19.9 ms of
            # silence): the delivery file then reuses the encoded audio after the insert
            # instead of encoding it again at stop (assembly.py).
            nonlocal blocks, buffered
            pad = -(self._written + buffered) % FRAME_20MS if mode == "insert" else 0
            if pad and buffered:
                blocks.append(np.zeros((pad, *blocks[-1].shape[1:]), dtype=blocks[-1].dtype))
                buffered += pad
            return buffered

        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                item = None
            if item is _STOP:
                flush(last_frames())
                break
            if item is None:
                if time.monotonic() - last_block > self._stall or not stream.active:
                    flush(last_frames())
                    problem = problem or (
                        "The microphone stopped sending sound (was it unplugged?): "
                        "recording paused. Everything up to {at} is kept.")
                    break
                continue
            last_block = time.monotonic()
            with self._lock:
                self._level = _level(item)
                self._captured += len(item)
            blocks.append(item)
            buffered += len(item)
            if buffered >= self._segment_frames and not flush(self._segment_frames):
                break
        if problem:
            with self._lock:
                self._take_problem = problem
            self._stop_capture()

    def _stop_capture(self) -> None:
        """The writer gave up (device lost, disk full): close the stream and pause."""
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            self._close(stream)
        self._finish_take()

    def _finish_take(self) -> None:
        """Paused, with position, duration and any sentence in one step (the GUI polls
        from another thread and must never see "paused" with the old clock), then the
        duration from the disk. Idempotent: pause and the writer may both get here."""
        with self._lock:
            if self._state == "recording":
                self._position = self._take_at + self._written
                if self._take_mode == "overwrite":
                    self._duration = max(self._duration, self._position)
                else:
                    self._duration += self._written
                if self._take_problem:
                    self._problem = self._take_problem.replace("{at}",
                                                               _clock(self._position))
                    self._take_problem = ""
                self._state = "paused"
                self._level = 0.0
                settle = True
            else:
                settle = False
            self._pausing = False
            flagged = self._flagged
        if settle:
            if flagged:
                log.warning("dictation: %d audio blocks came with a PortAudio status flag "
                            "(input overflow) in this take", flagged)
            self._settle()

    @staticmethod
    def _close(stream: Any) -> None:
        try:
            stream.stop()
        except Exception:  # noqa: BLE001 - a lost device may refuse; closing still frees it
            pass
        try:
            stream.close()
        except Exception:  # noqa: BLE001
            pass

    @staticmethod
    def _disk_sentence(exc: OSError) -> str:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return ("The disk is full: recording paused. Everything up to {at} is kept; "
                    "free some space, then record again.")
        return ("The recording could not be written to disk: recording paused. Everything "
                "up to {at} is kept.")

    def _settle(self) -> None:
        """After a take: duration from the disk, position where the take's audio ended."""
        rid = self._rid
        if rid is None:
            return
        duration = self._store.duration_frames(rid)
        with self._lock:
            self._duration = duration
            self._position = min(duration, self._take_at + self._written)

    def pause(self) -> None:
        with self._lock:
            if self._state != "recording" or self._pausing:
                return
            self._pausing = True
            stream, self._stream = self._stream, None
            writer = self._writer
        if stream is not None:
            self._close(stream)     # stop() returns once the last callback has run
        self._queue.put(_STOP)
        if writer is not None:
            writer.join()
        self._finish_take()

    def seek(self, position_ms: int) -> None:
        with self._lock:
            if self._state == "recording":
                return
            frames = int(position_ms) * SAMPLE_RATE // 1000
            self._position = max(0, min(frames, self._duration))

    def set_mode(self, mode: str) -> None:
        if mode not in RECORD_MODES:
            raise ValueError(f"unknown record mode {mode!r}")
        with self._lock:
            self._mode = mode

    def stop(self) -> LocalRecording:
        rid = self._rid
        if rid is None:
            raise DeviceProblem("No recording is open.")
        self.pause()
        try:
            self._store.set_state(rid, "stopped")
        except OSError as exc:
            raise DeviceProblem(self._disk_sentence(exc).replace(
                "{at}", _clock(self._position))) from exc
        rec = self._store.recording(rid)
        self._release_current()
        return rec

    def discard(self) -> None:
        rid, author = self._rid, self._author
        if rid is None or author is None:
            return
        self._release_current()
        self._store.discard(rid, author)

    def status(self) -> RecorderStatus:
        with self._lock:
            position, duration = self._position, self._duration
            if self._state == "recording":
                position = self._take_at + self._captured
                if self._take_mode == "overwrite":
                    duration = max(self._duration, position)
                else:
                    duration = self._duration + self._captured
            return RecorderStatus(
                state=self._state, recording_id=self._rid,
                position_ms=position * 1000 // SAMPLE_RATE,
                duration_ms=duration * 1000 // SAMPLE_RATE,
                level=self._level if self._state == "recording" else 0.0,
                mode=self._mode, problem=self._problem)

    def close(self) -> None:
        self._release_current()

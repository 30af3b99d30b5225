"""Recordings on this workstation: manifests, sealed segments, the edit list (no Qt).

Layout and rules are docs/dictation.md's: ``<data dir>/dictation/rec/<id>/`` holds an
atomically written ``manifest.json`` and the takes' sealed ~2 s segments. Why segments and
an edit list instead of one growing file: every segment is written whole (tmp, fsync,
rename, fsync the folder) and never touched again, so a crash, kill -9, power cut or full
disk loses at most the segment being written, and overwrite/insert cost nothing while
recording — the audio as heard is rebuilt from the takes when it is played or delivered.

A segment that does not open (a torn write the rename never published cannot exist, but a
flipped bit or a file copied from elsewhere can) is left out and reported by ``damaged``;
it never stops the rest from playing. Whether a recording is *interrupted* is decided by
``fcntl.flock`` on its ``recorder.lock``: the kernel drops the lock when its holder dies,
however it dies.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from backend_client.dictation import codec, ogg_opus, sealing
from backend_client.dictation.assembly import Assembly
from backend_client.dictation.dto import (
    RECORD_MODES,
    SAMPLE_RATE,
    LocalRecording,
    RecordingTarget,
)
from backend_client.dictation.keys import dictation_dir, workstation_key
from backend_client.errors import NotFound, PermissionDenied, ValidationError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
LOCK = "recorder.lock"
_SEG_RE = re.compile(r"^t(\d{4})-(\d{6})\.seg$")


@dataclass(frozen=True)
class Piece:
    """Frames ``[first, stop)`` of segment ``seq`` of take ``take`` (half-open)."""

    take: int
    seq: int
    first: int
    stop: int

    @property
    def frames(self) -> int:
        return self.stop - self.first


def segment_name(take: int, seq: int) -> str:
    return f"t{take:04d}-{seq:06d}.seg"


def _split(pieces: list[Piece], pos: int) -> tuple[list[Piece], list[Piece]]:
    """The pieces before frame ``pos`` and from it on, cutting the piece it falls in."""
    left: list[Piece] = []
    right: list[Piece] = []
    at = 0
    for p in pieces:
        end = at + p.frames
        if end <= pos:
            left.append(p)
        elif at >= pos:
            right.append(p)
        else:
            cut = p.first + (pos - at)
            left.append(Piece(p.take, p.seq, p.first, cut))
            right.append(Piece(p.take, p.seq, cut, p.stop))
        at = end
    return left, right


def apply_take(pieces: list[Piece], mode: str, at: int, new: list[Piece]) -> list[Piece]:
    """The edit list after a take of ``new`` pieces recorded in ``mode`` at frame ``at``.

    ``append`` adds at the end; ``overwrite`` replaces ``[at, at+L)`` (growing the recording
    when it runs past the end); ``insert`` puts the take at ``at`` and moves the rest later.
    ``at`` beyond the end (segments lost since the take began) means the end.
    """
    length = sum(p.frames for p in new)
    if length == 0:
        return pieces
    total = sum(p.frames for p in pieces)
    if mode == "append":
        return pieces + new
    at = max(0, min(at, total))
    left, rest = _split(pieces, at)
    if mode == "insert":
        return left + new + rest
    if mode == "overwrite":
        _gone, right = _split(rest, length)
        return left + new + right
    raise ValueError(f"unknown record mode {mode!r}")


class RecordingLock:
    """``recorder.lock`` held with ``flock`` while a recorder has the recording open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)          # closing the descriptor drops the flock
            self._fd = None


class LocalDictationStore:
    """``LocalDictations`` plus what the recorder writes through.

    Args:
        data_dir: the app's data folder (``<data dir>/dictation`` is made 0700).
        key: the workstation key; when None it is fetched (keyring or file) on first use.
        use_keyring: False keeps the key in the 0600 file only.
    """

    def __init__(self, data_dir: Path, *, key: bytes | None = None,
                 use_keyring: bool = True) -> None:
        self._data_dir = Path(data_dir)
        self._key = key
        self._use_keyring = use_keyring
        self._lock = threading.Lock()
        # Segment files never change once renamed into place: (size, mtime) → frames
        # (None: does not open) saves decrypting every segment on every listing.
        self._checked: dict[Path, tuple[int, int, int | None]] = {}
        self._rec_keys: dict[str, bytes] = {}
        # Recordings made since this store opened: their delivery file, encoded as the
        # segments are written and re-encoded only around an edit's joins (assembly.py),
        # so that at stop it is ready; assembling five minutes from the segments
        # afterwards takes ~2 s of CPU.
        self._running: dict[str, Assembly] = {}

    # ----- paths, keys, manifests -------------------------------------------------------
    @property
    def root(self) -> Path:
        path = dictation_dir(self._data_dir) / "rec"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def folder(self, recording_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", recording_id):
            raise NotFound("No such recording on this workstation.")
        return self.root / recording_id

    def _workstation_key(self) -> bytes:
        if self._key is None:
            self._key = workstation_key(self._data_dir, use_keyring=self._use_keyring)
        return self._key

    def manifest(self, recording_id: str) -> dict[str, Any]:
        try:
            raw = (self.folder(recording_id) / MANIFEST).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("No such recording on this workstation.") from exc
        data: dict[str, Any] = json.loads(raw)
        return data

    def _write_manifest(self, recording_id: str, data: dict[str, Any]) -> None:
        sealing.atomic_write(self.folder(recording_id) / MANIFEST,
                             json.dumps(data, sort_keys=True).encode())

    def recording_key(self, recording_id: str) -> bytes:
        with self._lock:
            key = self._rec_keys.get(recording_id)
        if key is None:
            wrapped = base64.b64decode(self.manifest(recording_id)["wrapped_key"])
            key = sealing.unwrap_key(self._workstation_key(), recording_id, wrapped)
            with self._lock:
                self._rec_keys[recording_id] = key
        return key

    # ----- what the recorder writes -----------------------------------------------------
    def create(self, author_id: int, target: RecordingTarget,
               recording_id: str | None = None) -> LocalRecording:
        """A new empty recording: its folder (0700) and manifest (state "open")."""
        rid = recording_id or uuid.uuid4().hex
        folder = self.folder(rid)
        folder.mkdir(mode=0o700)
        rkey = sealing.new_key()
        data = {
            "format": 1, "id": rid, "author_id": author_id, "target": asdict(target),
            "started_at": datetime.now(UTC).isoformat(),
            "wrapped_key": base64.b64encode(
                sealing.wrap_key(self._workstation_key(), rid, rkey)).decode(),
            "sample_rate": SAMPLE_RATE, "state": "open", "takes": [],
        }
        self._write_manifest(rid, data)
        sealing.fsync_dir(self.root)
        with self._lock:
            self._rec_keys[rid] = rkey
        return self.recording(rid)

    def lock(self, recording_id: str, timeout: float = 1.0) -> RecordingLock:
        """Hold the recording for a recorder; ``PermissionDenied`` when another holds it.

        Stale ``.tmp`` files (a segment torn by a crash) are removed once it is held.
        """
        folder = self.folder(recording_id)
        path = folder / LOCK
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # ``interrupted()`` probes the lock for an instant; a real holder keeps it.
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise PermissionDenied(
                        "This recording is open in another window of the app.") from None
                time.sleep(0.02)
        for tmp in folder.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
        return RecordingLock(path, fd)

    def is_held(self, recording_id: str) -> bool:
        path = self.folder(recording_id) / LOCK
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def start_take(self, recording_id: str, mode: str, at: int) -> int:
        """Note a new take (manifest rewritten) and return its number."""
        if mode not in RECORD_MODES:
            raise ValueError(f"unknown record mode {mode!r}")
        pieces = self.pieces(recording_id)       # the takes on disk; none is being written
        self._settle_assembly(recording_id, pieces)
        end = sum(p.frames for p in pieces)
        with self._lock:
            running = self._running.get(recording_id)
            if running is not None and running.frames != end:
                # A segment that no longer opens: the segments decide, at stop.
                self._drop_assembly(recording_id)
                running = None
            if running is None and end == 0:
                lib = ogg_opus.load()
                if lib is not None:
                    running = Assembly(lib, bitrate=codec.BITRATE,
                                       complexity=codec.COMPLEXITY)
                    self._running[recording_id] = running
        if running is not None and mode != "append" and 0 <= int(at) < end:
            running.begin_edit(mode, int(at), self._reader(recording_id, pieces))
        data = self.manifest(recording_id)
        take = max((t["take"] for t in data["takes"]), default=0) + 1
        data["takes"].append({"take": take, "mode": mode, "at": int(at)})
        data["state"] = "open"
        self._write_manifest(recording_id, data)
        return take

    def _reader(self, recording_id: str,
                pieces: list[Piece]) -> Callable[[int, int], np.ndarray]:
        """Frames ``[a, b)`` of the recording whose edit list is ``pieces``."""

        def read(a: int, b: int) -> np.ndarray:
            _before, rest = _split(pieces, a)
            span, _after = _split(rest, b - a)
            parts = list(self.iter_pcm(recording_id, span))
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
        return read

    def assembled(self, recording_id: str) -> bool:
        """Whether the delivery file is being kept encoded (else it is made at stop)."""
        with self._lock:
            return recording_id in self._running

    def _settle_assembly(self, recording_id: str, pieces: list[Piece]) -> None:
        """Join the last edit's take into the delivery file (or give the file up);
        ``pieces`` is the edit list with that take."""
        with self._lock:
            running = self._running.get(recording_id)
        if running is not None and running.editing and \
                not running.end_edit(self._reader(recording_id, pieces)):
            with self._lock:
                self._drop_assembly(recording_id)

    def _drop_assembly(self, recording_id: str) -> None:
        running = self._running.pop(recording_id, None)
        if running is not None:
            running.close()

    def write_segment(self, recording_id: str, take: int, seq: int,
                      frames: np.ndarray) -> int:
        """Encode, seal and write one segment whole; returns its size in bytes.

        ``OSError`` (a full disk above all) leaves no temp file and nothing else changed.
        """
        n = len(frames)
        blob = sealing.seal_segment(self.recording_key(recording_id), recording_id, take,
                                    seq, n, codec.encode(frames))
        path = self.folder(recording_id) / segment_name(take, seq)
        sealing.atomic_write(path, blob)
        with self._lock:
            running = self._running.get(recording_id)
        if running is not None:
            running.write(frames)      # only once the segment is on disk
        return len(blob)

    def set_state(self, recording_id: str, state: str) -> None:
        data = self.manifest(recording_id)
        if data["state"] != state:
            data["state"] = state
            self._write_manifest(recording_id, data)

    # ----- reading back -----------------------------------------------------------------
    def _segments(self, recording_id: str) -> dict[int, list[tuple[int, Path]]]:
        by_take: dict[int, list[tuple[int, Path]]] = {}
        for path in self.folder(recording_id).iterdir():
            m = _SEG_RE.match(path.name)
            if m:
                by_take.setdefault(int(m[1]), []).append((int(m[2]), path))
        for segs in by_take.values():
            segs.sort()
        return by_take

    def _frames_of(self, recording_id: str, take: int, seq: int, path: Path) -> int | None:
        """The segment's frame count if it opens, else None (cached per file version)."""
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        with self._lock:
            hit = self._checked.get(path)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        frames: int | None
        try:
            frames, _ = sealing.open_segment(self.recording_key(recording_id), recording_id,
                                             take, seq, path.read_bytes())
        except (sealing.SealError, OSError):
            log.warning("dictation: segment %s of recording %s does not open; left out",
                        path.name, recording_id)
            frames = None
        with self._lock:
            self._checked[path] = (st.st_size, st.st_mtime_ns, frames)
        return frames

    def pieces(self, recording_id: str) -> list[Piece]:
        """The edit list: which frames of which segment play, in order."""
        data = self.manifest(recording_id)
        segs = self._segments(recording_id)
        pieces: list[Piece] = []
        for t in data["takes"]:
            new = []
            for seq, path in segs.get(t["take"], []):
                n = self._frames_of(recording_id, t["take"], seq, path)
                if n:
                    new.append(Piece(t["take"], seq, 0, n))
            pieces = apply_take(pieces, t["mode"], t["at"], new)
        return pieces

    def damaged(self, recording_id: str) -> tuple[str, ...]:
        """Names of segment files that do not open (left out of the audio)."""
        out = []
        for take, segs in sorted(self._segments(recording_id).items()):
            for seq, path in segs:
                if self._frames_of(recording_id, take, seq, path) is None:
                    out.append(path.name)
        return tuple(out)

    def duration_frames(self, recording_id: str) -> int:
        return sum(p.frames for p in self.pieces(recording_id))

    def iter_pcm(self, recording_id: str,
                 pieces: list[Piece] | None = None) -> Iterator[np.ndarray]:
        """The edited audio as int16 arrays, piece by piece (one segment decoded at a time)."""
        key = self.recording_key(recording_id)
        folder = self.folder(recording_id)
        cached: tuple[tuple[int, int], np.ndarray] | None = None
        for p in self.pieces(recording_id) if pieces is None else pieces:
            if cached is None or cached[0] != (p.take, p.seq):
                data = (folder / segment_name(p.take, p.seq)).read_bytes()
                n, payload = sealing.open_segment(key, recording_id, p.take, p.seq, data)
                cached = ((p.take, p.seq), codec.decode(payload, n))
            yield cached[1][p.first:p.stop]

    def pcm(self, recording_id: str) -> np.ndarray:
        parts = list(self.iter_pcm(recording_id))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

    def _owned(self, recording_id: str, author_id: int) -> dict[str, Any]:
        data = self.manifest(recording_id)
        if data["author_id"] != author_id:
            raise PermissionDenied("This recording belongs to another author.")
        return data

    def audio(self, recording_id: str, author_id: int) -> bytes:
        """The edited recording as one OGG/Opus file (re-encoded once, in memory)."""
        self._owned(recording_id, author_id)
        return self.render(recording_id)

    def render(self, recording_id: str) -> bytes:
        """``audio`` without the author check: for delivery, which runs signed out too.

        ``ValidationError`` for a recording with no audio: an OGG/Opus file of no frames
        is one libsndfile itself refuses to read, so none is made.
        """
        pieces = self.pieces(recording_id)
        frames = sum(p.frames for p in pieces)
        if frames == 0:
            raise ValidationError("audio", "The recording is empty: nothing was recorded.")
        if self.manifest(recording_id)["state"] == "stopped":
            self._settle_assembly(recording_id, pieces)
            with self._lock:
                running = self._running.get(recording_id)
            if running is not None and running.frames == frames:
                return running.finish()
        out = io.BytesIO()
        with codec.writer(out) as fh:
            for part in self.iter_pcm(recording_id, pieces):
                fh.write(part)
        return out.getvalue()

    def recording(self, recording_id: str, *, held_state: str = "paused") -> LocalRecording:
        data = self.manifest(recording_id)
        folder = self.folder(recording_id)
        size = sum(p.stat().st_size for p in folder.glob("*.seg"))
        state = data["state"]        # "open", "paused", "stopped" ("discarded" is not listed)
        if state == "open":
            state = held_state if self.is_held(recording_id) else "interrupted"
        return LocalRecording(
            id=recording_id, author_id=data["author_id"],
            target=RecordingTarget(**data["target"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            duration_ms=self.duration_frames(recording_id) * 1000 // SAMPLE_RATE,
            size_bytes=size, state=state)

    # ----- LocalDictations --------------------------------------------------------------
    def _ids(self) -> list[str]:
        return [p.name for p in self.root.iterdir()
                if p.is_dir() and (p / MANIFEST).exists()]

    def recordings(self, author_id: int) -> tuple[LocalRecording, ...]:
        out = []
        for rid in self._ids():
            try:
                data = self.manifest(rid)
                if data["author_id"] != author_id or data["state"] == "discarded":
                    continue
                out.append(self.recording(rid))
            except (NotFound, ValueError, KeyError, sealing.SealError) as exc:
                log.warning("dictation: recording %s unreadable: %s", rid, type(exc).__name__)
        return tuple(sorted(out, key=lambda r: r.started_at, reverse=True))

    def interrupted(self, author_id: int) -> tuple[LocalRecording, ...]:
        return tuple(r for r in self.recordings(author_id) if r.state == "interrupted")

    def discard(self, recording_id: str, author_id: int) -> None:
        self._owned(recording_id, author_id)
        self.set_state(recording_id, "discarded")     # a crash mid-removal stays discarded
        self.remove(recording_id)

    def remove(self, recording_id: str) -> None:
        """Delete the local copy (after delivery was verified, or a discard)."""
        folder = self.folder(recording_id)
        shutil.rmtree(folder, ignore_errors=True)
        sealing.fsync_dir(self.root)
        with self._lock:
            self._rec_keys.pop(recording_id, None)
            self._drop_assembly(recording_id)
            for path in [p for p in self._checked if p.parent == folder]:
                del self._checked[path]

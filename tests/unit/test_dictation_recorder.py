"""The recorder's clock and edits, and a device that goes quiet, with a fake input stream
at our own seam (the stream factory): blocks are handed over as fast as the test likes.
Real capture from a (virtual) microphone is tests/integration/test_dictation_capture.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend_client.dictation.capture import Recorder
from backend_client.dictation.dto import RecordingTarget
from backend_client.dictation.local_store import LocalDictationStore
from backend_client.errors import DeviceProblem, PermissionDenied

TARGET = RecordingTarget(patient_id=9, patient_caption="Poe, Edgar")


class FakeStream:
    """Hands ``blocks`` blocks of 800 frames to the callback, then goes quiet (as PortAudio
    does when a device vanishes) but stays "active"."""

    def __init__(self, blocks: int, callback: Any, **_: Any) -> None:
        self.blocks, self.callback, self.active = blocks, callback, False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for i in range(self.blocks):
            if not self.active:
                return
            block = np.full((800, 1), (i % 100) * 100, dtype=np.int16)
            self.callback(block, 800, None, None)

    def start(self) -> None:
        self.active = True
        self._thread.start()

    def stop(self) -> None:
        self.active = False
        self._thread.join()

    def close(self) -> None:
        self.active = False


class Feeder:
    """A stream factory; ``blocks`` for the next stream opened."""

    def __init__(self) -> None:
        self.blocks = 0
        self.fail = False

    def __call__(self, **kwargs: Any) -> FakeStream:
        if self.fail:
            raise OSError("Error querying device -1")
        return FakeStream(self.blocks, **kwargs)


@pytest.fixture
def rig(tmp_path: Path) -> tuple[LocalDictationStore, Recorder, Feeder]:
    store = LocalDictationStore(tmp_path, key=bytes(32))
    feeder = Feeder()
    return store, Recorder(store, stream_factory=feeder, stall_seconds=0.3), feeder


def capture(recorder: Recorder, feeder: Feeder, blocks: int) -> None:
    """Record ``blocks`` blocks (50 ms each) from the current position, then pause."""
    status = recorder.status()
    start = status.duration_ms if status.mode == "append" else status.position_ms
    feeder.blocks = blocks
    recorder.record()
    deadline = time.monotonic() + 10
    while recorder.status().position_ms < start + 50 * blocks:
        assert time.monotonic() < deadline, recorder.status()
        time.sleep(0.005)
    recorder.pause()


def test_clock_segments_and_edits(rig: tuple[LocalDictationStore, Recorder, Feeder]) -> None:
    store, recorder, feeder = rig
    rec = recorder.new(1, TARGET)
    capture(recorder, feeder, 70)                          # 3.5 s
    s = recorder.status()
    assert (s.state, s.position_ms, s.duration_ms) == ("paused", 3500, 3500)
    assert [p.frames for p in store.pieces(rec.id)] == [32_000, 24_000]   # 2 s + the rest
    recorder.seek(1000)
    recorder.set_mode("overwrite")
    capture(recorder, feeder, 20)                          # 1 s over 1.0-2.0 s
    s = recorder.status()
    assert (s.position_ms, s.duration_ms) == (2000, 3500)
    recorder.seek(500)
    recorder.set_mode("insert")
    capture(recorder, feeder, 10)                          # 0.5 s pushed in at 0.5 s
    s = recorder.status()
    assert (s.position_ms, s.duration_ms) == (1000, 4000)
    recorder.seek(99_000)
    assert recorder.status().position_ms == 4000           # clamped to the end
    assert [t["mode"] for t in store.manifest(rec.id)["takes"]] == [
        "append", "overwrite", "insert"]
    stopped = recorder.stop()
    assert (stopped.state, stopped.duration_ms) == ("stopped", 4000)
    assert recorder.status().state == "idle"


def test_a_device_that_goes_quiet_pauses_with_what_it_gave_kept(
        rig: tuple[LocalDictationStore, Recorder, Feeder]) -> None:
    store, recorder, feeder = rig
    rec = recorder.new(1, TARGET)
    feeder.blocks = 50                                     # 2.5 s, then nothing
    recorder.record()
    deadline = time.monotonic() + 10
    while not recorder.status().problem and time.monotonic() < deadline:
        time.sleep(0.02)
    s = recorder.status()
    assert s.state == "paused" and s.duration_ms == 2500
    assert s.problem == ("The microphone stopped sending sound (was it unplugged?): "
                         "recording paused. Everything up to 0:02 is kept.")
    assert store.duration_frames(rec.id) == 40_000


def test_no_device_refuses_to_record_and_starts_no_take(
        rig: tuple[LocalDictationStore, Recorder, Feeder]) -> None:
    store, recorder, feeder = rig
    rec = recorder.new(1, TARGET)
    feeder.fail = True
    with pytest.raises(DeviceProblem):
        recorder.record()
    assert store.manifest(rec.id)["takes"] == []
    assert recorder.status().state == "paused"


def test_only_the_author_reopens_and_a_discard_removes(
        rig: tuple[LocalDictationStore, Recorder, Feeder]) -> None:
    store, recorder, feeder = rig
    rec = recorder.new(1, TARGET)
    capture(recorder, feeder, 4)
    recorder.close()
    other = Recorder(store, stream_factory=feeder)
    with pytest.raises(PermissionDenied):
        other.open(rec.id, 2)
    assert other.open(rec.id, 1).duration_ms == 200
    with pytest.raises(ValueError):
        other.set_mode("shuffle")
    other.discard()
    assert store.recordings(1) == () and other.status().state == "idle"

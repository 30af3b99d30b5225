"""Faults a doctor meets: no microphone, the headset pulled out mid-sentence, a full disk.
Each is a sentence and a paused recorder; nothing already written is lost or damaged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend_client.dictation.capture import NO_MICROPHONE, Recorder
from backend_client.dictation.dto import RecordingTarget
from backend_client.dictation.local_store import LocalDictationStore
from backend_client.errors import DeviceProblem
from tests.audio_support import (  # noqa: F401 - fixtures
    SETTLE,
    PulseServer,
    best_match,
    disk_full_scenario,
    pulse_env,
    read_wav,
    speech,
    start_pulse,
    virtual_mic,
)

RATE = 16_000
TARGET = RecordingTarget(patient_id=5, patient_caption="Roe, Richard")
ROOT = Path(__file__).resolve().parents[2]


def test_no_microphone_is_a_sentence_and_record_refuses(tmp_path: Path) -> None:
    store = LocalDictationStore(tmp_path, key=bytes(32))
    with pulse_env(f"unix:{tmp_path}/no-server-here"):
        recorder = Recorder(store)
        assert recorder.microphone_problem() == NO_MICROPHONE
        rec = recorder.new(1, TARGET)
        with pytest.raises(DeviceProblem) as caught:
            recorder.record()
        assert str(caught.value) == NO_MICROPHONE
        assert recorder.status().state == "paused"
        assert store.manifest(rec.id)["takes"] == []      # no take began
        recorder.close()


@pytest.fixture
def second_mic() -> Iterator[PulseServer]:
    """A microphone of this test's own, so pulling it out leaves the session's alone."""
    mic = start_pulse(settle=1.0)
    try:
        with pulse_env(mic.server):
            yield mic
    finally:
        mic.stop()


def test_device_removed_mid_recording_keeps_what_was_said(
        second_mic: PulseServer, speech: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    store = LocalDictationStore(tmp_path, key=bytes(32))
    recorder = Recorder(store)
    rec = recorder.new(1, TARGET)
    recorder.record()
    time.sleep(SETTLE)
    player = second_mic.play(speech["a"], wait=False)
    time.sleep(2.8)                                   # one whole segment and a bit
    shown = recorder.status().duration_ms             # what the clock said
    second_mic.kill()                                 # the headset is pulled out
    player.wait()
    deadline = time.monotonic() + 5
    while not recorder.status().problem and time.monotonic() < deadline:
        time.sleep(0.05)
    status = recorder.status()
    assert status.state == "paused"
    assert "microphone stopped" in status.problem and "is kept" in status.problem
    assert store.damaged(rec.id) == ()
    kept = store.pcm(rec.id)
    assert len(kept) * 1000 // RATE >= shown          # all the clock counted is kept,
    assert len(kept) > 32_000                         # the unfinished segment included
    assert status.duration_ms == len(kept) * 1000 // RATE
    # A fresh sound server may start delivering a few hundred ms late (BACKENDS.md), so
    # the words checked are a second from the middle of what was played before the pull.
    said = read_wav(speech["a"])[int(0.5 * RATE): int(1.5 * RATE)]
    assert best_match(kept, said)[1] >= 0.9           # the words before the pull are there
    with pytest.raises(DeviceProblem):
        recorder.record()                             # no microphone any more: a sentence
    assert recorder.stop().duration_ms == status.duration_ms


def _run_disk_full(tmp_path: Path, wav: Path, server: str) -> dict:  # type: ignore[type-arg]
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs",
                        str(mount)], check=True)
        try:
            return disk_full_scenario(mount, wav, server)
        finally:
            subprocess.run(["umount", "-l", str(mount)], check=True)
    # Not root: a user namespace of our own may mount a tmpfs (its mount ends with it).
    out = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", sys.executable, "-m",
         "tests.audio_support", "diskfull", str(mount), str(wav), server],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_full_disk_pauses_with_a_sentence_and_keeps_every_segment(
        virtual_mic: PulseServer, speech: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    seen = _run_disk_full(tmp_path, speech["a"], virtual_mic.server)
    assert seen["state"] == "paused"
    assert seen["problem"].startswith("The disk is full: recording paused. Everything up to")
    assert seen["tmp_files"] == [] and seen["damaged"] == []
    assert len(seen["segments"]) >= 2 and set(seen["segments"]) == {8_000}
    assert seen["pcm_frames"] == sum(seen["segments"])
    assert seen["status_duration_ms"] == seen["pcm_frames"] * 1000 // RATE
    # Space again: recording goes on, nothing earlier lost.
    assert seen["after_freeing_problem"] == ""
    assert seen["after_freeing_frames"] > seen["pcm_frames"]

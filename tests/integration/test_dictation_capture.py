"""Recording from a real (virtual) microphone: what is kept is what was said, and overwrite
and insert put the new words where the doctor put them.

Thresholds (normalised cross-correlation at the best lag, measured on this machine on
3 Dec 2026, Opus at ~21.5 kbit/s (codec.COMPRESSION_LEVEL), two runs): the delivered file
(segments Opus-encoded, decoded, re-encoded once) against the speech played
0.9674-0.9695; a take (Opus once) against its speech 0.9868-0.9874; a recording against
the other voice 0.043-0.045, and the overwritten words against what replaced them 0.126.
The tests ask >= 0.9 for "is" and < 0.3 for "is not". Speech spans (first to last loud
10 ms) agreed within 160 frames (the 2 % asked is ~1,100).
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend_client.dictation.capture import Recorder
from backend_client.dictation.dto import RecordingTarget
from backend_client.dictation.local_store import LocalDictationStore
from tests.audio_support import (  # noqa: F401 - fixtures
    SETTLE,
    PulseServer,
    best_match,
    read_wav,
    speech,
    speech_span,
    virtual_mic,
)

SAME = 0.9
DIFFERENT = 0.3
RATE = 16_000
TARGET = RecordingTarget(patient_id=3, patient_caption="Doe, Jane", priority="urgent")
KEY = bytes(range(32))             # a fixed workstation key: the copies open


def say(recorder: Recorder, mic: PulseServer, wav: Path) -> None:
    recorder.record()
    time.sleep(SETTLE)
    mic.play(wav)
    time.sleep(0.25)            # the last blocks on their way through the sound server
    recorder.pause()


@pytest.fixture(scope="module")
def recorded_a(virtual_mic: PulseServer, speech: dict[str, Path],  # noqa: F811
               tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One recording of speech A (data dir, id), copied by the tests that edit it."""
    data = tmp_path_factory.mktemp("a")
    store = LocalDictationStore(data, key=KEY)
    recorder = Recorder(store)
    assert recorder.microphone_problem() == ""
    rec = recorder.new(1, TARGET)
    say(recorder, virtual_mic, speech["a"])
    recorder.stop()
    return data, rec.id


@pytest.fixture
def copy_of_a(recorded_a: tuple[Path, str], tmp_path: Path
              ) -> Iterator[tuple[LocalDictationStore, Recorder, str]]:
    data, rid = recorded_a
    shutil.copytree(data / "dictation", tmp_path / "dictation")
    store = LocalDictationStore(tmp_path, key=KEY)
    recorder = Recorder(store)
    recorder.open(rid, 1)
    yield store, recorder, rid
    recorder.close()


def test_what_is_kept_is_what_was_said(recorded_a: tuple[Path, str],
                                       speech: dict[str, Path]) -> None:  # noqa: F811
    data, rid = recorded_a
    store = LocalDictationStore(data, key=KEY)
    played = read_wav(speech["a"])
    (rec,) = store.recordings(1)
    assert rec.state == "stopped" and rec.target == TARGET
    # What delivery uploads: the one OGG/Opus file of the edited recording.
    kept, rate = sf.read(io.BytesIO(store.audio(rid, 1)), dtype="int16")
    assert rate == RATE
    assert abs(len(kept) * 1000 // RATE - rec.duration_ms) <= 1
    lag, ncc = best_match(kept, played)
    print(f"record→stop: correlation {ncc:.4f} at lag {lag} frames")
    assert ncc >= SAME
    said, heard = speech_span(played), speech_span(kept)
    assert abs(heard - said) <= 0.02 * said, (heard, said)
    other = best_match(kept, read_wav(speech["b"]))[1]
    print(f"record→stop: against the other voice {other:.4f}; span {heard} vs {said}")
    assert other < DIFFERENT


def test_overwrite_replaces_the_words_from_the_position_on(
        copy_of_a: tuple[LocalDictationStore, Recorder, str], virtual_mic: PulseServer,  # noqa: F811
        speech: dict[str, Path]) -> None:  # noqa: F811
    store, recorder, rid = copy_of_a
    before = store.pcm(rid)
    a_at, _ = best_match(before, read_wav(speech["a"]))
    cut = (a_at + RATE) // 16 * 16     # one second into the sentence, on a millisecond
    recorder.seek(cut * 1000 // RATE)
    recorder.set_mode("overwrite")
    say(recorder, virtual_mic, speech["b"])
    after = store.pcm(rid)
    take = len(after) - cut            # B's take ran past the old end
    assert take > len(before) - cut
    assert np.array_equal(after[:cut], before[:cut])       # the first second untouched
    b_ncc = best_match(after[cut:], read_wav(speech["b"]))[1]
    # The rest of A is gone: nothing after the cut sounds like A's second half.
    rest_of_a = before[cut + RATE // 4:cut + RATE // 4 + RATE]
    a_ncc = best_match(after[cut:], rest_of_a)[1]
    print(f"overwrite: B {b_ncc:.4f}, A's overwritten rest {a_ncc:.4f}")
    assert b_ncc >= SAME and a_ncc < DIFFERENT
    status = recorder.status()
    assert status.position_ms == status.duration_ms == len(after) * 1000 // RATE


def test_insert_puts_the_words_at_the_position_and_keeps_the_rest(
        copy_of_a: tuple[LocalDictationStore, Recorder, str], virtual_mic: PulseServer,  # noqa: F811
        speech: dict[str, Path]) -> None:  # noqa: F811
    store, recorder, rid = copy_of_a
    before = store.pcm(rid)
    a_at, _ = best_match(before, read_wav(speech["a"]))
    cut = (a_at + RATE) // 16 * 16
    recorder.seek(cut * 1000 // RATE)
    recorder.set_mode("insert")
    say(recorder, virtual_mic, speech["b"])
    after = store.pcm(rid)
    inserted = len(after) - len(before)
    assert inserted > len(read_wav(speech["b"]))
    # Whole 20 ms frames (the end padded with silence): the delivery file kept while
    # recording joins the audio after an insert on the codec's frame grid (assembly.py).
    assert inserted % 320 == 0
    assert np.array_equal(after[:cut], before[:cut])
    assert np.array_equal(after[cut + inserted:], before[cut:])     # A's rest, later
    b_ncc = best_match(after[cut:cut + inserted], read_wav(speech["b"]))[1]
    print(f"insert: B {b_ncc:.4f}")
    assert b_ncc >= SAME
    assert recorder.status().position_ms == (cut + inserted) * 1000 // RATE
    recorder.close()                                 # sign-out: kept, paused, not "crashed"
    assert [(r.id, r.state) for r in store.recordings(1)] == [(rid, "paused")]
    assert store.interrupted(1) == ()

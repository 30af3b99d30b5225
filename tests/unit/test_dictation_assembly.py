"""The delivery file kept encoded while recording and editing (assembly.py) is the audio the
edit list says, frame for frame in length and closely in sound, and is ready at stop."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
import soundfile as sf

from backend_client.dictation import sealing
from backend_client.dictation.dto import RecordingTarget
from backend_client.dictation.local_store import LocalDictationStore

RATE = 16_000
TARGET = RecordingTarget(patient_id=7, patient_caption="Test, Patient")
SEGMENT = 32_000


def voice(seconds: float, seed: int) -> np.ndarray:
    """Speech's rhythm: bursts of a gliding voiced tone with noise, and pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    envelope = (np.sin(2 * np.pi * (2.5 + seed % 3) * t) > -0.2).astype(np.float64)
    pitch = 120 + 30 * seed % 90 + 40 * np.sin(2 * np.pi * 0.5 * t)
    tone = 0.3 * np.sin(2 * np.pi * np.cumsum(pitch) / RATE)
    return (envelope * (tone + rng.normal(0, 0.04, t.size)) * 32_767).astype(np.int16)


def record(store: LocalDictationStore, rid: str, mode: str, at: int, pcm: np.ndarray) -> None:
    take = store.start_take(rid, mode, at)
    for seq, i in enumerate(range(0, len(pcm), SEGMENT), start=1):
        store.write_segment(rid, take, seq, pcm[i:i + SEGMENT])


def decode(blob: bytes) -> np.ndarray:
    data, _ = sf.read(io.BytesIO(blob), dtype="int16")
    return np.asarray(data).reshape(-1)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    x, y = a.astype(float), b.astype(float)
    return float(np.dot(x, y) / np.sqrt(np.dot(x, x) * np.dot(y, y)))


def delivered(tmp_path, store: LocalDictationStore, rid: str) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    """(the file kept encoded, the file assembled from the segments at stop)."""
    store.set_state(rid, "stopped")
    kept = store.render(rid)
    fresh = LocalDictationStore(tmp_path, key=store._workstation_key())  # noqa: SLF001
    return kept, fresh.render(rid)


@pytest.fixture
def store(tmp_path) -> LocalDictationStore:  # type: ignore[no-untyped-def]
    return LocalDictationStore(tmp_path, key=sealing.new_key())


@pytest.mark.parametrize("edits", [
    [],
    [("insert", 25 * RATE, 5 * 320 * 50)],                        # 5 s inserted
    [("overwrite", 20 * RATE + 123, 5 * RATE + 77)],              # inside, odd lengths
    [("overwrite", 35 * RATE, 10 * RATE)],                        # runs past the end
    [("insert", 17, 320 * 7), ("append", 0, RATE + 5),
     ("overwrite", 2 * RATE, RATE // 3), ("insert", 39 * RATE, 320 * 40)],
])
def test_the_kept_file_is_the_edited_audio(tmp_path, store: LocalDictationStore,  # type: ignore[no-untyped-def]
                                           edits: list[tuple[str, int, int]]) -> None:
    rid = store.create(1, TARGET).id
    record(store, rid, "append", 0, voice(40.0, 1))
    for k, (mode, at, n) in enumerate(edits, start=2):
        record(store, rid, mode, at if mode != "append" else store.duration_frames(rid),
               voice(n / RATE, k))
    truth = store.pcm(rid)
    assert store.assembled(rid)
    kept, fresh = delivered(tmp_path, store, rid)
    got, reference = decode(kept), decode(fresh)
    assert len(got) == len(truth) == len(reference)
    # As close to what was recorded as encoding it all again at stop: a join costs at
    # most a packet or two of the audio around it.
    assert corr(got, truth) >= corr(reference, truth) - 0.005
    assert corr(got, truth) >= 0.95


def test_random_takes_stay_frame_exact_and_close(tmp_path,  # type: ignore[no-untyped-def]
                                                 store: LocalDictationStore) -> None:
    rng = random.Random(5)
    rid = store.create(1, TARGET).id
    record(store, rid, "append", 0, voice(12.0, 0))
    for k in range(1, 9):
        end = store.duration_frames(rid)
        mode = rng.choice(["append", "overwrite", "insert"])
        at = end if mode == "append" else rng.randrange(0, end)
        n = rng.randrange(1, 4 * RATE)
        if mode == "insert":
            n = max(320, n // 320 * 320)     # the recorder's inserts are whole 20 ms frames
        record(store, rid, mode, at, voice(n / RATE, k))
    assert store.assembled(rid)
    truth = store.pcm(rid)
    kept, fresh = delivered(tmp_path, store, rid)
    got = decode(kept)
    assert len(got) == len(truth)
    assert corr(got, truth) >= corr(decode(fresh), truth) - 0.01


def test_an_insert_of_part_of_a_frame_is_assembled_at_stop(tmp_path,  # type: ignore[no-untyped-def]
                                                           store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    record(store, rid, "append", 0, voice(10.0, 1))
    record(store, rid, "insert", 3 * RATE, voice(0.5, 2)[:7_999])
    record(store, rid, "append", store.duration_frames(rid), voice(1.0, 3))
    assert not store.assembled(rid)
    truth = store.pcm(rid)
    kept, _fresh = delivered(tmp_path, store, rid)
    assert len(decode(kept)) == len(truth)
    assert corr(decode(kept), truth) >= 0.95

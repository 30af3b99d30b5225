"""Append, overwrite and insert give the audio a listener expects; a torn or damaged segment
never counts and never stops the rest from playing; interrupted recordings are found."""

from __future__ import annotations

import io
import random
import stat

import numpy as np
import pytest
import soundfile as sf

from backend_client.dictation import sealing
from backend_client.dictation.dto import RecordingTarget
from backend_client.dictation.local_store import LocalDictationStore, Piece, apply_take
from backend_client.errors import PermissionDenied, ValidationError

RATE = 16_000
TARGET = RecordingTarget(patient_id=7, patient_caption="Test, Patient")


def tone(freq: float, n: int) -> np.ndarray:
    return (np.sin(2 * np.pi * freq * np.arange(n) / RATE) * 12_000).astype(np.int16)


def dominant(pcm: np.ndarray, start: int, n: int = 1600) -> float:
    window = pcm[start:start + n].astype(float) * np.hanning(n)
    spectrum = np.abs(np.fft.rfft(window))
    return float(np.argmax(spectrum) * RATE / n)


@pytest.fixture
def store(tmp_path) -> LocalDictationStore:  # type: ignore[no-untyped-def]
    return LocalDictationStore(tmp_path, key=sealing.new_key())


def take(store: LocalDictationStore, rid: str, mode: str, at: int,
         segments: list[np.ndarray]) -> int:
    t = store.start_take(rid, mode, at)
    for seq, frames in enumerate(segments, 1):
        store.write_segment(rid, t, seq, frames)
    return t


def heard(pcm: np.ndarray, spans: list[tuple[int, int, float]]) -> None:
    """Each span [a, b) sounds at its frequency (checked away from the cuts)."""
    assert len(pcm) == spans[-1][1]
    for a, b, freq in spans:
        for start in range(a + 400, b - 2000, 4000):
            assert abs(dominant(pcm, start) - freq) <= 10, (a, b, freq, start)


def test_append_adds_each_take_at_the_end(store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000), tone(800, 16_000)])
    take(store, rid, "append", 48_000, [tone(1200, 8_000)])
    assert store.pieces(rid) == [Piece(1, 1, 0, 32_000), Piece(1, 2, 0, 16_000),
                                 Piece(2, 1, 0, 8_000)]
    assert store.recording(rid).duration_ms == 3500
    heard(store.pcm(rid), [(0, 32_000, 400), (32_000, 48_000, 800), (48_000, 56_000, 1200)])


def test_overwrite_in_the_middle_replaces_exactly_that_stretch(
        store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000), tone(800, 16_000)])
    take(store, rid, "overwrite", 16_000, [tone(1200, 8_000)])
    assert store.pieces(rid) == [Piece(1, 1, 0, 16_000), Piece(2, 1, 0, 8_000),
                                 Piece(1, 1, 24_000, 32_000), Piece(1, 2, 0, 16_000)]
    heard(store.pcm(rid), [(0, 16_000, 400), (16_000, 24_000, 1200),
                           (24_000, 32_000, 400), (32_000, 48_000, 800)])


def test_overwrite_past_the_end_grows_the_recording(store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000)])
    take(store, rid, "overwrite", 24_000, [tone(1200, 16_000)])
    assert store.duration_frames(rid) == 40_000
    heard(store.pcm(rid), [(0, 24_000, 400), (24_000, 40_000, 1200)])


def test_insert_moves_the_rest_later(store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000)])
    take(store, rid, "insert", 8_000, [tone(1200, 16_000)])
    assert store.pieces(rid) == [Piece(1, 1, 0, 8_000), Piece(2, 1, 0, 16_000),
                                 Piece(1, 1, 8_000, 32_000)]
    heard(store.pcm(rid), [(0, 8_000, 400), (8_000, 24_000, 1200), (24_000, 48_000, 400)])


def test_many_takes_match_a_plain_model_frame_by_frame() -> None:
    """Random takes against the obvious model (a list of frame labels edited in place)."""
    rng = random.Random(12)
    for _ in range(200):
        pieces: list[Piece] = []
        model: list[tuple[int, int, int]] = []
        for t in range(1, 7):
            mode = rng.choice(["append", "overwrite", "insert"])
            at = rng.randint(0, len(model) + 5)
            sizes = [rng.randint(1, 9) for _ in range(rng.randint(0, 3))]
            new = [Piece(t, s, 0, n) for s, n in enumerate(sizes, 1)]
            labels = [(t, s, i) for s, n in enumerate(sizes, 1) for i in range(n)]
            pieces = apply_take(pieces, mode, at, new)
            pos = min(at, len(model))
            if not labels:
                continue
            if mode == "append":
                model = model + labels
            elif mode == "insert":
                model = model[:pos] + labels + model[pos:]
            else:
                model = model[:pos] + labels + model[pos + len(labels):]
        got = [(p.take, p.seq, i) for p in pieces for i in range(p.first, p.stop)]
        assert got == model


def test_a_torn_temp_segment_is_ignored_and_cleaned_up(store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000)])
    torn = store.folder(rid) / "t0001-000002.seg.tmp"
    torn.write_bytes(b"DRAS\x01" + b"\x00" * 50)
    assert store.duration_frames(rid) == 32_000
    assert store.damaged(rid) == ()
    store.lock(rid).release()
    assert not torn.exists()


def test_a_damaged_segment_is_left_out_and_named(store: LocalDictationStore,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000), tone(800, 32_000), tone(1200, 8_000)])
    path = store.folder(rid) / "t0001-000002.seg"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    assert store.damaged(rid) == ("t0001-000002.seg",)
    assert "does not open" in caplog.text
    heard(store.pcm(rid), [(0, 32_000, 400), (32_000, 40_000, 1200)])
    assert store.recording(rid).duration_ms == 2500


def test_interrupted_means_open_and_held_by_no_recorder(store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    held = store.lock(rid)
    assert store.recording(rid).state == "paused"
    assert store.interrupted(1) == ()
    held.release()
    assert [r.id for r in store.interrupted(1)] == [rid]
    assert store.recordings(2) == ()
    store.set_state(rid, "paused")                 # left paused on purpose (sign-out)
    assert store.interrupted(1) == () and store.recording(rid).state == "paused"
    store.set_state(rid, "stopped")
    assert store.interrupted(1) == ()
    assert [r.state for r in store.recordings(1)] == ["stopped"]


def test_audio_is_one_ogg_file_for_its_author_only(store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000), tone(800, 12_345)])
    blob = store.audio(rid, 1)
    data, rate = sf.read(io.BytesIO(blob), dtype="int16")
    assert rate == RATE and len(data) == 44_345
    with pytest.raises(PermissionDenied):
        store.audio(rid, 2)
    with pytest.raises(PermissionDenied):
        store.discard(rid, 2)
    store.discard(rid, 1)
    assert not store.folder(rid).exists()
    assert store.recordings(1) == ()


def test_files_are_private(store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 1_000)])
    folder = store.folder(rid)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("manifest.json", "t0001-000001.seg"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600


def test_an_empty_recording_has_no_audio_to_play(store: LocalDictationStore) -> None:
    rid = store.create(1, TARGET).id
    with pytest.raises(ValidationError, match="empty"):
        store.audio(rid, 1)
    assert len(store.pcm(rid)) == 0 and store.recording(rid).duration_ms == 0


def _decoded(blob: bytes) -> np.ndarray:
    data, _ = sf.read(io.BytesIO(blob), dtype="int16")
    return data


def test_a_recording_made_by_appending_is_ready_to_deliver_at_stop(
        store: LocalDictationStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its delivery file was encoded while it was recorded: stopping it costs no second
    pass over the segments (five minutes took ~2 s of CPU), and it holds every frame."""
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000), tone(800, 32_000)])
    take(store, rid, "overwrite", 64_000, [tone(1200, 10_000)])   # at the end: appends
    store.set_state(rid, "stopped")
    from backend_client.dictation import codec

    def no_decoding(*_a: object, **_k: object) -> None:
        raise AssertionError("the segments were decoded again")

    monkeypatch.setattr(codec, "decode", no_decoding)
    pcm = _decoded(store.audio(rid, 1))
    heard(pcm, [(0, 32_000, 400), (32_000, 64_000, 800), (64_000, 74_000, 1200)])


def test_an_edit_inside_the_audio_is_assembled_from_the_segments(
        store: LocalDictationStore, monkeypatch: pytest.MonkeyPatch) -> None:
    rid = store.create(1, TARGET).id
    take(store, rid, "append", 0, [tone(400, 32_000), tone(800, 32_000)])
    take(store, rid, "insert", 16_000, [tone(1200, 8_000)])
    store.set_state(rid, "stopped")
    from backend_client.dictation import codec

    decoded: list[int] = []
    real = codec.decode
    monkeypatch.setattr(codec, "decode", lambda blob, n=None: (decoded.append(1),
                                                               real(blob, n))[1])
    pcm = _decoded(store.audio(rid, 1))
    assert decoded
    heard(pcm, [(0, 16_000, 400), (16_000, 24_000, 1200), (24_000, 40_000, 400),
                (40_000, 72_000, 800)])

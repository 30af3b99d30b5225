"""Sealed recording keys and segments open only unchanged, in their place, under their key;
the workstation key file is private to the user."""

from __future__ import annotations

import stat

import numpy as np
import pytest

from backend_client.dictation import codec, keys, sealing


def test_segment_round_trip_and_exact_length() -> None:
    key = sealing.new_key()
    frames = (np.arange(32_000) % 2000 - 1000).astype(np.int16) * 8
    blob = sealing.seal_segment(key, "r1", 1, 1, len(frames), codec.encode(frames))
    n, payload = sealing.open_segment(key, "r1", 1, 1, blob)
    assert n == 32_000
    assert len(codec.decode(payload, n)) == 32_000
    assert payload[:4] == b"OggS"
    assert b"OggS" not in blob           # nothing readable on disk


@pytest.mark.parametrize("where", [0, 4, 5, 9, 20, -1, -40])
def test_a_changed_byte_is_refused(where: int) -> None:
    key = sealing.new_key()
    blob = bytearray(sealing.seal_segment(key, "r1", 1, 1, 10, b"payload bytes"))
    blob[where] ^= 0x01
    with pytest.raises(sealing.SealError):
        sealing.open_segment(key, "r1", 1, 1, bytes(blob))


def test_a_segment_in_the_wrong_place_is_refused() -> None:
    key = sealing.new_key()
    blob = sealing.seal_segment(key, "r1", 2, 3, 10, b"payload")
    for rid, take, seq in (("r2", 2, 3), ("r1", 1, 3), ("r1", 2, 4)):
        with pytest.raises(sealing.SealError):
            sealing.open_segment(key, rid, take, seq, blob)
    with pytest.raises(sealing.SealError):
        sealing.open_segment(sealing.new_key(), "r1", 2, 3, blob)
    with pytest.raises(sealing.SealError):
        sealing.open_segment(key, "r1", 2, 3, blob[:-1])


def test_a_wrapped_key_opens_only_for_its_recording() -> None:
    ws = sealing.new_key()
    rk = sealing.new_key()
    wrapped = sealing.wrap_key(ws, "abc", rk)
    assert sealing.unwrap_key(ws, "abc", wrapped) == rk
    with pytest.raises(sealing.SealError):
        sealing.unwrap_key(ws, "abd", wrapped)
    with pytest.raises(sealing.SealError):
        sealing.unwrap_key(sealing.new_key(), "abc", wrapped)


def test_workstation_key_file_is_0600_and_stable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    k1 = keys.workstation_key(tmp_path, use_keyring=False)
    path = tmp_path / "dictation" / keys.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "dictation").stat().st_mode) == 0o700
    assert keys.workstation_key(tmp_path, use_keyring=False) == k1
    assert len(k1) == 32
    assert not list((tmp_path / "dictation").glob("*.tmp"))


def test_without_a_keyring_backend_the_file_is_used(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # This machine's keyring is the "fail" backend (headless): the key must still persist.
    k1 = keys.workstation_key(tmp_path)
    assert keys.workstation_key(tmp_path) == k1

"""Dictation audio written with libopus directly is a standard Ogg Opus file: libsndfile
reads back exactly the frames written (any length), speech keeps its waveform, pages carry
valid CRCs and RFC 7845 granule positions, and without libopus recording still works."""

from __future__ import annotations

import ctypes
import io
import json
import logging
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend_client.dictation import codec, ogg_opus
from tests.audio_support import best_match, make_speech, read_wav

RATE = 16_000


def signal(n: int, seed: int = 0) -> np.ndarray:
    """A voiced-like test signal: a few harmonics with a wandering pitch, plus noise."""
    t = np.arange(n) / RATE
    rng = np.random.default_rng(seed)
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 6)) * 6000 + rng.normal(0, 300, n)
    return np.asarray(x, dtype=np.int16)


def pages(blob: bytes) -> list[dict]:
    """The Ogg pages of ``blob``: header fields, the stored CRC and the packets."""
    out, at = [], 0
    while at < len(blob):
        assert blob[at:at + 4] == b"OggS"
        _, _, flags, granule, serial, seq, crc, nseg = struct.unpack_from(
            "<4sBBqIIIB", blob, at)
        lacing = blob[at + 27:at + 27 + nseg]
        body = at + 27 + nseg
        packets, start, size = [], body, 0
        for v in lacing:
            size += v
            if v < 255:
                packets.append(blob[start:start + size])
                start, size = start + size, 0
        end = body + sum(lacing)
        page = bytearray(blob[at:end])
        page[22:26] = b"\0\0\0\0"
        out.append(dict(flags=flags, granule=granule, serial=serial, seq=seq, crc=crc,
                        packets=packets, bytes=bytes(page), start=at))
        at = end
    return out


def table_crc(data: bytes) -> int:
    """The Ogg CRC by its definition: CRC-32/0x04C11DB7, MSB first, init 0, no xor out."""
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else r << 1
        table.append(r & 0xFFFFFFFF)
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ b]
    return crc


@pytest.mark.parametrize("n", [1, 100, 319, 320, 321, 4_999, 32_000, 32_001, 70_123])
def test_libsndfile_returns_exactly_the_frames_written(n: int) -> None:
    x = signal(n)
    blob = codec.encode(x)
    assert sf.info(io.BytesIO(blob)).frames == n
    back = codec.decode(blob)              # no trimming or padding asked for
    assert len(back) == n
    if n >= 4_999:                         # and they are the same audio, not shifted
        assert best_match(np.concatenate([back, np.zeros(50, np.int16)]), x)[0] == 0


def test_speech_keeps_its_waveform_and_is_ten_times_smaller_than_wav(
        tmp_path: Path) -> None:
    for name in ("a", "b"):
        speech = read_wav(make_speech(tmp_path, name))
        blob = codec.encode(speech)
        back = codec.decode(blob)
        assert len(back) == len(speech)
        lag, corr = best_match(np.concatenate([back, np.zeros(50, np.int16)]), speech)
        assert lag == 0
        assert corr >= 0.97, f"speech {name}: correlation {corr:.3f}"
        assert 2 * len(speech) / len(blob) >= 10


def test_pages_follow_rfc_7845() -> None:
    n = 3 * RATE + 123                     # several audio pages and a partial last frame
    out = io.BytesIO()
    with codec.writer(out) as fh:
        assert isinstance(fh, ogg_opus.OggOpusWriter)
        fh.write(signal(n))
    found = pages(out.getvalue())
    head, tags, audio = found[0], found[1], found[2:]
    # OpusHead alone on the first page (beginning of stream), OpusTags alone on the next.
    assert head["flags"] == 0x02 and len(head["packets"]) == 1
    magic, version, channels, pre_skip, rate = struct.unpack_from(
        "<8sBBHI", head["packets"][0])
    assert (magic, version, channels, rate) == (b"OpusHead", 1, 1, RATE)
    assert pre_skip == fh.pre_skip > 0 and pre_skip % 3 == 0
    assert tags["packets"][0].startswith(b"OpusTags") and tags["granule"] == 0
    # One stream, pages in sequence, every CRC the Ogg definition's.
    assert {p["serial"] for p in found} == {head["serial"]}
    assert [p["seq"] for p in found] == list(range(len(found)))
    for p in found:
        assert ogg_opus.ogg_crc(p["bytes"]) == table_crc(p["bytes"]) == p["crc"]
    # Granules count 48 kHz samples decoded so far; the last one marks the exact end.
    decoded = 0
    for p in audio[:-1]:
        decoded += 960 * len(p["packets"])
        assert p["granule"] == decoded and p["flags"] == 0
    last = audio[-1]
    assert last["flags"] == 0x04 and len(last["packets"]) >= 2
    assert last["granule"] == pre_skip + 3 * n
    assert decoded < last["granule"] <= decoded + 960 * len(last["packets"])


def test_libsndfile_checks_the_page_crc() -> None:
    """Every page of ours passes libogg's CRC check (all frames come back); a page whose
    CRC is wrong is dropped, so the check is real."""
    x = signal(3 * RATE)
    blob = bytearray(codec.encode(x))
    assert len(codec.decode(bytes(blob))) == len(x)
    blob[pages(bytes(blob))[3]["start"] + 22] ^= 0x01
    assert len(codec.decode(bytes(blob))) < len(x)


def test_written_in_pieces_is_the_same_audio_as_written_whole() -> None:
    x = signal(RATE + 777)
    whole = codec.decode(codec.encode(x))
    out = io.BytesIO()
    with codec.writer(out) as fh:
        for a, b in ((0, 1), (1, 300), (300, 5_000), (5_000, 5_000), (5_000, len(x))):
            fh.write(x[a:b])
    assert np.array_equal(codec.decode(out.getvalue()), whole)


# Run in a child process: a QCoreApplication here would stand in the way of the GUI tests'
# QApplication. QMediaPlayer's duration and QAudioDecoder's samples both come from FFmpeg,
# which the app's playback uses.
_QT_READS = """
import json, sys
import numpy as np
from PySide6.QtCore import QCoreApplication, QTimer, QUrl
from PySide6.QtMultimedia import QAudioDecoder, QAudioFormat, QMediaPlayer
app = QCoreApplication([])
url = QUrl.fromLocalFile(sys.argv[1])
got = {"chunks": []}
player = QMediaPlayer()
def status(s):
    if s in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.InvalidMedia):
        got["status"], got["duration_ms"] = s.name, player.duration()
player.mediaStatusChanged.connect(status)
player.setSource(url)
fmt = QAudioFormat()
fmt.setSampleRate(16000)
fmt.setChannelCount(1)
fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
dec = QAudioDecoder()
dec.setAudioFormat(fmt)
dec.bufferReady.connect(lambda: got["chunks"].append(bytes(dec.read().constData())))
dec.finished.connect(lambda: QTimer.singleShot(200, app.quit))
dec.error.connect(lambda e: app.quit())
dec.setSource(url)
dec.start()
QTimer.singleShot(30000, app.quit)
app.exec()
np.save(sys.argv[2], np.frombuffer(b"".join(got.pop("chunks")), dtype=np.int16))
print(json.dumps(got))
"""


def test_qt_multimedia_ffmpeg_plays_it_at_its_length(tmp_path: Path) -> None:
    speech = read_wav(make_speech(tmp_path, "a"))
    path = tmp_path / "a.ogg"
    path.write_bytes(codec.encode(speech))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-c", _QT_READS, str(path), str(tmp_path / "a.npy")],
                         capture_output=True, text=True, env=env, timeout=60, check=True)
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["status"] == "LoadedMedia"
    # FFmpeg's Ogg demuxer counts the pre-skip (6.5 ms) in the duration; the same with
    # libsndfile's writer.
    assert abs(got["duration_ms"] - len(speech) * 1000 / RATE) <= 10
    heard = np.load(tmp_path / "a.npy")
    assert abs(len(heard) - len(speech)) <= RATE // 100      # Qt's resampler: ~1 ms less
    lag, corr = best_match(np.concatenate([heard, np.zeros(RATE // 10, np.int16)]), speech)
    assert lag == 0 and corr >= 0.97


def test_without_libopus_the_libsndfile_writer_records(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def no_library(name: str, *args: object, **kwargs: object) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ogg_opus, "_tried", False)
    monkeypatch.setattr(ogg_opus, "_lib", None)
    monkeypatch.setattr(ctypes, "CDLL", no_library)
    x = signal(12_345)
    with caplog.at_level(logging.INFO, logger=ogg_opus.__name__):
        blob = codec.encode(x)
        codec.encode(x)
    assert len(codec.decode(blob)) == len(x)
    assert [r.getMessage() for r in caplog.records] == [
        "dictation: libopus not found; encoding with libsndfile's slower Opus writer"]
    out = io.BytesIO()
    with codec.writer(out) as fh:
        assert not isinstance(fh, ogg_opus.OggOpusWriter)
        fh.write(x)
    assert len(codec.decode(out.getvalue())) == len(x)

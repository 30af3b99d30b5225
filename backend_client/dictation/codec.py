"""OGG/Opus encoding of 16 kHz mono int16 frames, in memory (libopus; decoding: soundfile).

Why Opus: speech at 16 kHz mono is ~25 kB per 10 s in Opus against 320 kB as WAV — a
day of dictation fits on any disk and uploads over a poor network. Why in a BytesIO: the
bytes are sealed before anything touches the disk, so no clear audio is ever written.

Why libopus through ctypes (ogg_opus.py) and not libsndfile's writer: speed. Issue 12 asks
for encode + seal at >= 50x real time; libsndfile's Opus writer ran at ~35x here, the
direct encoder at ~150x (``python -m benchmarks dictation_encode``). Without libopus (not a
Debian machine) the libsndfile writer is used, one log line says so. Measured with the
settings below (22 kbit/s VBR, complexity 5) on espeak-ng speech: 12.4x smaller than WAV,
normalised correlation with the original >= 0.984 (>= 0.972 after the delivered file's
second encoding); the comment at ``BITRATE`` has the alternatives.

Length: Opus decoders skip the encoder's pre-skip (its lookahead, 312 samples at 48 kHz)
and an OGG stream's last granule position says where the audio ends, so libsndfile 1.2
returns exactly the frames encoded. Older or other decoders may return a few frames more or
fewer; ``decode(..., frames=n)`` trims the surplus or pads with silence at the end so a
segment always contributes exactly the frame count its (authenticated) header names, and
positions in the edit list stay exact.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from backend_client.dictation import ogg_opus

SAMPLE_RATE = 16_000

# libopus settings (ogg_opus.py), chosen from measurements on this machine, 2 s segments,
# three espeak-ng speech samples (tests/audio_support.py's "a" and "b", the text of
# benchmarks/bench_dictation_size.py): application "audio" with the signal hint "voice", VBR
# at 22 kbit/s, complexity 5 → 12.4x smaller than WAV (segments sealed), normalised
# correlation with the original 0.984-0.990, and 0.972-0.982 for the delivered file (decoded
# and encoded once more), ~150x real time. Measured alternatives (first/second generation
# on the worst sample, size): 20 kbit/s 0.980/0.966, 13.4x; 24 kbit/s 0.987/0.976, 11.5x
# (real speech with room noise can push VBR above its target, so little room left for 10x);
# complexity 10 adds ~0.003 at half the speed (~75x); application "voip" (SILK keeps how
# speech sounds, not its waveform) 0.954-0.964 at 16-24 kbit/s. libsndfile's writer (below)
# gave 0.981/0.969, 11.9x, at ~35x real time.
# benchmarks/bench_dictation_size.py and bench_dictation_encode.py print the figures.
BITRATE = 22_000
COMPLEXITY = 5

# The libsndfile fallback (no libopus loadable): its "compression level" (0..1) maps onto
# the Opus bitrate; 0.95 gives ~21.5 kbit/s (11.9x smaller than WAV), correlation 0.987.
COMPRESSION_LEVEL = 0.95


def _sndfile_writer(out: io.BytesIO, sample_rate: int) -> Any:
    import soundfile as sf  # libsndfile is loaded when first needed, not at import

    return sf.SoundFile(out, "w", sample_rate, 1, format="OGG", subtype="OPUS",
                        compression_level=COMPRESSION_LEVEL)


def writer(out: io.BytesIO, sample_rate: int = SAMPLE_RATE) -> Any:
    """A streaming OGG/Opus writer into ``out`` (for audio assembled piece by piece):
    ``write(frames)``, then ``close()`` or leave its ``with`` block. libopus directly
    (ogg_opus.py) where it loads, else libsndfile's writer."""
    lib = ogg_opus.load()
    if lib is None or sample_rate != ogg_opus.SAMPLE_RATE:
        return _sndfile_writer(out, sample_rate)
    return ogg_opus.OggOpusWriter(out, lib, sample_rate=sample_rate, bitrate=BITRATE,
                                  complexity=COMPLEXITY)


def encoder_name() -> str:
    """Which encoder ``writer`` uses, for benchmarks and diagnostics."""
    lib = ogg_opus.load()
    if lib is None:
        return "libsndfile's Opus writer"
    return f"{lib.opus_get_version_string().decode()} through ctypes"


def encode(frames: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """An OGG/Opus file of ``frames`` (int16, mono, shape (n,) or (n, 1))."""
    data = np.asarray(frames, dtype=np.int16).reshape(-1)
    out = io.BytesIO()
    with writer(out, sample_rate) as fh:
        fh.write(data)
    return out.getvalue()


def decode(blob: bytes, frames: int | None = None) -> np.ndarray:
    """The int16 mono frames of an OGG/Opus (or any libsndfile-readable) file.

    Args:
        blob: the file's bytes.
        frames: when given, the result is trimmed or zero-padded to exactly this length.
    """
    import soundfile as sf

    data, _rate = sf.read(io.BytesIO(blob), dtype="int16", always_2d=True)
    mono = np.ascontiguousarray(data[:, 0])
    if frames is not None and len(mono) != frames:
        if len(mono) > frames:
            mono = mono[:frames]
        else:
            mono = np.concatenate([mono, np.zeros(frames - len(mono), dtype=np.int16)])
    return mono

"""OGG/Opus encoding of 16 kHz mono int16 frames, in memory (soundfile).

Why Opus: speech at 16 kHz mono is ~25 kB per 10 s in Opus against 320 kB as WAV — a
day of dictation fits on any disk and uploads over a poor network. Why in a BytesIO: the
bytes are sealed before anything touches the disk, so no clear audio is ever written.

Length: Opus decoders skip the encoder's pre-skip (312 samples at 48 kHz) and an OGG
stream's last granule position says where the audio ends, so libsndfile 1.2 returns
exactly the frames encoded. Older or other decoders may return a few frames more or
fewer; ``decode(..., frames=n)`` trims the surplus or pads with silence at the end so a
segment always contributes exactly the frame count its (authenticated) header names, and
positions in the edit list stay exact.
"""

from __future__ import annotations

import io

import numpy as np

SAMPLE_RATE = 16_000


def encode(frames: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """An OGG/Opus file of ``frames`` (int16, mono, shape (n,) or (n, 1))."""
    import soundfile as sf  # libsndfile is loaded when first needed, not at import

    data = np.asarray(frames, dtype=np.int16).reshape(-1)
    out = io.BytesIO()
    sf.write(out, data, sample_rate, format="OGG", subtype="OPUS")
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

"""Stored size of dictation per hour of speech against WAV (issue 12 target: >= 10x smaller).

Speech from espeak-ng (several sentences, ~30 s, repeated to BENCH_MINUTES, default 10)
goes through the real segment path — 2 s segments, OGG/Opus, sealed, written whole with
fsync — and the sizes on disk are scaled to an hour; also the one delivered file
(``render``: decrypted, edits applied, re-encoded once). Quality: the normalised correlation
of what is decoded with the original speech (1.0 = the same waveform up to a gain; the
decoders return exactly the frames written, so at lag 0), for the segments and for the
delivered file. Prints figures; asserts nothing.

    python -m benchmarks dictation_size
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

TEXT = (
    "Follow-up visit for a fifty-eight year old man with type two diabetes and high blood "
    "pressure. He reports good adherence to metformin, occasional dizziness on standing, "
    "and no chest pain. Examination: blood pressure one thirty-eight over eighty-four, "
    "pulse seventy-two and regular, feet with intact sensation. Plan: continue metformin, "
    "reduce amlodipine to five milligrams, repeat HbA1c in three months, and review in "
    "clinic. Letter to follow to the general practitioner."
)


def speech_pcm(folder: Path):  # type: ignore[no-untyped-def]
    import numpy as np
    import soundfile as sf

    raw, wav = folder / "raw.wav", folder / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), TEXT], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)],
                   check=True)
    data, _ = sf.read(str(wav), dtype="int16")
    return np.asarray(data, dtype=np.int16)


def correlation(a, b) -> float:  # type: ignore[no-untyped-def]
    import numpy as np

    x, y = a.astype(np.float64), b.astype(np.float64)
    return float(x @ y / np.sqrt((x @ x) * (y @ y) + 1e-9))


def main() -> None:
    import numpy as np

    from backend_client.dictation import codec
    from backend_client.dictation.dto import RecordingTarget
    from backend_client.dictation.local_store import LocalDictationStore

    minutes = float(os.environ.get("BENCH_MINUTES", "10"))
    with tempfile.TemporaryDirectory() as tmp:
        one = speech_pcm(Path(tmp))
        n = int(minutes * 60 * 16_000)
        pcm = np.tile(one, n // len(one) + 1)[:n]
        store = LocalDictationStore(Path(tmp), key=bytes(range(32)))
        rid = store.create(1, RecordingTarget(1, "Bench")).id
        take = store.start_take(rid, "append", 0)
        started = time.perf_counter()
        stored = 0
        for seq, first in enumerate(range(0, n, 32_000), 1):
            stored += store.write_segment(rid, take, seq, pcm[first:first + 32_000])
        wall = time.perf_counter() - started
        delivered = store.render(rid)
        rendered = len(delivered)
        kept = correlation(store.pcm(rid), pcm)
        heard = correlation(codec.decode(delivered, n), pcm)
    hours = n / 16_000 / 3600
    wav = 44 + 2 * n
    print(f"speech sample {len(one) / 16_000:.1f} s repeated to {minutes:g} min; "
          f"{seq} segments written in {wall:.1f} s")
    print(f"WAV (16 kHz mono 16-bit): {wav / hours / 2**20:.1f} MiB per hour")
    print(f"stored segments (OGG/Opus, sealed): {stored / hours / 2**20:.2f} MiB per hour, "
          f"{wav / stored:.1f}x smaller than WAV")
    print(f"delivered file (one OGG/Opus, before sealing): {rendered / hours / 2**20:.2f} "
          f"MiB per hour, {wav / rendered:.1f}x smaller than WAV")
    print(f"encoder: {codec.encoder_name()}; correlation with the original speech: "
          f"segments {kept:.4f}, delivered file {heard:.4f}")


if __name__ == "__main__":
    main()

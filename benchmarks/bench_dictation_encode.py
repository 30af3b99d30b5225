"""CPU cost of encoding and sealing dictation (issue 12 target: >= 50x real time).

CPU seconds (``time.process_time``) of OGG/Opus encoding + AES-256-GCM sealing per second
of audio, for 2 s segments of espeak-ng speech, as the recorder's writer thread does them;
then the same with the segment written whole (fsync, rename, fsync the folder) — that
part is mostly waiting on the disk, so it is wall time. Prints figures; asserts nothing.

    python -m benchmarks dictation_encode
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.bench_dictation_size import speech_pcm


def main() -> None:
    import numpy as np

    from backend_client.dictation import codec, sealing
    from backend_client.dictation.dto import RecordingTarget
    from backend_client.dictation.local_store import LocalDictationStore

    seconds = float(os.environ.get("BENCH_SECONDS", "300"))
    with tempfile.TemporaryDirectory() as tmp:
        one = speech_pcm(Path(tmp))
        n = int(seconds * 16_000)
        pcm = np.tile(one, n // len(one) + 1)[:n]
        segments = [pcm[i:i + 32_000] for i in range(0, n, 32_000)]
        key = sealing.new_key()
        cpu = time.process_time()
        for seq, frames in enumerate(segments, 1):
            sealing.seal_segment(key, "r" * 32, 1, seq, len(frames), codec.encode(frames))
        cpu = time.process_time() - cpu
        print(f"encoder: {codec.encoder_name()}, {codec.BITRATE} bit/s VBR, complexity "
              f"{codec.COMPLEXITY}")
        print(f"encode+seal: {cpu:.2f} CPU s for {seconds:g} s of audio = "
              f"{cpu / seconds * 1000:.2f} CPU ms per audio second, "
              f"{seconds / cpu:.0f}x real time")
        store = LocalDictationStore(Path(tmp), key=bytes(range(32)))
        rid = store.create(1, RecordingTarget(1, "Bench")).id
        take = store.start_take(rid, "append", 0)
        cpu, wall = time.process_time(), time.perf_counter()
        for seq, frames in enumerate(segments, 1):
            store.write_segment(rid, take, seq, frames)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"encode+seal+write whole (fsync): {cpu:.2f} CPU s, {wall:.2f} s wall for "
              f"{len(segments)} segments = {wall / len(segments) * 1000:.1f} ms per 2 s "
              f"segment, {seconds / wall:.0f}x real time (wall)")


if __name__ == "__main__":
    main()

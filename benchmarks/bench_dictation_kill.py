"""kill -9 durability of dictation (issue 12 target: 0 lost, 0 corrupt, 0 duplicate).

BENCH_KILLS (default 1,000) kills of recorder processes capturing from a private
PulseAudio virtual microphone (tests/audio_support.py): three lanes side by side, each
killed at a random instant and restarted on its interrupted recording, 0.25 s segments so
that kills often land inside a segment's write. After every kill: finished segments
missing (lost), segments that do not open (corrupt), identical segments or reused take
numbers (duplicate), the recording not found interrupted, or not rendering. Prints the
counts; asserts nothing.

    BENCH_KILLS=1000 python -m benchmarks dictation_kill
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main() -> None:
    from tests.audio_support import KillCounts, kill_lane, start_pulse

    kills = int(os.environ.get("BENCH_KILLS", "1000"))
    lanes = 3
    mic = start_pulse()
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(lanes) as pool:
            per_lane = [kills // lanes + (1 if i < kills % lanes else 0) for i in range(lanes)]
            futures = [pool.submit(kill_lane, Path(tmp) / f"lane{i}", k, mic.server, 1000 + i,
                                   max_wait=2.0)
                       for i, k in enumerate(per_lane)]
            total = KillCounts()
            for future in futures:
                total.add(future.result())
    finally:
        mic.stop()
    wall = time.perf_counter() - started
    print(f"{total.kills} kills in {wall:.0f} s ({lanes} lanes); {total.segments} segments "
          f"finished in all")
    print(f"lost {total.lost}, corrupt {total.corrupt}, duplicate {total.duplicate}; "
          f"not found interrupted {total.not_interrupted}, not rendering "
          f"{total.not_rendering}")


if __name__ == "__main__":
    main()

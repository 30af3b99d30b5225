"""Stop → verified in S3 and visible in the chart, for a 5-minute dictation on loopback
(target ≤ 1 s).

The recording is made the way the recorder makes it: 150 sealed 2-second segments written
through ``LocalDictationStore`` in one take (not timed). Timed, from the moment the doctor
stops: the manifest marked stopped, the ``recordings`` row registered, ``enqueue``, and
``run_once`` until "done" — the delivery file (encoded while recording, so ready at stop),
seal, put with SHA-256 and SSE (verified by the store's answer), MongoDB document
(majority), ``recording_delivered`` — then the row is read back through a session. Then
the same for a recording with ten seconds inserted one minute in, stopped straight after
the insert: its delivery file was kept encoded through the edit, and at stop the audio
after the insert is joined on (assembly.py). p50 and max of runs.

    python -m benchmarks dictation_deliver      (BENCH_DELIVER_RUNS, default 5)
"""

from __future__ import annotations

import io
import os
import statistics
import time

import numpy as np
import soundfile as sf

from backend_client.dictation.dto import RecordingTarget
from backend_client.dictation.local_store import LocalDictationStore
from backend_client.dictation.queue import UploadQueue
from backend_client.dictation.upload import Uploader
from benchmarks.dictation_bench import Bench, bench_stack, speechlike

SEGMENT = 32_000


def record(b: Bench, store: LocalDictationStore, pcm: np.ndarray, *, edit: bool) -> str:
    rec = store.create(b.doctor, RecordingTarget(b.patient, "Bench", work_type="letter"))
    take = store.start_take(rec.id, "append", 0)
    for seq, at in enumerate(range(0, len(pcm), SEGMENT), start=1):
        store.write_segment(rec.id, take, seq, pcm[at:at + SEGMENT])
    if edit:   # ten seconds inserted one minute in
        take = store.start_take(rec.id, "insert", 60 * 16_000)
        for seq, at in enumerate(range(0, 10 * 16_000, SEGMENT), start=1):
            store.write_segment(rec.id, take, seq, pcm[at:at + SEGMENT])
    return rec.id


def main() -> None:
    runs = int(os.environ.get("BENCH_DELIVER_RUNS", "5"))
    with bench_stack("deliver") as b:
        pcm, _ = sf.read(io.BytesIO(speechlike(300.0)), dtype="int16")
        store = LocalDictationStore(b.tmp / "desk", key=b.key)
        uploader = Uploader(objects=b.s3, mongo_db=b.backend.mongo_db,
                            engine=b.backend.engine, audio=store.audio,
                            workstation_key=b.key,
                            outbox=b.tmp / "desk" / "dictation" / "outbox",
                            registrar=b.recordings, delivered=b.recordings.delivered,
                            discard=lambda rid, _author: store.remove(rid))
        queue = UploadQueue(b.tmp / "desk", uploader)
        for edit in (False, True):
            times = []
            for _ in range(runs + 1):                  # the first warms the connections
                rid = record(b, store, pcm, edit=edit)
                t0 = time.perf_counter()
                store.set_state(rid, "stopped")
                rec = store.recording(rid)
                b.recordings.register(rec)
                queue.enqueue(rec, registered=True)      # as the app does at stop
                item = queue.run_once()
                assert item is not None and item.state == "done", item
                assert rid in {r.id for r in b.recordings.recordings(b.patient)}
                times.append((time.perf_counter() - t0) * 1000)
            times = times[1:]
            what = ("with an insert, stopped right after it" if edit
                    else "recorded straight through             ")
            print(f"  5-minute dictation {what}: stop -> verified in S3 + row visible "
                  f"p50 {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms   "
                  f"({len(times)} runs; target <= 1000 ms)", flush=True)


if __name__ == "__main__":
    main()

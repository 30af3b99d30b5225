"""Upload throughput of the dictation queue vs a plain boto3 ``upload_file`` of the same
bytes to the same (moto) S3 server on loopback (target ≥ 0.8x). Ours: ``run_once`` for one
queued recording (seal, fsynced outbox copy, HEAD, put or multipart in 8 MB parts with
SHA-256 and SSE, verify HEAD, MongoDB document, PostgreSQL row); boto3: ``upload_file`` of
the sealed file with its defaults (8 MB multipart threshold and parts, 10 threads). MB/s
both, and the ratio, for a 5-minute dictation and a long one (chained OGG/Opus streams).

    python -m benchmarks dictation_upload      (BENCH_UPLOAD_MB for the long one, default 48)
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

from backend_client.dictation.upload import object_key
from benchmarks.dictation_bench import bench_stack, speechlike


def main() -> None:
    long_mb = int(os.environ.get("BENCH_UPLOAD_MB", "48"))
    with bench_stack("upload") as b:
        five = speechlike(300.0)
        chunk = speechlike(600.0, seed=3)
        long = chunk * max(1, (long_mb * 1024 * 1024) // len(chunk))
        queue = b.queue()
        client = b.s3.client
        for label, ogg, runs in (("5-minute dictation", five, 7),
                                 (f"{len(long) / 2**20:.0f} MB recording", long, 3)):
            ours, plain = [], []
            for i in range(runs + 1):
                rec = b.stop(ogg)
                queue.enqueue(rec)
                t0 = time.perf_counter()
                item = queue.run_once()
                t_ours = time.perf_counter() - t0
                assert item is not None and item.state == "done", item
                sealed = b.s3.get(object_key(rec.id))
                path = b.tmp / "plain.bin"
                path.write_bytes(sealed)
                t0 = time.perf_counter()
                client.upload_file(str(path), b.s3.bucket, f"plain/{uuid.uuid4().hex}")
                t_plain = time.perf_counter() - t0
                if i:                                  # the first warms connections
                    ours.append(len(sealed) / t_ours / 2**20)
                    plain.append(len(sealed) / t_plain / 2**20)
            o, p = statistics.median(ours), statistics.median(plain)
            print(f"  {label:<22} ours {o:7.1f} MB/s   boto3 upload_file {p:7.1f} MB/s   "
                  f"ratio {o / p:4.2f}x  ({runs} runs, medians; target >= 0.8x)", flush=True)


if __name__ == "__main__":
    main()

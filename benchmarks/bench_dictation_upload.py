"""Upload throughput of the dictation queue vs a plain boto3 ``upload_file`` of the same
bytes to the same (moto) S3 server on loopback (target ≥ 0.8x).

Two figures for ours: the whole ``run_once`` of one queued recording (seal under a fresh
key, fsynced outbox copy, upload, verify, MongoDB document, PostgreSQL row), and its S3
part alone (from the first byte sent to the verifying HEAD: put with SHA-256 and SSE, or
multipart in 8 MB parts, 8 at a time). boto3: ``upload_file`` of the sealed file with its
defaults (8 MB multipart threshold and parts, 10 threads, CRC32). MB/s and the ratios, for
a 5-minute dictation and a long recording (chained OGG/Opus streams). Medians of runs; the
machine's other load shows in the spread, so several runs.

    python -m benchmarks dictation_upload      (BENCH_UPLOAD_MB for the long one, default 48)
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from typing import Any

from backend_client.dictation.upload import object_key
from benchmarks.dictation_bench import bench_stack, speechlike


class Timed:
    """The real store, noting when the upload's first request starts and when its
    verifying HEAD ends."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.started = self.verified = 0.0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name in ("put_unread", "multipart_start"):
            def first(*a: Any, **k: Any) -> Any:
                self.started = time.perf_counter()
                return attr(*a, **k)
            return first
        if name == "head_checksum":
            def last(*a: Any, **k: Any) -> Any:
                try:
                    return attr(*a, **k)
                finally:
                    self.verified = time.perf_counter()
            return last
        return attr


def main() -> None:
    long_mb = int(os.environ.get("BENCH_UPLOAD_MB", "48"))
    with bench_stack("upload") as b:
        five = speechlike(300.0)
        chunk = speechlike(600.0, seed=3)
        long = chunk * max(1, (long_mb * 1024 * 1024) // len(chunk))
        timed = Timed(b.s3)
        queue = b.queue(objects=timed)
        client = b.s3.client
        for label, ogg, runs in (("5-minute dictation", five, 9),
                                 (f"{len(long) / 2**20:.0f} MB recording", long, 5)):
            whole, transfer, plain = [], [], []
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
                    mb = len(sealed) / 2**20
                    whole.append(mb / t_ours)
                    transfer.append(mb / (timed.verified - timed.started))
                    plain.append(mb / t_plain)
            w, t, p = (statistics.median(v) for v in (whole, transfer, plain))
            print(f"  {label}: boto3 upload_file {p:6.1f} MB/s", flush=True)
            print(f"    ours, S3 transfer + verify  {t:6.1f} MB/s   ratio {t / p:4.2f}x",
                  flush=True)
            print(f"    ours, whole delivery        {w:6.1f} MB/s   ratio {w / p:4.2f}x   "
                  f"({runs} runs, medians; target >= 0.8x)", flush=True)


if __name__ == "__main__":
    main()

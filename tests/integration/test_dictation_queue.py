"""The upload queue on its own (SQLite on the workstation): what it keeps across restarts,
its order, its backoff, failed items and retention. Delivery itself is a fake here (our own
seam, the queue's ``Deliverer``); test_dictation_upload.py runs the real one."""

from __future__ import annotations

import sqlite3
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend_client.dictation.dto import LocalRecording, RecordingTarget
from backend_client.dictation.queue import (
    LEASE_SECONDS,
    Clock,
    Job,
    Permanent,
    Transient,
    UploadQueue,
)


class FakeClock:
    def __init__(self) -> None:
        self.t = time.time()   # fake clocks start at the real now
        self.draws: list[tuple[float, float]] = []

    def now(self) -> float:
        return self.t

    def uniform(self, low: float, high: float) -> float:
        self.draws.append((low, high))
        return high            # the longest wait full jitter may pick


class FakeDeliverer:
    """Fails as told, then delivers; notes what a real one would."""

    def __init__(self) -> None:
        self.outcomes: list[Exception | None] = []
        self.calls: list[str] = []
        self.discarded: list[str] = []
        self.step: Callable[[Job, Callable[..., None]], None] | None = None

    def deliver(self, job: Job, note: Callable[..., None], progress: object) -> None:
        self.calls.append(job.recording_id)
        if self.step:
            self.step(job, note)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome

    def discard_local(self, job: Job) -> None:
        self.discarded.append(job.recording_id)


def rec(n: int, priority: str = "routine") -> LocalRecording:
    return LocalRecording(
        id=f"{n:032x}", author_id=7,
        target=RecordingTarget(patient_id=3, patient_caption="Müller, Anna", priority=priority),
        started_at=datetime(2026, 12, 3, 9, 0, tzinfo=UTC), duration_ms=4000,
        size_bytes=5000, state="stopped")


def make(tmp_path: Path, **kw: object) -> tuple[UploadQueue, FakeDeliverer, FakeClock]:
    clock, fake = FakeClock(), FakeDeliverer()
    queue = UploadQueue(tmp_path, fake, clock=Clock(now=clock.now, uniform=clock.uniform),
                        **kw)  # type: ignore[arg-type]
    return queue, fake, clock


def test_the_queue_is_a_private_wal_database_that_keeps_its_items(tmp_path: Path) -> None:
    queue, _, _ = make(tmp_path)
    first = queue.enqueue(rec(1))
    assert queue.enqueue(rec(1)) == first               # idempotent
    assert (first.state, first.size_bytes, first.patient_caption) == (
        "waiting", 5000, "Müller, Anna")
    path = tmp_path / "dictation" / "queue.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    queue.close()
    again, _, _ = make(tmp_path)                        # an app restart
    assert [i.recording_id for i in again.items()] == [rec(1).id]
    assert again.waiting() == 1


def test_stat_goes_first_then_urgent_then_the_oldest(tmp_path: Path) -> None:
    queue, fake, clock = make(tmp_path)
    for n, priority in ((1, "routine"), (2, "urgent"), (3, "stat"), (4, "routine")):
        queue.enqueue(rec(n, priority))
        clock.t += 1
    while queue.run_once() is not None:
        pass
    assert fake.calls == [rec(n).id for n in (3, 2, 1, 4)]
    assert queue.waiting() == 0
    assert fake.discarded == fake.calls                 # local copies go once delivered


def test_transient_errors_wait_with_full_jitter_backoff(tmp_path: Path) -> None:
    queue, fake, clock = make(tmp_path)
    queue.enqueue(rec(1))
    waits = []
    for _ in range(10):
        fake.outcomes.append(Transient("Object storage cannot be reached right now."))
        item = queue.run_once()
        assert item is not None and item.state == "waiting"
        assert item.problem == "Object storage cannot be reached right now."
        assert queue.run_once() is None                 # not due before its time
        wait = queue.next_due_in()
        assert wait is not None
        waits.append(wait)
        clock.t += wait
    assert [hi for _, hi in clock.draws] == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert all(lo == 0 for lo, _ in clock.draws)
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert queue.run_once() is not None and queue.item(rec(1).id).state == "done"
    assert queue.item(rec(1).id).attempts == 10


def test_a_permanent_error_is_not_retried_until_asked(tmp_path: Path) -> None:
    queue, fake, clock = make(tmp_path)
    queue.enqueue(rec(1))
    fake.outcomes.append(Permanent("It has no bucket named dra (DRA_S3_BUCKET)."))
    item = queue.run_once()
    assert item is not None
    assert (item.state, item.problem, item.next_attempt_at) == (
        "failed", "It has no bucket named dra (DRA_S3_BUCKET).", None)
    clock.t += 10 * 86400
    assert queue.run_once() is None and queue.next_due_in() is None
    assert queue.waiting() == 1                         # still counted: not delivered
    queue.retry(rec(1).id)
    assert queue.next_due_in() == 0
    assert queue.run_once() is not None and queue.item(rec(1).id).state == "done"


def test_a_crash_mid_delivery_leaves_the_item_due_again_with_what_it_noted(
        tmp_path: Path) -> None:
    queue, fake, clock = make(tmp_path)
    queue.enqueue(rec(1))

    def crash(job: Job, note: Callable[..., None]) -> None:
        note(upload_id="u-1", parts={1: ("etag", "ab" * 32)}, sent_bytes=8, registered=True)
        raise KeyboardInterrupt          # the process dies here (nothing catches it)

    fake.step = crash
    with pytest.raises(KeyboardInterrupt):
        queue.run_once()
    queue.close()
    fake.step = None
    again, fake2, clock2 = make(tmp_path)
    clock2.t = clock.t
    assert again.item(rec(1).id).state == "uploading"
    assert again.run_once() is None                     # leased: another instance may run it
    clock2.t += LEASE_SECONDS
    seen: list[Job] = []
    fake2.step = lambda job, note: seen.append(job)
    assert again.run_once() is not None
    assert (seen[0].upload_id, seen[0].parts, seen[0].registered) == (
        "u-1", {1: ("etag", "ab" * 32)}, True)


def test_retention_keeps_the_local_copy_and_done_items_show_for_an_hour(
        tmp_path: Path) -> None:
    queue, fake, clock = make(tmp_path, keep_days=2)
    queue.enqueue(rec(1))
    queue.run_once()
    assert fake.discarded == []
    assert [i.state for i in queue.items()] == ["done"]
    clock.t += 3601
    assert queue.items() == ()
    clock.t += 2 * 86400
    queue.run_once()
    assert fake.discarded == [rec(1).id]


CHILD = """
import sys, time
from pathlib import Path
from backend_client.dictation.queue import UploadQueue

class Hangs:
    def deliver(self, job, note, progress):
        note(upload_id="u-9", sent_bytes=8)
        print("noted", flush=True)
        time.sleep(60)          # killed here, mid-delivery

    def discard_local(self, job):
        pass

UploadQueue(Path(sys.argv[1]), Hangs()).run_once()
"""


def test_an_app_killed_mid_delivery_resumes_it_at_its_next_start(tmp_path: Path) -> None:
    """kill -9 while an upload runs: the next start takes the item up at once (the lease's
    process is gone), with what was noted, instead of waiting out the lease."""
    import subprocess
    import sys

    queue, _fake, _clock = make(tmp_path)
    queue.enqueue(rec(1))
    queue.close()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "noted"
        child.kill()
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    again, fake, clock = make(tmp_path)
    assert again.item(rec(1).id).state == "uploading"
    seen: list[Job] = []
    fake.step = lambda job, note: seen.append(job)
    item = again.run_once()
    assert item is not None and item.state == "done"
    assert seen[0].upload_id == "u-9"          # resumed with what the killed one noted

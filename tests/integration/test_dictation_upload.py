"""Delivery against the real stores: S3 (moto's server; one of the test's own where it is
stopped and restarted) and the local-disk store, MongoDB and PostgreSQL through the app's
own logins. A stopped recording ends as one sealed object, one document and one visible
row, whatever is killed, stopped or refused on the way."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from backend_client.dictation.dto import LocalRecording, RecordingTarget
from backend_client.dictation.queue import LEASE_SECONDS, Clock, Job, UploadQueue
from backend_client.dictation.service import RecordingsService
from backend_client.dictation.upload import (
    WAITS_FOR_AUTHOR,
    Uploader,
    object_key,
    open_object,
)
from backend_client.local_stack.process import free_port, port_answers, wait_for
from backend_client.stores.objects import LocalObjectStore, S3ObjectStore
from backend_client.stores.objects.base import ResumableObjectStore
from backend_client.stores.objects.s3 import build_s3_client
from tests.integration.dictation_clinic import (  # noqa: F401 (a fixture)
    DictationClinic,
    dictation_clinic_fixture,
    opus,
)

MB = 1024 * 1024


class Killed(BaseException):
    """The process dies here: nothing in the app catches it."""


class FakeClock:
    def __init__(self) -> None:
        self.t = time.time()   # fake clocks start at the real now

    def now(self) -> float:
        return self.t

    def uniform(self, low: float, high: float) -> float:
        return high


class Counting:
    """The real store, with the parts sent counted (our seam, not a fake store)."""

    def __init__(self, inner: ResumableObjectStore) -> None:
        self.inner = inner
        self.sent_parts: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def multipart_put_part(self, key: str, upload_id: str, number: int, data: bytes,
                           sha256: str | None = None) -> str:
        self.sent_parts.append(number)
        return self.inner.multipart_put_part(key, upload_id, number, data, sha256)


class Killing:
    """Delivery that dies when ``kill(columns)`` says so, just before a step's note."""

    def __init__(self, inner: Uploader, kill: Callable[[dict[str, Any]], bool]) -> None:
        self.inner, self.kill = inner, kill

    def deliver(self, job: Job, note: Callable[..., None], progress: Any) -> None:
        def noting(**columns: Any) -> None:
            if self.kill(columns):
                raise Killed
            note(**columns)

        self.inner.deliver(job, noting, progress)

    def discard_local(self, job: Job) -> None:
        self.inner.discard_local(job)


@dataclass
class Desk:
    """One workstation: its queue, its uploader and the recordings it has on disk."""

    clinic: DictationClinic
    store: Any
    tmp: Path
    key: bytes = field(default_factory=lambda: os.urandom(32))
    audio: dict[str, bytes] = field(default_factory=dict)
    discarded: list[str] = field(default_factory=list)
    clock: FakeClock = field(default_factory=FakeClock)
    threshold: int = 16 * MB
    part_size: int = 8 * MB
    threads: int = 4
    keep_after: float = 60.0     # the outbox copy: only when asked (0) or on a failure

    def __post_init__(self) -> None:
        c = self.clinic
        self.recordings = RecordingsService(c.backend.engine, self.store, c.access["doctor"],
                                            publisher=c.events, workstation_key=self.key)
        self.uploader = self.make_uploader()
        self.queue = self.restart()

    def make_uploader(self) -> Uploader:
        def audio(rid: str, author: int) -> bytes:
            assert author == self.clinic.users["doctor"]
            return self.audio[rid]

        return Uploader(objects=self.store, mongo_db=self.clinic.backend.mongo_db,
                        engine=self.clinic.backend.engine, audio=audio,
                        workstation_key=self.key, outbox=self.tmp / "dictation" / "outbox",
                        registrar=self.recordings, discard=lambda r, a: self.discarded.append(r),
                        delivered=self.recordings.delivered,
                        multipart_threshold=self.threshold, part_size=self.part_size,
                        threads=self.threads, keep_after=self.keep_after)

    def restart(self, deliverer: Any = None) -> UploadQueue:
        self.queue = UploadQueue(self.tmp, deliverer or self.uploader,
                                 clock=Clock(now=self.clock.now, uniform=self.clock.uniform))
        return self.queue

    def stop(self, ogg: bytes | None = None, *, register: bool = True) -> LocalRecording:
        rid = uuid.uuid4().hex
        self.audio[rid] = ogg if ogg is not None else opus(3.0, seed=len(self.audio))
        rec = LocalRecording(
            id=rid, author_id=self.clinic.users["doctor"],
            target=RecordingTarget(patient_id=self.clinic.patient, patient_caption="Dict",
                                   priority="urgent", work_type="letter"),
            started_at=datetime(2026, 12, 3, 8, 0, tzinfo=UTC), duration_ms=3000,
            size_bytes=len(self.audio[rid]), state="stopped")
        if register:
            self.recordings.register(rec)
        self.queue.enqueue(rec, registered=register)      # as the app does at stop
        return rec

    # What is stored, as the owners see it.
    def versions(self, rid: str) -> int:
        if isinstance(self.store, LocalObjectStore):
            return len([o for o in self.store.list("recordings/") if rid in o.key])
        answer = self.store.client.list_object_versions(Bucket=self.store.bucket,
                                                        Prefix=object_key(rid))
        return len(answer.get("Versions", []))

    def docs(self, rid: str) -> int:
        return self.clinic.backend.owner_mongo_db["recording_meta"].count_documents(
            {"_id": rid})

    def row(self, rid: str) -> Any:
        rows = self.clinic.owner("SELECT status, data_key, sha256, size_bytes, duration_ms "
                                 "FROM recordings WHERE id = :i", i=uuid.UUID(rid))
        return rows[0] if rows else None

    def opened(self, rid: str) -> bytes:
        return open_object(bytes(self.row(rid).data_key), rid,
                           self.store.get(object_key(rid)))


def _s3(endpoint: str, *, bucket: str = "", create: bool = True) -> S3ObjectStore:
    def client(sign_bodies: bool = True) -> Any:
        return build_s3_client(endpoint, region="us-east-1", access_key_id="testing",
                               secret_access_key="testing", timeout_seconds=1.0, attempts=1,
                               sign_bodies=sign_bodies)
    # As the app builds it (backend.py): bodies are sent unsigned, their SHA-256 signed.
    store = S3ObjectStore(client(), bucket or f"dict-{uuid.uuid4().hex[:12]}",
                          bodies=client(sign_bodies=False))
    if create:
        store.ensure_bucket()
    return store


@pytest.fixture(params=["s3", "local"])
def desk(request: pytest.FixtureRequest, dictation_clinic: DictationClinic,
         tmp_path: Path) -> Desk:
    store: Any = (_s3(request.getfixturevalue("s3_endpoint")) if request.param == "s3"
                  else LocalObjectStore(tmp_path / "objects"))
    return Desk(dictation_clinic, store, tmp_path)


@pytest.fixture
def s3_desk(dictation_clinic: DictationClinic, s3_endpoint: str, tmp_path: Path) -> Desk:
    return Desk(dictation_clinic, _s3(s3_endpoint), tmp_path)


class OwnS3:
    """A moto server of the test's own, to stop and start again on the same port."""

    def __init__(self, log: Path, env: dict[str, str] | None = None) -> None:
        self.port, self.log, self.env = free_port(), log, env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env})
        assert wait_for(lambda: port_answers(self.port), 30), self.log.read_text()[-2000:]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_s3(tmp_path: Path) -> Iterator[OwnS3]:
    server = OwnS3(tmp_path / "moto.log")
    server.start()
    yield server
    server.stop()


# ------------------------------------------------------------------ the whole way


def test_a_stopped_recording_arrives_sealed_described_and_visible(desk: Desk) -> None:
    c = desk.clinic
    rec = desk.stop()
    seen: list[tuple[str, int, int]] = []
    states: list[str] = []

    def progress(rid: str, sent: int, total: int) -> None:
        seen.append((rid, sent, total))
        states.append(desk.queue.item(rid).state)

    item = desk.queue.run_once(progress)
    assert item is not None and (item.state, item.problem) == ("done", "")
    assert desk.queue.waiting() == 0
    blob = desk.store.get(object_key(rec.id))
    assert blob[:5] == b"DRAO\x01" and desk.audio[rec.id] not in blob
    assert seen[-1] == (rec.id, len(blob), len(blob))
    assert states[-1] == "uploading"
    assert desk.opened(rec.id) == desk.audio[rec.id]
    row = desk.row(rec.id)
    assert (row.status, row.sha256, row.size_bytes, row.duration_ms) == (
        "uploaded", hashlib.sha256(blob).hexdigest(), len(blob), 3000)
    doc = c.backend.owner_mongo_db["recording_meta"].find_one({"_id": rec.id})
    assert doc is not None and (doc["patient_id"], doc["priority"], doc["work_type"],
                                doc["object_key"], doc["sha256"], doc["size"]) == (
        c.patient, "urgent", "letter", object_key(rec.id), row.sha256, len(blob))
    nurse = RecordingsService(c.backend.engine, desk.store, c.access["nurse"])
    assert [r.id for r in nurse.recordings(c.patient)] == [rec.id]
    assert [(e.kind, e.id, e.action) for e in c.events.seen] == [
        ("chart", c.patient, "recording")]
    assert desk.discarded == [rec.id]
    assert not (desk.tmp / "dictation" / "outbox" / f"{rec.id}.sealed").exists()
    if isinstance(desk.store, S3ObjectStore):
        head = desk.store.client.head_object(Bucket=desk.store.bucket, Key=object_key(rec.id))
        assert head["ServerSideEncryption"] == "AES256"


# Where the process dies: just before the queue notes (1) the registration, (2) the sealed
# copy, (3) the upload, (4) the MongoDB document; (5) after PostgreSQL's commit, before the
# queue marks the item done.
@pytest.mark.parametrize("dies_before", ["registered", "sha256", "stored", "described",
                                         "announced"])
def test_a_kill_between_any_two_steps_is_finished_without_duplicates(
        s3_desk: Desk, dies_before: str) -> None:
    desk = s3_desk
    # The queue registers (and notes it) only a recording whose registration at stop
    # failed.
    rec = desk.stop(register=dies_before != "registered")
    if dies_before == "announced":
        def die(job: Job) -> None:
            raise Killed
        desk.uploader.delivered = die
        deliverer: Any = desk.uploader
    else:
        deliverer = Killing(desk.uploader, lambda columns: dies_before in columns)
    with pytest.raises(Killed):
        desk.restart(deliverer).run_once()
    desk.uploader = desk.make_uploader()           # the app starts again
    desk.clock.t += LEASE_SECONDS
    item = desk.restart().run_once()
    assert item is not None and item.state == "done"
    assert (desk.versions(rec.id), desk.docs(rec.id), desk.row(rec.id).status) == (
        1, 1, "uploaded")
    assert desk.opened(rec.id) == desk.audio[rec.id]


def test_a_retry_after_the_upload_sends_nothing_again(s3_desk: Desk) -> None:
    desk = s3_desk
    rec = desk.stop()
    with pytest.raises(Killed):
        desk.restart(Killing(desk.uploader, lambda columns: "stored" in columns)).run_once()
    # Sent at once, so no sealed copy was kept: the store's checksum of the noted sealing
    # says it is there.
    assert not (desk.tmp / "dictation" / "outbox" / f"{rec.id}.sealed").exists()
    desk.clock.t += LEASE_SECONDS
    item = desk.restart().run_once()
    assert item is not None and item.state == "done"
    assert desk.versions(rec.id) == 1 and desk.opened(rec.id) == desk.audio[rec.id]


def test_a_long_recording_resumes_its_multipart_upload(dictation_clinic: DictationClinic,
                                                       s3_endpoint: str, tmp_path: Path
                                                       ) -> None:
    store = Counting(_s3(s3_endpoint))
    # Parts of 5 MB above 6 MB (instead of 8 above 16) keep the test small; the recording
    # is a real OGG/Opus file (chained streams of a minute each).
    # One part at a time, so that where it dies is exact. An upload that runs long keeps
    # its sealed bytes (here from the start: keep_after=0).
    desk = Desk(dictation_clinic, store, tmp_path, threshold=6 * MB, part_size=5 * MB,
                threads=1, keep_after=0.0)
    rec = desk.stop(opus(60.0) * 50)
    assert len(desk.audio[rec.id]) > 10 * MB
    noted: list[str] = []

    def after_two_parts(columns: dict[str, Any]) -> bool:
        if "upload_id" in columns and columns["upload_id"]:
            noted.append(columns["upload_id"])
        return len(columns.get("parts", {})) == 2     # part 2 sent, not yet noted

    with pytest.raises(Killed):
        desk.restart(Killing(desk.uploader, after_two_parts)).run_once()
    assert store.sent_parts == [1, 2]
    store.sent_parts.clear()
    desk.clock.t += LEASE_SECONDS
    item = desk.restart().run_once()
    assert item is not None and item.state == "done"
    assert store.sent_parts == [2, 3]                  # part 1 was not sent again
    assert desk.versions(rec.id) == 1
    assert desk.opened(rec.id) == desk.audio[rec.id]


def test_a_recording_registered_at_stop_is_not_registered_again(
        dictation_clinic: DictationClinic, s3_endpoint: str, tmp_path: Path) -> None:
    """The app registers a recording's row at stop and tells the queue so; delivery then
    goes without that round trip. One whose registration failed is registered by it."""
    desk = Desk(dictation_clinic, _s3(s3_endpoint), tmp_path)
    asked: list[str] = []
    register_job = desk.recordings.register_job

    def counting(job: Job) -> bool:
        asked.append(job.recording_id)
        return register_job(job)

    desk.recordings.register_job = counting  # type: ignore[method-assign]
    at_stop, later = desk.stop(), desk.stop(register=False)
    for _ in range(2):
        item = desk.queue.run_once()
        assert item is not None and item.state == "done"
    assert asked == [later.id]
    assert desk.row(at_stop.id).status == desk.row(later.id).status == "uploaded"


def test_a_quick_upload_killed_is_sealed_and_sent_again_whole(
        dictation_clinic: DictationClinic, s3_endpoint: str, tmp_path: Path) -> None:
    """An upload that ends within ``keep_after`` keeps no copy of its sealed bytes
    (writing them costs about what sending them does). Killed in it, the next attempt
    finds neither a copy nor the object, seals afresh and sends every part: one object,
    the recording's audio, the first attempt's parts aborted."""
    store = Counting(_s3(s3_endpoint))
    desk = Desk(dictation_clinic, store, tmp_path, threshold=6 * MB, part_size=5 * MB,
                threads=1)
    rec = desk.stop(opus(60.0) * 50)
    noted: list[str] = []

    def after_two_parts(columns: dict[str, Any]) -> bool:
        if columns.get("upload_id"):
            noted.append(columns["upload_id"])
        return len(columns.get("parts", {})) == 2

    with pytest.raises(Killed):
        desk.restart(Killing(desk.uploader, after_two_parts)).run_once()
    assert store.sent_parts == [1, 2]
    assert not (desk.tmp / "dictation" / "outbox" / f"{rec.id}.sealed").exists()
    store.sent_parts.clear()
    desk.clock.t += LEASE_SECONDS
    item = desk.restart().run_once()
    assert item is not None and item.state == "done"
    assert store.sent_parts == [1, 2, 3]               # sealed again: every part sent
    assert desk.versions(rec.id) == 1
    assert desk.opened(rec.id) == desk.audio[rec.id]
    s3 = store.inner
    unfinished = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    assert noted and noted[0] not in {u["UploadId"] for u in unfinished}


# ------------------------------------------------------------------ stores down or refusing


def test_s3_stopped_while_uploading_then_back(dictation_clinic: DictationClinic,
                                              own_s3: OwnS3, tmp_path: Path) -> None:
    desk = Desk(dictation_clinic, _s3(own_s3.url), tmp_path, threshold=6 * MB,
                part_size=5 * MB)
    rec = desk.stop(opus(60.0) * 30)

    def stop_s3_after_first_part(rid: str, sent: int, total: int) -> None:
        if sent < total:
            own_s3.stop()

    item = desk.queue.run_once(stop_s3_after_first_part)
    assert item is not None and item.state == "waiting"
    # The failed attempt kept its sealed bytes for the retry to resume with.
    kept = desk.tmp / "dictation" / "outbox" / f"{rec.id}.sealed"
    assert kept.stat().st_size == item.size_bytes      # the sealed object's size
    assert item.problem.startswith("Object storage (S3 bucket")
    assert item.problem.endswith("It will be tried again by itself.")
    assert desk.queue.next_due_in() == 2.0           # the first backoff's longest wait
    assert desk.queue.run_once() is None
    assert desk.row(rec.id).status == "pending"      # invisible meanwhile
    desk.clock.t += 2
    item = desk.queue.run_once()                     # still down: it waits longer
    assert item is not None and item.state == "waiting" and item.attempts == 2
    own_s3.start()
    desk.store.ensure_bucket()                       # moto forgets everything when stopped
    desk.clock.t += desk.queue.next_due_in() or 0
    item = desk.queue.run_once()
    assert item is not None and item.state == "done"
    assert desk.versions(rec.id) == 1 and desk.opened(rec.id) == desk.audio[rec.id]


def test_a_missing_bucket_fails_with_a_sentence_until_retried(
        dictation_clinic: DictationClinic, s3_endpoint: str, tmp_path: Path) -> None:
    store = _s3(s3_endpoint, bucket=f"gone-{uuid.uuid4().hex[:10]}", create=False)
    desk = Desk(dictation_clinic, store, tmp_path)
    rec = desk.stop()
    item = desk.queue.run_once()
    assert item is not None and item.state == "failed"
    assert f"it has no bucket named {store.bucket} (DRA_S3_BUCKET)" in item.problem
    assert item.problem.endswith("It will be tried again only when you ask.")
    desk.clock.t += 86400
    assert desk.queue.next_due_in() is None and desk.queue.run_once() is None
    store.ensure_bucket()                            # the administrator fixes it
    desk.queue.retry(rec.id)
    item = desk.queue.run_once()
    assert item is not None and item.state == "done"
    assert desk.row(rec.id).status == "uploaded"


def test_refused_access_keys_fail_with_a_sentence(dictation_clinic: DictationClinic,
                                                  tmp_path: Path) -> None:
    # moto checks access keys when told to: ours ("testing") are unknown to it.
    server = OwnS3(tmp_path / "moto.log", {"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    server.start()
    try:
        desk = Desk(dictation_clinic, _s3(server.url, create=False), tmp_path)
        rec = desk.stop()
        item = desk.queue.run_once()
    finally:
        server.stop()
    assert item is not None and item.state == "failed"
    assert "it refused the access key in DRA_S3_ACCESS_KEY_ID and DRA_S3_SECRET_ACCESS_KEY" \
        in item.problem
    assert desk.queue.next_due_in() is None and desk.row(rec.id).status == "pending"


def test_a_local_copy_that_does_not_open_fails_with_a_sentence(s3_desk: Desk) -> None:
    rec = s3_desk.stop(b"OggS but not really a recording")
    item = s3_desk.queue.run_once()
    assert item is not None and item.state == "failed"
    assert item.problem.startswith("The recording on this workstation cannot be read")
    assert s3_desk.versions(rec.id) == 0 and s3_desk.discarded == []


def test_an_author_signed_out_before_registration_waits_for_them(s3_desk: Desk) -> None:
    desk, c = s3_desk, s3_desk.clinic
    rec = desk.stop(register=False)                  # registration failed at stop
    actor = c.access["doctor"].actor
    c.access["doctor"].set_actor(None)               # and the author signed out
    item = desk.queue.run_once()
    assert item is not None and (item.state, item.problem) == ("waiting", WAITS_FOR_AUTHOR)
    assert desk.row(rec.id) is None and desk.versions(rec.id) == 1
    c.access["doctor"].set_actor(actor)              # signed in again
    desk.queue.retry(rec.id)
    item = desk.queue.run_once()
    assert item is not None and item.state == "done"
    assert (desk.versions(rec.id), desk.docs(rec.id), desk.row(rec.id).status) == (
        1, 1, "uploaded")


def test_the_row_data_key_is_the_one_the_object_is_sealed_under(s3_desk: Desk) -> None:
    """The key kept in the queue is wrapped by the workstation key, never stored bare."""
    rec = s3_desk.stop()
    captured: list[bytes] = []
    real = s3_desk.queue.note

    def spy(rid: str, **columns: Any) -> None:
        if columns.get("wrapped_key"):
            captured.append(columns["wrapped_key"])
        real(rid, **columns)

    s3_desk.queue.note = spy  # type: ignore[method-assign]
    s3_desk.queue.run_once()
    key = bytes(s3_desk.row(rec.id).data_key)
    assert captured and key not in captured[0]
    with s3_desk.clinic.app("doctor") as conn:
        assert conn.execute(text("SELECT status FROM recordings WHERE id = :i"),
                            {"i": uuid.UUID(rec.id)}).scalar_one() == "uploaded"

"""Delivery of one queued recording (docs/dictation.md, "Delivery", steps 1–6), each step
idempotent, so that a kill between any two repeats a step and never duplicates one:

1. register the ``recordings`` row if the author is signed in here (``Registrar``);
2. assemble the audio (``audio(id, author)``: one OGG/Opus file), seal it under a fresh
   data key as ``DRAO | 1 | nonce | AES-256-GCM``, AAD ``b"dra-recording:" + id``; its
   SHA-256 and the key (wrapped by the workstation key) go in the queue row. A recording
   sent in parts also keeps its sealed bytes in ``dictation/outbox/<id>.sealed``, so that
   a retry resumes with the same bytes; one sent at once does not need them: a retry
   asks the store whether it holds the noted SHA-256, and seals afresh if not;
3. upload to ``recordings/<id>.ogg.sealed`` with server-side encryption and SHA-256,
   multipart above a threshold (resumed from the parts the store holds); verified by the
   checksum the store computed of what it received — from its answer to the upload where
   it gives one (S3 does), else by a HEAD;
4. insert the MongoDB ``recording_meta`` document (a duplicate key: there already; it must
   say the same);
5. ``recording_delivered(...)`` in PostgreSQL turns the row visible (with the delivery
   proof only this workstation can make: ``delivery_proof``); then the chart hears;
6. (the queue) the local copy goes.

Errors become ``Transient`` (retried with backoff by itself) or ``Permanent`` (shown,
retried on request), each with a sentence for the queue panel.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from backend_client.dictation.queue import Job, Permanent, Progress, Transient
from backend_client.errors import DraError, NotFound
from backend_client.stores.mongo.client import is_mongo_unavailable
from backend_client.stores.objects.base import ResumableObjectStore, composite_sha256

log = logging.getLogger(__name__)

MAGIC = b"DRAO"
FORMAT = 1
CONTENT_TYPE = "audio/ogg; codecs=opus"
MULTIPART_THRESHOLD = 16 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024
# Seconds a multipart upload runs before its sealed bytes are kept in the outbox. Writing
# tens of MB costs about what sending them to a store on the clinic's network does, so an
# upload that ends sooner keeps no copy: a crash in that second costs that second of
# sending again (the next attempt seals afresh), while a long upload, or one that fails,
# resumes from the parts the store holds.
KEEP_AFTER = 1.0
WAITS_FOR_AUTHOR = "Waits for its author to sign in."
# S3 answers that no retry can change: shown, retried only when the user asks.
PERMANENT_S3 = {"AccessDenied", "403", "NoSuchBucket", "InvalidAccessKeyId",
                "SignatureDoesNotMatch", "AllAccessDisabled", "InvalidBucketName",
                "AccountProblem", "InvalidObjectState"}
AGAIN = " It will be tried again by itself."
ON_REQUEST = " It will be tried again only when you ask."


def object_key(recording_id: str) -> str:
    """Derived from the id alone: a retry can only ever address the same object."""
    return f"recordings/{recording_id}.ogg.sealed"


def _aad(recording_id: str) -> bytes:
    return b"dra-recording:" + recording_id.encode()


class Sealed(NamedTuple):
    blob: bytearray
    sha256: str                     # of the whole blob
    part_digests: dict[int, bytes]  # SHA-256 of each ``part_size`` slice, numbered from 1


def seal_object(data_key: bytes, recording_id: str, ogg: bytes, *, part_size: int = 0
                ) -> Sealed:
    """MAGIC, FORMAT, the nonce, then the AES-GCM ciphertext and tag (what
    ``AESGCM.encrypt`` gives), encrypted straight into one buffer: joining a header to
    tens of MB of ciphertext would copy it all once more.

    With ``part_size``, the object is sealed a part at a time, and each part is hashed on
    another thread while the next is encrypted, for the whole object's SHA-256 and each
    part's: nothing is hashed again while the parts are sent, when the store's side of
    the work competes for the CPU.
    """
    nonce = os.urandom(12)
    head = MAGIC + bytes([FORMAT]) + nonce
    total = len(head) + len(ogg) + 16
    out = bytearray(total)
    out[:len(head)] = head
    if not part_size:
        AESGCM(data_key).encrypt_into(nonce, ogg, _aad(recording_id),
                                      memoryview(out)[len(head):])
        return Sealed(out, hashlib.sha256(out).hexdigest(), {})
    encryptor = Cipher(algorithms.AES(data_key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(_aad(recording_id))
    view, plain, whole = memoryview(out), memoryview(ogg), hashlib.sha256()
    # One thread keeps the whole hash in order; another hashes each part.
    with ThreadPoolExecutor(1, "dictation-seal") as in_order, \
            ThreadPoolExecutor(1, "dictation-seal-part") as per_part:
        parts: dict[int, Future[bytes]] = {}
        tagged = False
        for n, a in enumerate(range(0, total, part_size), start=1):
            b = min(a + part_size, total)
            pa, pb = max(a - len(head), 0), min(b - len(head), len(ogg))
            if pb > pa:
                # update_into wants room for a block more than it writes (GCM writes what
                # it is given): the next part's bytes, or the tag's, are that room.
                encryptor.update_into(plain[pa:pb], view[len(head) + pa:len(head) + pb + 15])
            if not tagged and b >= len(head) + len(ogg):
                # The tag before any part that holds some of it is hashed.
                encryptor.finalize()
                out[-16:] = encryptor.tag
                tagged = True
            in_order.submit(whole.update, view[a:b])
            parts[n] = per_part.submit(_digest, view[a:b])
        digests = {n: f.result() for n, f in parts.items()}
    return Sealed(out, whole.hexdigest(), digests)


def _digest(data: memoryview) -> bytes:
    return hashlib.sha256(data).digest()


def open_object(data_key: bytes, recording_id: str, blob: bytes) -> bytes:
    """The OGG/Opus bytes of a sealed object; ``ValueError`` when it is not one of ours or
    not this recording's (a moved or altered object does not open)."""
    if blob[:4] != MAGIC or len(blob) < 5 + 12 + 16 or blob[4] != FORMAT:
        raise ValueError("not a sealed recording")
    try:
        return AESGCM(data_key).decrypt(blob[5:17], blob[17:], _aad(recording_id))
    except InvalidTag:
        raise ValueError("the sealed recording does not open with its key") from None


def delivery_proof(workstation_key: bytes, recording_id: str) -> bytes:
    """What only the workstation that recorded it can show to deliver a recording: the
    row keeps its sha256 from the registration (``recording_delivered`` compares)."""
    return hmac.new(workstation_key, b"dra-delivery:" + recording_id.encode(),
                    hashlib.sha256).digest()


def delivery_check(workstation_key: bytes, recording_id: str) -> bytes:
    return hashlib.sha256(delivery_proof(workstation_key, recording_id)).digest()


def wrap_key(workstation_key: bytes, recording_id: str, data_key: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(workstation_key).encrypt(
        nonce, data_key, b"dra-data-key:" + recording_id.encode())


def unwrap_key(workstation_key: bytes, recording_id: str, wrapped: bytes) -> bytes:
    return AESGCM(workstation_key).decrypt(wrapped[:12], wrapped[12:],
                                           b"dra-data-key:" + recording_id.encode())


def opus_duration_ms(ogg: bytes) -> int:
    """The length of an OGG/Opus file, from its last page's granule position (48 kHz
    samples) less the encoder's pre-skip (RFC 7845); ``ValueError`` if it is not one."""
    head = ogg.find(b"OpusHead")
    last = ogg.rfind(b"OggS")
    if not ogg.startswith(b"OggS") or head < 0 or last < 0 or len(ogg) < last + 14:
        raise ValueError("not an OGG/Opus file")
    pre_skip = int.from_bytes(ogg[head + 10:head + 12], "little")
    granule = int.from_bytes(ogg[last + 6:last + 14], "little", signed=True)
    if granule < 0:
        raise ValueError("the OGG/Opus file has no end")
    return max(0, round((granule - pre_skip) * 1000 / 48_000))


class Registrar(Protocol):
    def register_job(self, job: Job) -> bool:
        """Register the pending row with the author's session if the author is signed in
        here (idempotent); False when they are not."""
        ...


def classify(exc: BaseException) -> Transient | Permanent:
    """What a failure means for the queue, as a sentence."""
    if isinstance(exc, Transient | Permanent):
        return exc
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ClientError):
            code = str(cause.response.get("Error", {}).get("Code", ""))
            if code in PERMANENT_S3:
                text_ = str(exc) if isinstance(exc, DraError) else \
                    f"Object storage refused the upload ({code})."
                return Permanent(text_ + ON_REQUEST)
        cause = cause.__cause__
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None)
        if state in ("DRA22", "DRA23", "DRA24", "42501"):
            return Permanent("The clinic database refused this recording's delivery: it "
                             "was delivered before with other contents, or its details are "
                             "wrong." + ON_REQUEST)
        return Transient("The clinic database cannot be reached right now." + AGAIN)
    if isinstance(exc, PyMongoError):
        if is_mongo_unavailable(exc):
            return Transient("The clinic's document store (MongoDB) cannot be reached "
                             "right now." + AGAIN)
        return Permanent("The clinic's document store refused this recording's "
                         "description." + ON_REQUEST)
    if isinstance(exc, DraError):
        return Transient(str(exc).rstrip(".") + "." + AGAIN)
    if isinstance(exc, BotoCoreError | ClientError | OSError):
        return Transient("Object storage cannot be reached right now." + AGAIN)
    log.warning("dictation delivery failed: %s", type(exc).__name__)
    return Transient(f"Delivery stopped on an unexpected error ({type(exc).__name__})."
                     + AGAIN)


class Uploader:
    """Implements the queue's ``Deliverer``.

    Args:
        objects: the object store (S3 or local disk) with resumable uploads.
        mongo_db: the app's MongoDB database (its user may find and insert
            ``recording_meta``).
        engine: PostgreSQL as the app's login; ``recording_delivered`` needs no session.
        audio: the recording as one OGG/Opus file (``LocalDictations.audio``).
        workstation_key: 32 bytes; wraps the data keys kept in the queue.
        outbox: where sealed objects wait (``<data dir>/dictation/outbox``).
        registrar: registers a row whose registration failed at stop.
        discard: removes the local copy (``LocalDictations.discard``) after delivery.
        delivered: told (job) after a row became visible, once its transaction committed.
        multipart_threshold, part_size: bytes; multipart above the threshold.
        threads: parts sent at once.
        keep_after: seconds a multipart upload runs before its sealed bytes are kept in
            the outbox for a resume (``KEEP_AFTER``); a failed attempt keeps them at once.
    """

    def __init__(self, *, objects: ResumableObjectStore, mongo_db: Database[dict[str, Any]],
                 engine: Engine | Connection, audio: Callable[[str, int], bytes],
                 workstation_key: bytes, outbox: Path, registrar: Registrar | None = None,
                 discard: Callable[[str, int], None] | None = None,
                 delivered: Callable[[Job], None] | None = None,
                 multipart_threshold: int = MULTIPART_THRESHOLD,
                 part_size: int = PART_SIZE, threads: int = 8,
                 keep_after: float = KEEP_AFTER) -> None:
        self.objects = objects
        self.meta = mongo_db["recording_meta"].with_options(
            write_concern=WriteConcern("majority"))
        self.engine = engine
        self.audio = audio
        self.workstation_key = workstation_key
        self.outbox = Path(outbox)
        self.registrar = registrar
        self.discard = discard
        self.delivered = delivered
        self.threshold = multipart_threshold
        self.part_size = part_size
        self.threads = threads
        self.keep_after = keep_after

    # ------------------------------------------------------------------ Deliverer

    def deliver(self, job: Job, note: Callable[..., None], progress: Progress | None
                ) -> None:
        try:
            self._deliver(job, note, progress)
        except Exception as exc:  # noqa: BLE001 - each becomes a sentence for the queue
            raise classify(exc) from exc

    def discard_local(self, job: Job) -> None:
        if self.discard is not None:
            try:
                self.discard(job.recording_id, job.author_id)
            except (OSError, DraError):
                log.warning("a delivered recording's local copy could not be removed")

    # ------------------------------------------------------------------ the steps

    def _deliver(self, job: Job, note: Callable[..., None], progress: Progress | None
                 ) -> None:
        rid = job.recording_id
        registered = job.registered
        if not registered and self.registrar is not None:            # 1
            registered = self.registrar.register_job(job)
            if registered:
                note(registered=True)
        key = object_key(rid)
        sealed = self._sealed_path(rid)
        state = dict(sha256=job.sha256, size=job.size_bytes, wrapped=job.wrapped_key,
                     duration=job.duration_ms)
        if not job.stored:
            blob, fresh, digests = self._sealed(job, note, state)       # 2
            if blob is not None:
                self._upload(job, key, blob, note, progress,             # 3
                             str(state["sha256"]), fresh=fresh, digests=digests)
            elif progress:
                progress(rid, job.size_bytes, job.size_bytes)
            note(stored=True, upload_id=None, parts={},
                 sent_bytes=len(blob) if blob is not None else job.size_bytes)
        if not job.described:                                           # 4
            self._describe(job, key, state)
            note(described=True)
        note(state="registering")        # what the queue panel shows meanwhile
        assert isinstance(state["wrapped"], bytes)
        data_key = unwrap_key(self.workstation_key, rid, state["wrapped"])
        if self._mark_delivered(job, key, state, data_key) is None:     # 5
            if self.registrar is None or not self.registrar.register_job(job):
                raise Transient(WAITS_FOR_AUTHOR)
            note(registered=True)
            self._mark_delivered(job, key, state, data_key)
        sealed.unlink(missing_ok=True)
        if self.delivered is not None:
            try:
                self.delivered(job)
            except Exception:  # noqa: BLE001 - telling others is best effort (pub/sub)
                log.warning("a delivered recording could not be announced")

    def _sealed_path(self, recording_id: str) -> Path:
        return self.outbox / f"{recording_id}.sealed"

    def _sealed(self, job: Job, note: Callable[..., None], state: dict[str, Any]
                ) -> tuple[bytes | bytearray | None, bool, dict[int, bytes]]:
        """The sealed object, the same bytes on every attempt of a multipart upload once
        made, and whether it was made just now (then no store can hold it yet: it is under
        a new key); None when the store holds the noted sealing whole already. Then the
        SHA-256 of its parts when they were hashed as it was sealed."""
        path = self._sealed_path(job.recording_id)
        blob: bytes | bytearray
        if job.sha256 and job.wrapped_key:
            try:
                blob = path.read_bytes()
            except FileNotFoundError:
                blob = b""
            # A torn outbox copy (it is not fsynced: see ``_write``) fails this too.
            if blob and hashlib.sha256(blob).hexdigest() == job.sha256:
                return blob, False, {}
            if self._holds(object_key(job.recording_id), job.sha256, job.size_bytes):
                return None, False, {}
        if job.upload_id:
            # Parts of an earlier sealing are other bytes: S3 would keep them (and bill
            # them) until a lifecycle rule removes unfinished uploads.
            self.objects.multipart_abort(object_key(job.recording_id), job.upload_id)
        try:
            ogg = self.audio(job.recording_id, job.author_id)
            duration = opus_duration_ms(ogg)
        except Exception as exc:  # noqa: BLE001 - a local copy that does not open
            raise Permanent("The recording on this workstation cannot be read: it is "
                            "damaged or missing, so it was not sent." + ON_REQUEST) from exc
        data_key = os.urandom(32)
        # Parts are hashed as they are sealed when the object will go in parts.
        in_parts = len(ogg) + 33 > self.threshold
        blob, sha256, digests = seal_object(data_key, job.recording_id, ogg,
                                            part_size=self.part_size if in_parts else 0)
        state.update(sha256=sha256, size=len(blob),
                     wrapped=wrap_key(self.workstation_key, job.recording_id, data_key),
                     duration=duration)
        # A new sealing starts any upload afresh (its parts were other bytes).
        note(sha256=state["sha256"], size_bytes=state["size"], wrapped_key=state["wrapped"],
             duration_ms=state["duration"], upload_id=None, parts={}, sent_bytes=0)
        return blob, True, digests

    def _holds(self, key: str, sha256: str, size: int) -> bool:
        """Whether the store holds the object of this sealing: its SHA-256 was noted
        before any byte was sent, and an object exists only once the store has verified
        every byte against it (whole, or part by part)."""
        try:
            there = self.objects.stat(key)
        except NotFound:
            return False
        return there.sha256 == sha256 and there.size == size

    def _write(self, path: Path, data: bytes | bytearray) -> None:
        """The outbox copy, renamed into place whole. Not fsynced (writing tens of MB
        through to the disk cost more than the upload): a copy a power cut tore does
        not match the SHA-256 in the queue row, and the recording is sealed again from
        its segments, which are."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _there(self, key: str, size: int, expected: str) -> bool:
        """Whether the store's own checksum of the object (HEAD) is ``expected``."""
        try:
            there, digest = self.objects.head_checksum(key)
        except NotFound:
            return False
        return there == size and digest == expected

    def _upload(self, job: Job, key: str, blob: bytes | bytearray, note: Callable[..., None],
                progress: Progress | None, sha256: str, *, fresh: bool,
                digests: dict[int, bytes]) -> None:
        """``digests``: the parts' SHA-256s when they were hashed as the object was sealed."""
        rid, total = job.recording_id, len(blob)
        if not fresh and self._holds(key, sha256, total):
            # A retry after the upload finished: nothing to send. (Bytes sealed just now,
            # under a key made just now, cannot be there: no round trip to ask.)
            if progress:
                progress(rid, total, total)
            return
        if total > self.threshold:
            # Bytes sealed just now are kept for a resume if the upload takes long or fails
            # (bytes read from the outbox are there already).
            copy = _OutboxCopy(self._write, self._sealed_path(rid), blob, self.keep_after) \
                if fresh else None
            failed = False      # an Exception: kept; a kill (BaseException) keeps nothing
            try:
                said, expected = self._multipart(job, key, blob, note, progress, sha256,
                                                 digests)
            except Exception:
                failed = True
                raise
            finally:
                if copy is not None:
                    copy.close(keep=failed)
        else:
            said = self.objects.put_unread(key, blob, content_type=CONTENT_TYPE,
                                           sha256=sha256)
            expected = sha256
        if progress:
            progress(rid, total, total)
        if said == expected:
            return          # the store computed our checksum from what it received
        if not self._there(key, total, expected):
            raise Transient("The stored copy did not match what was sent; it will be sent "
                            "again." + AGAIN)

    def _multipart(self, job: Job, key: str, blob: bytes | bytearray, note: Callable[..., None],
                   progress: Progress | None, sha256: str, known: dict[int, bytes]
                   ) -> tuple[str, str]:
        """Send the parts the store lacks; (the composite the store says it holds, the
        composite of our parts)."""
        rid, total, size = job.recording_id, len(blob), self.part_size
        count = (total + size - 1) // size
        upload_id = job.upload_id if job.sha256 == sha256 else None
        parts = dict(job.parts) if upload_id else {}
        held: dict[int, int] = {}
        if upload_id:
            try:
                held = self.objects.multipart_parts(key, upload_id)
            except NotFound:
                upload_id, parts = None, {}
        if upload_id is None:
            upload_id = self.objects.multipart_start(key, content_type=CONTENT_TYPE,
                                                     sha256=sha256)
            note(upload_id=upload_id, parts={}, sent_bytes=0)
        # Views, not copies: tens of MB copied into fresh memory cost more than hashing them.
        view = memoryview(blob)
        chunks = {n: view[(n - 1) * size:n * size] for n in range(1, count + 1)}
        digests = dict(known)

        def digest(n: int) -> bytes:
            if n not in digests:
                digests[n] = hashlib.sha256(chunks[n]).digest()
            return digests[n]

        # A part noted as sent counts only if the store holds it at that size and it was
        # these bytes (its noted digest).
        todo = [n for n in chunks if not (n in parts and held.get(n) == len(chunks[n])
                                          and parts[n][1] == digest(n).hex())]
        sent = total - sum(len(chunks[n]) for n in todo)
        if progress and sent:
            progress(rid, sent, total)

        def send(n: int) -> str:
            # Hashed once: as it was sealed, or (a copy read from the outbox) on the part's
            # own thread, where hashlib lets go of the GIL. The digest goes with the part,
            # and the composite of the whole is made of them.
            return self.objects.multipart_put_part(key, upload_id, n, chunks[n],
                                                   digest(n).hex())

        waiting = list(todo)
        running: dict[Future[str], int] = {}
        with ThreadPoolExecutor(max_workers=self.threads,
                                thread_name_prefix="dictation-part") as pool:
            # Parts go several at a time (the boto3 client is thread-safe), each noted as
            # it finishes, so that a restart sends only what the store does not hold. At
            # most ``threads`` in flight: a kill loses at most those.
            while waiting or running:
                while waiting and len(running) < self.threads:
                    n = waiting.pop(0)
                    running[pool.submit(send, n)] = n
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    n = running.pop(future)
                    parts[n] = (future.result(), digest(n).hex())
                    sent += len(chunks[n])
                    note(parts=parts, sent_bytes=sent)
                    if progress:
                        progress(rid, sent, total)
        said = self.objects.multipart_complete(key, upload_id, parts)
        return said, composite_sha256([digest(n) for n in sorted(chunks)])

    def _describe(self, job: Job, key: str, state: dict[str, Any]) -> None:
        doc = {"_id": job.recording_id, "patient_id": job.patient_id,
               "encounter_id": job.encounter_id, "note_id": job.note_id,
               "author_id": job.author_id, "priority": job.priority,
               "work_type": job.work_type, "duration_ms": int(state["duration"]),
               "size": int(state["size"]), "sha256": state["sha256"], "object_key": key,
               "content_type": CONTENT_TYPE, "started_at": job.started_at}
        try:
            self.meta.insert_one(doc)
        except DuplicateKeyError:
            there = self.meta.find_one({"_id": job.recording_id})
            if there is None or {k: there.get(k) for k in doc if k != "started_at"} != {
                    k: v for k, v in doc.items() if k != "started_at"}:
                raise Permanent("A different description of this recording is stored "
                                "already; it was not replaced." + ON_REQUEST) from None

    def _mark_delivered(self, job: Job, key: str, state: dict[str, Any], data_key: bytes
                        ) -> str | None:
        """'delivered' or 'already'; None when no row is registered yet."""
        try:
            with _transaction(self.engine) as conn:
                return str(conn.execute(
                    text("SELECT recording_delivered(:i, :k, :s, :n, :d, :key, :proof)"),
                    {"i": uuid.UUID(job.recording_id), "k": key, "s": state["sha256"],
                     "n": int(state["size"]), "d": int(state["duration"]), "key": data_key,
                     "proof": delivery_proof(self.workstation_key, job.recording_id)},
                ).scalar_one())
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "DRA21":
                return None
            raise


class _OutboxCopy:
    """The sealed bytes of a multipart upload, written to the outbox ``after`` seconds
    into the upload (on a timer thread, beside the parts), or at once when it fails; not
    at all when it ends sooner. A copy that cannot be written only costs a resume: the
    next attempt seals afresh."""

    def __init__(self, write: Callable[[Path, bytes | bytearray], None], path: Path,
                 data: bytes | bytearray, after: float) -> None:
        self._write, self._path, self._data = write, path, data
        self._lock = threading.Lock()
        self._kept = False
        self._timer = threading.Timer(after, self.keep)
        self._timer.name = "dictation-outbox"
        self._timer.daemon = True
        self._timer.start()

    def keep(self) -> None:
        with self._lock:
            if self._kept:
                return
            self._kept = True
            try:
                self._write(self._path, self._data)
            except OSError:
                log.warning("the outbox copy of an upload could not be written; a retry "
                            "will seal the recording again")

    def close(self, *, keep: bool) -> None:
        """Stop the timer; ``keep``: write the copy now unless written. Either way a
        write under way ends first, so the copy is whole or absent."""
        self._timer.cancel()
        if keep:
            self.keep()
        with self._lock:
            pass


def _transaction(bind: Engine | Connection) -> Any:
    """A transaction on the engine; on a test's shared connection, a savepoint."""
    if isinstance(bind, Connection):
        return _Nested(bind)
    return bind.begin()


class _Nested:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        self.tx = self.conn.begin_nested()
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.tx.commit()
        else:
            self.tx.rollback()


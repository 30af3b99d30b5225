"""``RecordingsService``: stored dictations for the chart and the transcription worklist
(``RecordingsApi``), and the registration the upload queue needs (``Registrar``).

Everything runs as the signed-in session (``unit_of_work(engine, token=actor.token)``), so
the database's row security and column grants decide what is visible (migration 0013):
pending rows are nobody's to see, the data key is given only by ``recording_data_key``
(which audits "recording.play"), and reception sees no recording at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from backend_client.accounts.access import Access
from backend_client.dictation.api import RecordingsApi
from backend_client.dictation.dto import (
    PRIORITIES,
    WORK_TYPES,
    LocalRecording,
    RecordingTarget,
    StoredRecording,
)
from backend_client.dictation.queue import Job, UploadQueue
from backend_client.dictation.upload import Uploader, delivery_check, open_object
from backend_client.dto import Actor
from backend_client.errors import NotFound, PermissionDenied, ValidationError
from backend_client.stores.objects.base import ResumableObjectStore
from backend_client.sync.events import ChangeEvent, ChangePublisher, NullPublisher
from backend_client.uow import unit_of_work

if TYPE_CHECKING:
    from collections.abc import Callable

    from backend_client.backend import Backend

_INSERT = text(
    "INSERT INTO recordings (id, patient_id, encounter_id, note_id, author_id, priority, "
    "work_type, delivery_check) VALUES (:id, :patient, :encounter, :note, :author, "
    ":priority, :work_type, :check)")
# Not ON CONFLICT DO NOTHING: with row security PostgreSQL also checks the new row against
# the read policy then, and a pending row is nobody's to read.
_UNIQUE = "23505"
_SELECT = """
SELECT r.id, r.patient_id, r.encounter_id, r.note_id, r.created_at, r.duration_ms,
       r.size_bytes, r.priority, r.work_type, r.status, r.object_key,
       u.display_name AS author_name, p.family_name, p.given_name, p.birth_date,
       (SELECT i.value FROM patient_identifiers i
         WHERE i.patient_id = p.id AND i.kind = 'MRN' LIMIT 1) AS mrn
  FROM recordings r
  LEFT JOIN users u ON u.id = r.author_id
  LEFT JOIN patients p ON p.id = r.patient_id
"""
_PRIORITY_ORDER = "CASE r.priority WHEN 'stat' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END"
SIGNED_OUT = "Your session has ended; sign in again to listen to recordings."


def _caption(row: Any) -> str:
    if row.family_name is None:
        return ""
    parts = [f"{row.family_name}, {row.given_name}"]
    if row.birth_date is not None:
        parts.append(f"born {row.birth_date.day} {row.birth_date:%b %Y}")
    if row.mrn:
        parts.append(f"MRN {row.mrn}")
    return " · ".join(parts)


def _stored(row: Any) -> StoredRecording:
    return StoredRecording(
        id=row.id.hex, patient_id=row.patient_id, patient_caption=_caption(row),
        encounter_id=row.encounter_id, note_id=row.note_id,
        author_name=row.author_name or "", recorded_at=row.created_at,
        duration_ms=row.duration_ms or 0, size_bytes=row.size_bytes or 0,
        priority=row.priority, work_type=row.work_type, status=row.status)


def _check_target(recording_id: str, target: RecordingTarget) -> None:
    try:
        if uuid.UUID(recording_id).hex != recording_id:
            raise ValueError
    except ValueError:
        raise ValidationError("id", "A recording's id is 32 lowercase hex digits.") from None
    if target.priority not in PRIORITIES:
        raise ValidationError("priority", "The priority is routine, urgent or STAT.")
    if target.work_type not in WORK_TYPES:
        raise ValidationError("work_type", "The work type is a letter, a note or a report.")


class RecordingsService:
    """Implements ``RecordingsApi`` and the queue's ``Registrar``.

    Args:
        engine: PostgreSQL as the app's login (or a test's connection).
        objects: where the sealed recordings are.
        access: who is signed in here.
        publisher: where the chart's change events go.
        workstation_key: this workstation's key (dictation/keys.py); registering needs it
            (the row keeps a check that only this workstation's delivery can answer).
    """

    def __init__(self, engine: Engine | Connection, objects: ResumableObjectStore,
                 access: Access, *, publisher: ChangePublisher | None = None,
                 workstation_key: bytes | None = None) -> None:
        self.engine = engine
        self.workstation_key = workstation_key
        self.objects = objects
        self.access = access
        self.publisher = publisher or NullPublisher()

    @contextmanager
    def _work(self, actor: Actor) -> Iterator[Any]:
        try:
            with unit_of_work(self.engine, token=actor.token or None,
                              publisher=self.publisher) as uow:
                yield uow
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42501":
                raise PermissionDenied("The database refused this for your session: your "
                                       "role may not do it, or not for this patient.") from exc
            if getattr(exc.orig, "sqlstate", None) == "23503":
                raise ValidationError("patient_id", "That patient or visit does not exist."
                                      ) from exc
            raise

    # ------------------------------------------------------------------ registering

    def _insert(self, actor: Actor, recording_id: str, author_id: int,
                target: RecordingTarget) -> None:
        _check_target(recording_id, target)
        if self.workstation_key is None:
            raise RuntimeError("registering a recording needs the workstation key")
        try:
            with self._work(actor) as uow:
                uow.session.execute(_INSERT, {
                    "id": uuid.UUID(recording_id), "patient": target.patient_id,
                    "encounter": target.encounter_id, "note": target.note_id,
                    "author": author_id, "priority": target.priority,
                    "work_type": target.work_type,
                    "check": delivery_check(self.workstation_key, recording_id)})
                uow.commit()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != _UNIQUE:
                raise
            # Registered before (a retry): the id is made on this workstation, uuid4.

    def register(self, recording: LocalRecording) -> None:
        actor = self.access.require("recording.create", patient_id=recording.target.patient_id)
        if actor.user_id != recording.author_id:
            raise PermissionDenied("Only its author can file this recording.")
        self._insert(actor, recording.id, recording.author_id, recording.target)

    def register_job(self, job: Job) -> bool:
        actor = getattr(self.access, "actor", None)
        if not isinstance(actor, Actor) or actor.user_id != job.author_id \
                or not actor.can("recording.create") or not actor.token:
            return False
        target = RecordingTarget(patient_id=job.patient_id, patient_caption="",
                                 encounter_id=job.encounter_id, note_id=job.note_id,
                                 priority=job.priority, work_type=job.work_type)
        try:
            self._insert(actor, job.recording_id, job.author_id, target)
        except PermissionDenied:
            return False     # the session ended or locked meanwhile: the item waits
        return True

    def delivered(self, job: Job) -> None:
        """After step 5 committed: open charts of this patient show the recording."""
        self.publisher.publish([ChangeEvent(kind="chart", id=job.patient_id,
                                            action="recording", user_id=job.author_id)])

    # ------------------------------------------------------------------ reading

    def recordings(self, patient_id: int) -> tuple[StoredRecording, ...]:
        actor = self.access.require("recording.read", patient_id=patient_id)
        with self._work(actor) as uow:
            rows = uow.session.execute(text(
                _SELECT + " WHERE r.patient_id = :p AND r.status <> 'pending' "
                "ORDER BY r.created_at DESC, r.id"), {"p": patient_id}).all()
        return tuple(_stored(r) for r in rows)

    def worklist(self) -> tuple[StoredRecording, ...]:
        actor = self.access.require("recording.read")
        with self._work(actor) as uow:
            rows = uow.session.execute(text(
                _SELECT + " WHERE r.status = 'uploaded' "
                f"ORDER BY {_PRIORITY_ORDER}, r.created_at, r.id")).all()
        return tuple(_stored(r) for r in rows)

    def audio(self, recording_id: str) -> bytes:
        actor = self.access.require("recording.read")
        try:
            rid = uuid.UUID(recording_id)
        except ValueError:
            raise NotFound("That recording does not exist, or you may not hear it.") from None
        with self._work(actor) as uow:
            status, data_key = uow.session.execute(
                text("SELECT status, data_key FROM recording_data_key(:i)"), {"i": rid}).one()
            key = uow.session.execute(text("SELECT object_key FROM recordings WHERE id = :i"),
                                      {"i": rid}).scalar_one_or_none()
            # Committed whatever the answer: the play, or the refusal, is in the audit trail.
            uow.commit()
        if status == "signed_out":
            raise PermissionDenied(SIGNED_OUT)
        if status == "denied":
            raise PermissionDenied("Your role does not allow you to listen to recordings.")
        if status != "ok" or key is None:
            raise NotFound("That recording does not exist, or you may not hear it.")
        blob = self.objects.get(key)
        try:
            return open_object(bytes(data_key), rid.hex, blob)
        except ValueError:
            raise NotFound("The stored recording does not open: it is not the one filed "
                           "under this id.") from None


def build_recordings(backend: Backend, access: Access, publisher: ChangePublisher | None,
                     *, workstation_key: bytes) -> RecordingsService:
    """The recordings service as the composition root builds it (``workstation_key`` from
    dictation/keys.py, the same the upload queue gets)."""
    objects: Any = backend.objects
    return RecordingsService(backend.engine, objects, access, publisher=publisher,
                             workstation_key=workstation_key)


def build_upload_queue(backend: Backend, recordings: RecordingsService, *,
                       audio: Callable[[str, int], bytes], workstation_key: bytes,
                       discard: Callable[[str, int], None] | None = None,
                       keep_days: float = 0.0, data_dir: Path | None = None) -> UploadQueue:
    """The upload queue with its uploader, as the composition root builds it: ``audio``
    and ``discard`` are ``LocalDictations``'s, ``workstation_key`` from dictation/keys."""
    folder = Path(data_dir or backend.settings.data_dir)
    objects: Any = backend.objects
    uploader = Uploader(objects=objects, mongo_db=backend.mongo_db, engine=backend.engine,
                        audio=audio, workstation_key=workstation_key,
                        outbox=folder / "dictation" / "outbox", registrar=recordings,
                        discard=discard, delivered=recordings.delivered)
    return UploadQueue(folder, uploader, keep_days=keep_days)


def _is_recordings_api(service: RecordingsService) -> RecordingsApi:
    """mypy checks here that the service offers everything ``RecordingsApi`` names."""
    return service


def _is_upload_queue_api(queue: UploadQueue) -> Any:
    from backend_client.dictation.api import UploadQueueApi

    checked: UploadQueueApi = queue
    return checked

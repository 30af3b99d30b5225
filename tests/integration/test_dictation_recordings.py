"""Stored recordings as the chart and the transcription worklist see them: who may list and
play them (RBAC in the service and in the database), the worklist's order, audited playback."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend_client.dictation.dto import LocalRecording, RecordingTarget
from backend_client.dictation.queue import UploadQueue
from backend_client.dictation.service import RecordingsService
from backend_client.dictation.upload import Uploader
from backend_client.errors import NotFound, PermissionDenied, ValidationError
from backend_client.stores.objects import LocalObjectStore
from tests.integration.dictation_clinic import (  # noqa: F401 (a fixture)
    DictationClinic,
    dictation_clinic_fixture,
    opus,
)

AUDIO: dict[str, bytes] = {}
KEY = os.urandom(32)                  # this workstation's key


def deliver(c: DictationClinic, tmp: Path, store: LocalObjectStore,
            priorities: list[str]) -> list[str]:
    """Recordings by the doctor, delivered in this order; their ids (their audio: AUDIO)."""
    doctor = RecordingsService(c.backend.engine, store, c.access["doctor"], publisher=c.events,
                               workstation_key=KEY)
    audio = AUDIO
    uploader = Uploader(objects=store, mongo_db=c.backend.mongo_db, engine=c.backend.engine,
                        audio=lambda rid, _a: audio[rid], workstation_key=KEY,
                        outbox=tmp / "outbox", registrar=doctor)
    queue = UploadQueue(tmp, uploader)
    ids = []
    for n, priority in enumerate(priorities):
        rid = uuid.uuid4().hex
        audio[rid] = opus(1.0, freq=300 + 50 * n, seed=n)
        rec = LocalRecording(
            id=rid, author_id=c.users["doctor"],
            target=RecordingTarget(patient_id=c.patient, patient_caption="x",
                                   priority=priority, work_type="letter"),
            started_at=datetime(2026, 12, 3, 8, n, tzinfo=UTC), duration_ms=1000,
            size_bytes=1, state="stopped")
        doctor.register(rec)
        queue.enqueue(rec)
        item = queue.run_once()
        assert item is not None and item.state == "done"
        ids.append(rid)
    return ids


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


def service(c: DictationClinic, who: str, store: LocalObjectStore) -> RecordingsService:
    return RecordingsService(c.backend.engine, store, c.access[who], workstation_key=KEY)


def test_reception_may_neither_list_nor_play_nor_dictate(
        dictation_clinic: DictationClinic, store: LocalObjectStore, tmp_path: Path) -> None:
    c = dictation_clinic
    [rid] = deliver(c, tmp_path, store, ["routine"])
    reception = service(c, "reception", store)
    with pytest.raises(PermissionDenied, match="Your role does not allow you to"):
        reception.recordings(c.patient)
    with pytest.raises(PermissionDenied):
        reception.worklist()
    with pytest.raises(PermissionDenied):
        reception.audio(rid)
    rec = LocalRecording(id=uuid.uuid4().hex, author_id=c.users["reception"],
                         target=RecordingTarget(patient_id=c.patient, patient_caption=""),
                         started_at=datetime(2026, 12, 3, tzinfo=UTC), duration_ms=0,
                         size_bytes=0, state="stopped")
    with pytest.raises(PermissionDenied):
        reception.register(rec)


def test_the_transcriptionist_sees_stat_first_then_urgent_then_routine_oldest_first(
        dictation_clinic: DictationClinic, store: LocalObjectStore, tmp_path: Path) -> None:
    c = dictation_clinic
    ids = deliver(c, tmp_path, store, ["routine", "stat", "urgent", "routine", "stat"])
    mine = [r for r in service(c, "typist", store).worklist() if r.id in ids]
    assert [r.id for r in mine] == [ids[1], ids[4], ids[2], ids[0], ids[3]]
    assert [r.priority for r in mine] == ["stat", "stat", "urgent", "routine", "routine"]
    first = mine[0]
    assert first.patient_caption.startswith(f"Dict{c.tag}, Dicta · born 12 Mar 1968")
    assert (first.author_name, first.work_type, first.status, first.duration_ms) == (
        f"Doctor {c.tag}", "letter", "uploaded", 1000)
    # Played by the transcriptionist: the audio the doctor recorded.
    assert service(c, "typist", store).audio(ids[1]) == AUDIO[ids[1]]


def test_the_nurse_lists_a_patients_recordings_newest_first_and_pending_ones_not(
        dictation_clinic: DictationClinic, store: LocalObjectStore, tmp_path: Path) -> None:
    c = dictation_clinic
    ids = deliver(c, tmp_path, store, ["routine", "urgent"])
    doctor = service(c, "doctor", store)
    doctor.register(LocalRecording(          # stopped, not yet delivered
        id=uuid.uuid4().hex, author_id=c.users["doctor"],
        target=RecordingTarget(patient_id=c.patient, patient_caption=""),
        started_at=datetime(2026, 12, 3, tzinfo=UTC), duration_ms=0, size_bytes=0,
        state="stopped"))
    listed = service(c, "nurse", store).recordings(c.patient)
    assert [r.id for r in listed] == [ids[1], ids[0]]
    assert listed[0].recorded_at >= listed[1].recorded_at


def test_playback_is_audited_per_play_and_a_moved_object_does_not_open(
        dictation_clinic: DictationClinic, store: LocalObjectStore, tmp_path: Path) -> None:
    c = dictation_clinic
    a, b = deliver(c, tmp_path, store, ["routine", "routine"])
    nurse = service(c, "nurse", store)
    assert nurse.audio(a) == AUDIO[a]
    nurse.audio(a)
    plays = c.owner("SELECT user_id, workstation, patient_id FROM audit_events "
                    "WHERE action = 'recording.play' AND object_id = :i", i=a)
    assert plays == [(c.users["nurse"], "WS-nurse", c.patient)] * 2
    # Someone with the object store's keys puts b's object where a's was: it does not open.
    store.put(f"recordings/{a}.ogg.sealed", store.get(f"recordings/{b}.ogg.sealed"))
    with pytest.raises(NotFound, match="does not open"):
        nurse.audio(a)
    with pytest.raises(NotFound):
        nurse.audio(uuid.uuid4().hex)


def test_a_registration_names_a_known_priority_and_is_the_authors_own(
        dictation_clinic: DictationClinic, store: LocalObjectStore) -> None:
    c = dictation_clinic
    doctor = service(c, "doctor", store)

    def rec(author: str, priority: str = "stat") -> LocalRecording:
        return LocalRecording(
            id=uuid.uuid4().hex, author_id=c.users[author],
            target=RecordingTarget(patient_id=c.patient, patient_caption="",
                                   priority=priority),
            started_at=datetime(2026, 12, 3, tzinfo=UTC), duration_ms=0, size_bytes=0,
            state="stopped")

    with pytest.raises(ValidationError, match="routine, urgent or STAT"):
        doctor.register(rec("doctor", "asap"))
    with pytest.raises(PermissionDenied, match="Only its author"):
        doctor.register(rec("doctor2"))
    ok = rec("doctor")
    doctor.register(ok)
    doctor.register(ok)                      # idempotent
    assert c.owner("SELECT count(*), min(status), min(priority) FROM recordings "
                   "WHERE id = :i", i=uuid.UUID(ok.id)) == [(1, "pending", "stat")]

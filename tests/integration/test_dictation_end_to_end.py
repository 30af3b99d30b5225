"""A dictation end to end, as the app does it: the doctor speaks into a real (virtual)
microphone, stops, and the upload queue delivers it; what a colleague then plays from
object storage (sealed object, data key from PostgreSQL, audited) is what was said.

Threshold as in test_dictation_capture.py: normalised cross-correlation at the best lag
>= 0.9 with the speech played (measured 0.98-0.99 here: the delivery file is encoded once,
while recording), speech span within 2 %.
"""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import soundfile as sf
from sqlalchemy import text

from backend_client.dictation.capture import Recorder
from backend_client.dictation.dto import RecordingTarget
from backend_client.dictation.local_store import LocalDictationStore
from backend_client.dictation.queue import UploadQueue
from backend_client.dictation.service import RecordingsService
from backend_client.dictation.upload import Uploader, object_key
from backend_client.stores.objects import S3ObjectStore
from backend_client.stores.objects.s3 import build_s3_client
from tests.audio_support import (  # noqa: F401 - fixtures
    SETTLE,
    PulseServer,
    best_match,
    read_wav,
    speech,
    speech_span,
    virtual_mic,
)
from tests.integration.dictation_clinic import (  # noqa: F401 - a fixture
    DictationClinic,
    dictation_clinic_fixture,
)

KEY = bytes(range(32, 64))


def test_spoken_stopped_delivered_and_played_back_by_a_colleague(
        virtual_mic: PulseServer, speech: dict[str, Path],  # noqa: F811
        dictation_clinic: DictationClinic, s3_endpoint: str, tmp_path: Path) -> None:
    c = dictation_clinic
    client = build_s3_client(s3_endpoint, region="us-east-1", access_key_id="testing",
                             secret_access_key="testing", timeout_seconds=2.0)
    objects = S3ObjectStore(client, f"e2e-{uuid.uuid4().hex[:12]}")
    objects.ensure_bucket()
    store = LocalDictationStore(tmp_path, key=KEY)
    recorder = Recorder(store)
    doctor = c.users["doctor"]
    recorder.new(doctor, RecordingTarget(c.patient, "Dicta, Pat", priority="urgent",
                                         work_type="letter"))
    recorder.record()
    time.sleep(SETTLE)
    virtual_mic.play(speech["a"])
    time.sleep(0.25)
    local = recorder.stop()

    # What the presenter does at stop, and what the upload worker does on its pool.
    service = RecordingsService(c.backend.engine, objects, c.access["doctor"],
                                publisher=c.events, workstation_key=KEY)
    service.register(local)
    uploader = Uploader(objects=objects, mongo_db=c.backend.mongo_db,
                        engine=c.backend.engine, audio=store.audio, workstation_key=KEY,
                        outbox=tmp_path / "dictation" / "outbox", registrar=service,
                        discard=lambda rid, _author: store.remove(rid),
                        delivered=service.delivered)
    queue = UploadQueue(tmp_path, uploader)
    queue.enqueue(local)
    item = queue.run_once()
    assert item is not None and item.state == "done", item

    # Only the sealed object left the workstation; the local copy is gone.
    sealed = objects.get(object_key(local.id))
    assert b"OggS" not in sealed[:64] and store.recordings(doctor) == ()
    # A nurse lists it in the chart and plays it; the play is audited as hers.
    nurse = RecordingsService(c.backend.engine, objects, c.access["nurse"],
                              publisher=c.events, workstation_key=KEY)
    (listed,) = [r for r in nurse.recordings(c.patient) if r.id == local.id]
    assert (listed.priority, listed.work_type) == ("urgent", "letter")
    audio, rate = sf.read(io.BytesIO(nurse.audio(local.id)), dtype="int16")
    assert rate == 16_000
    assert abs(len(audio) * 1000 // rate - listed.duration_ms) <= 20
    played = read_wav(speech["a"])
    lag, ncc = best_match(audio, played)
    print(f"spoken → S3 → played back: correlation {ncc:.4f} at lag {lag} frames")
    assert ncc >= 0.9
    said, heard = speech_span(played), speech_span(audio)
    assert abs(heard - said) <= 0.02 * said, (heard, said)
    plays = c.owner("SELECT object_id FROM audit_events WHERE action = 'recording.play' "
                    "AND user_id = :u", u=c.users["nurse"])
    assert [p[0] for p in plays] == [local.id]
    with c.backend.owner_engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM recordings WHERE id = :i"),
                              {"i": uuid.UUID(local.id)}).scalar_one()
    assert status == "uploaded"

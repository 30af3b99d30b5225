"""What the dictation delivery benchmarks share: the embedded stack (PostgreSQL, MongoDB),
a moto S3 server of their own on loopback, a signed-in doctor, a patient, real OGG/Opus
audio, and the queue with its uploader as the app builds them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from backend_client.accounts.access import SystemAccess
from backend_client.accounts.service import AccountService
from backend_client.accounts.signin import build_session_services
from backend_client.backend import Backend, open_backend
from backend_client.config import load_settings
from backend_client.dictation.dto import LocalRecording, RecordingTarget
from backend_client.dictation.queue import UploadQueue
from backend_client.dictation.service import RecordingsService
from backend_client.dictation.upload import Uploader
from backend_client.dto import PatientDraft
from backend_client.local_stack.process import free_port, port_answers, wait_for
from backend_client.patients.service import PatientService
from backend_client.schema import migrate
from backend_client.stores.objects import S3ObjectStore
from backend_client.stores.objects.s3 import build_s3_client

PASSWORD = "benchmark dictation lantern 12"


def speechlike(seconds: float, seed: int = 0) -> bytes:
    """OGG/Opus of a signal with speech's rhythm (bursts of voiced tone and noise, pauses),
    16 kHz mono, as capture writes it."""
    rate = 16_000
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = (np.sin(2 * np.pi * 3.0 * t) > -0.2).astype(np.float32)
    voice = 0.25 * np.sin(2 * np.pi * (140 + 40 * np.sin(2 * np.pi * 0.5 * t)) * t)
    signal = (envelope * (voice + rng.normal(0, 0.05, t.size))).astype(np.float32)
    out = io.BytesIO()
    sf.write(out, signal, rate, format="OGG", subtype="OPUS")
    return out.getvalue()


@dataclass
class Bench:
    backend: Backend
    s3: S3ObjectStore
    endpoint: str
    recordings: RecordingsService
    doctor: int
    patient: int
    tmp: Path
    audio: dict[str, bytes]
    key: bytes

    def queue(self, objects: Any = None, **uploader: Any) -> UploadQueue:
        up = Uploader(objects=objects or self.s3, mongo_db=self.backend.mongo_db,
                      engine=self.backend.engine, audio=lambda rid, _a: self.audio[rid],
                      workstation_key=self.key, outbox=self.tmp / "dictation" / "outbox",
                      registrar=self.recordings, delivered=self.recordings.delivered,
                      **uploader)
        return UploadQueue(self.tmp, up)

    def stop(self, ogg: bytes) -> LocalRecording:
        rid = uuid.uuid4().hex
        self.audio[rid] = ogg
        rec = LocalRecording(
            id=rid, author_id=self.doctor,
            target=RecordingTarget(patient_id=self.patient, patient_caption="Bench",
                                   priority="routine", work_type="letter"),
            started_at=datetime.now(UTC), duration_ms=0, size_bytes=len(ogg),
            state="stopped")
        self.recordings.register(rec)
        return rec


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (BACKENDS.md's openssl recipe): the
    server's and the client's CA both."""
    cert, key = folder / "s3.crt", folder / "s3.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@contextmanager
def bench_stack(name: str, *, tls: bool = False) -> Iterator[Bench]:
    """``tls``: moto over https, as a clinic's S3 is reached (the app's clients check its
    certificate against the one made here)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        port = free_port()
        log = Path(tmp) / "moto.log"
        cert, key = _certificate(Path(tmp)) if tls else (None, None)
        serve = ["--ssl-cert", str(cert), "--ssl-key", str(key)] if tls else []
        with log.open("wb") as out:
            moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port),
                 *serve], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        backend = open_backend(load_settings(data_dir=Path(tmp) / "data"))
        try:
            assert wait_for(lambda: port_answers(port), 30), log.read_text()[-2000:]
            endpoint = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
            client = build_s3_client(endpoint, region="us-east-1", access_key_id="bench",
                                     secret_access_key="bench", ca_file=cert)
            bodies = build_s3_client(endpoint, region="us-east-1", access_key_id="bench",
                                     secret_access_key="bench", ca_file=cert,
                                     sign_bodies=False)
            s3 = S3ObjectStore(client, "bench-dictation", bodies=bodies)
            s3.ensure_bucket()
            migrate(backend)
            AccountService(backend.owner_engine).add_user("benchdoc", "Bench Doctor",
                                                          PASSWORD, ["doctor"])
            desk = build_session_services(backend.engine, backend.mongo_db,
                                          workstation="bench-dictation")
            desk.signin.sign_in("benchdoc", PASSWORD)
            actor = desk.access.actor
            assert actor is not None and actor.user_id is not None
            patient = PatientService(backend.owner_engine, SystemAccess("bench")).register(
                PatientDraft(given_name="Bench", family_name="Dictation",
                             birth_date=date(1960, 1, 2), sex="female")).id
            key = os.urandom(32)
            yield Bench(backend, s3, endpoint,
                        RecordingsService(backend.engine, s3, desk.access, workstation_key=key),
                        actor.user_id, patient, Path(tmp), {}, key)
        finally:
            backend.close(stop_stack=True)
            moto.terminate()
            moto.wait(10)

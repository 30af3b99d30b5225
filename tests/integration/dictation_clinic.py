"""A small clinic for the dictation tests, committed through the real stores (delivery
writes S3, MongoDB and PostgreSQL, which no outer transaction can roll back together): a
doctor, a second doctor, a nurse, a receptionist and a transcriptionist, each signed in with
a live session, and a patient. Removed afterwards by the owners."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import Connection, text

from backend_client.accounts.access import SessionAccess, SystemAccess
from backend_client.backend import Backend
from backend_client.dto import PatientDraft
from backend_client.patients.service import PatientService
from backend_client.sync.events import ChangeEvent
from tests.integration.conftest import add_user, signed_in

ROLES = {"doctor": ("doctor",), "doctor2": ("doctor",), "nurse": ("nurse",),
         "reception": ("receptionist",), "typist": ("transcriptionist",)}


class Events:
    def __init__(self) -> None:
        self.seen: list[ChangeEvent] = []

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        self.seen.extend(events)


def opus(seconds: float, *, freq: float = 440.0, seed: int = 0) -> bytes:
    """A real OGG/Opus file of a synthetic signal (a tone with a little noise), 16 kHz mono,
    as the capture side makes them."""
    rate = 16_000
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).normal(0, 0.02, t.size)
    signal = (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)
    out = io.BytesIO()
    sf.write(out, signal, rate, format="OGG", subtype="OPUS")
    return out.getvalue()


@dataclass
class DictationClinic:
    backend: Backend
    users: dict[str, int]
    access: dict[str, SessionAccess]
    patient: int
    events: Events
    tag: str

    def token(self, who: str) -> str:
        actor = self.access[who].actor
        assert actor is not None and actor.token
        return actor.token

    def owner(self, sql: str, **params: Any) -> Any:
        with self.backend.owner_engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return result.all() if result.returns_rows else None

    @contextmanager
    def app(self, who: str | None) -> Iterator[Connection]:
        """The app's own login (what every workstation holds), naming ``who``'s session
        (None: no session), in a transaction that is rolled back."""
        with self.backend.engine.connect() as conn:
            if who is not None:
                conn.execute(text("SELECT set_config('dra.token', :t, true)"),
                             {"t": self.token(who)})
            try:
                yield conn
            finally:
                conn.rollback()

    def new_patient(self, family: str = "") -> int:
        operator = PatientService(self.backend.owner_engine, SystemAccess("ws-setup"))
        return operator.register(PatientDraft(
            given_name="Dicta", family_name=family or f"Pat{uuid.uuid4().hex[:6]}",
            birth_date=date(1968, 3, 12), sex="female"), allow_duplicates=True).id


@pytest.fixture(name="dictation_clinic")
def dictation_clinic_fixture(backend: Backend) -> Iterator[DictationClinic]:
    tag = uuid.uuid4().hex[:8]
    users = {name: add_user(backend.owner_engine, roles, display_name=f"{name.title()} {tag}",
                            username=f"{name}{tag}")
             for name, roles in ROLES.items()}
    access = {name: signed_in(backend, backend.owner_engine, uid, workstation=f"WS-{name}")
              for name, uid in users.items()}
    c = DictationClinic(backend, users, access, 0, Events(), tag)
    c.patient = c.new_patient(f"Dict{tag}")
    yield c
    ids = [r[0] for r in c.owner("SELECT id FROM recordings WHERE author_id = ANY(:u)",
                                 u=list(users.values()))]
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM recordings WHERE author_id = ANY(:u)"),
                     {"u": list(users.values())})
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"),
                     {"u": list(users.values())})
    backend.owner_mongo_db["recording_meta"].delete_many(
        {"_id": {"$in": [i.hex for i in ids]}})

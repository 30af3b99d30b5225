"""A small clinic for the notes tests, committed through the real stores (the notes service
writes MongoDB and PostgreSQL, which no outer transaction can roll back together): a doctor,
a second doctor, a resident, a nurse and a receptionist, each signed in with a live session,
and a patient with an allergy on file. Removed afterwards by the owners."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from backend_client.accounts.access import SessionAccess, SystemAccess
from backend_client.backend import Backend
from backend_client.dto import PatientDraft
from backend_client.notes.service import NotesService
from backend_client.notes.templates import TemplateLibrary, default_templates_dir
from backend_client.patients.service import PatientService
from backend_client.sync.events import ChangeEvent
from tests.integration.conftest import add_user, signed_in

ROLES = {"doctor": ("doctor",), "doctor2": ("doctor",), "resident": ("resident",),
         "nurse": ("nurse",), "reception": ("receptionist",)}


class Events:
    def __init__(self) -> None:
        self.seen: list[ChangeEvent] = []

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        self.seen.extend(events)


@dataclass
class NotesClinic:
    backend: Backend
    users: dict[str, int]
    access: dict[str, SessionAccess]
    patient: int
    events: Events
    tag: str

    def service(self, who: str) -> NotesService:
        return NotesService(self.backend.engine, self.backend.mongo_db, self.access[who],
                            templates=TemplateLibrary(),
                            expanders=default_templates_dir().parent / "text_expanders.json",
                            publisher=self.events)

    def owner(self, sql: str, **params: Any) -> Any:
        with self.backend.owner_engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return result.all() if result.returns_rows else None

    def new_patient(self, family: str = "") -> int:
        operator = PatientService(self.backend.owner_engine, SystemAccess("ws-setup"))
        return operator.register(PatientDraft(
            given_name="Note", family_name=family or f"Pat{uuid.uuid4().hex[:6]}",
            birth_date=date(1970, 5, 6), sex="female"), allow_duplicates=True).id


def new_id() -> str:
    return uuid.uuid4().hex


@pytest.fixture(name="notes_clinic")
def notes_clinic_fixture(backend: Backend) -> Iterator[NotesClinic]:
    tag = uuid.uuid4().hex[:8]
    users = {name: add_user(backend.owner_engine, roles, display_name=f"{name.title()} {tag}",
                            username=f"{name}{tag}")
             for name, roles in ROLES.items()}
    access = {name: signed_in(backend, backend.owner_engine, uid, workstation=f"WS-{name}")
              for name, uid in users.items()}
    c = NotesClinic(backend, users, access, 0, Events(), tag)
    c.patient = c.new_patient(f"Notes{tag}")
    c.owner("INSERT INTO alerts (patient_id, kind, severity, description, reaction) "
            "VALUES (:p, 'allergy', 'high', 'Penicillin', 'rash')", p=c.patient)
    yield c
    patients = [r[0] for r in c.owner(
        "SELECT DISTINCT patient_id FROM documents WHERE created_by = ANY(:u) "
        "OR author_id = ANY(:u)", u=list(users.values()))] + [c.patient]
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM documents WHERE patient_id = ANY(:p) "
                          "AND addendum_of IS NOT NULL"), {"p": patients})
        conn.execute(text("DELETE FROM documents WHERE patient_id = ANY(:p)"),
                     {"p": patients})
        for table in ("medications", "problems"):
            conn.execute(text(f"DELETE FROM {table} WHERE patient_id = ANY(:p)"),
                         {"p": patients})
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"),
                     {"u": list(users.values())})
    owner_db = backend.owner_mongo_db
    owner_db["note_revisions"].delete_many({"patient_id": {"$in": patients}})
    owner_db["note_autosaves"].delete_many({"author_id": {"$in": list(users.values())}})
    owner_db["text_expanders"].delete_many({"user_id": {"$in": list(users.values())}})

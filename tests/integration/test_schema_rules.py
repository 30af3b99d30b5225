"""Rules the database itself enforces, whatever the application does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from backend_client.backend import Backend


@pytest.fixture
def provider_and_patient(db: Connection) -> tuple[int, int, int]:
    prov = [db.execute(text(
        "INSERT INTO providers (given_name, family_name, specialty) "
        "VALUES (:g, 'Rivera', 'Family medicine') RETURNING id"), {"g": g}).scalar_one()
        for g in ("Ana", "Ben")]
    pat = db.execute(text(
        "INSERT INTO patients (given_name, family_name, birth_date, sex) "
        "VALUES ('Test', 'Patient', '1980-01-01', 'unknown') RETURNING id")).scalar_one()
    return prov[0], prov[1], pat


def book(db: Connection, provider: int, patient: int, start: datetime, minutes: int,
         status: str = "booked") -> None:
    with db.begin_nested():
        db.execute(text(
            "INSERT INTO appointments (provider_id, patient_id, starts_at, ends_at, status) "
            "VALUES (:pr, :pa, :s, :e, :st)"),
            {"pr": provider, "pa": patient, "s": start, "e": start + timedelta(minutes=minutes),
             "st": status})


T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_one_provider_cannot_be_double_booked(db: Connection,
                                              provider_and_patient: tuple[int, int, int]) -> None:
    ana, ben, patient = provider_and_patient
    book(db, ana, patient, T0, 15)
    with pytest.raises(IntegrityError, match="ex_appointments_provider_overlap"):
        book(db, ana, patient, T0 + timedelta(minutes=10), 15)
    book(db, ana, patient, T0 + timedelta(minutes=15), 15)  # back to back is fine
    book(db, ben, patient, T0, 15)                           # another provider is fine
    book(db, ana, patient, T0 + timedelta(minutes=5), 5, status="cancelled")


def test_appointment_must_end_after_it_starts(db: Connection,
                                              provider_and_patient: tuple[int, int, int]) -> None:
    ana, _, patient = provider_and_patient
    with pytest.raises(IntegrityError, match="ends_after_start"):
        book(db, ana, patient, T0, 0)


@pytest.mark.parametrize(("column", "value", "constraint"), [
    ("sex", "'x'", "sex_known"),
    ("birth_date", "'1700-01-01'", "birth_date_plausible"),
    ("given_name", "'  '", "names_present"),
])
def test_patient_checks(db: Connection, column: str, value: str, constraint: str) -> None:
    cols = {"given_name": "'A'", "family_name": "'B'", "birth_date": "'1980-01-01'",
            "sex": "'unknown'"}
    cols[column] = value
    with pytest.raises(IntegrityError, match=constraint), db.begin_nested():
        db.execute(text(f"INSERT INTO patients ({', '.join(cols)}) "
                        f"VALUES ({', '.join(cols.values())})"))


def test_audit_events_are_append_only(backend: Backend) -> None:
    """Even for the owner, who holds every grant (the app's own login is stopped before the
    triggers, by its grants: test_app_role.py)."""
    with backend.owner_engine.connect() as db:
        db.begin()
        eid = db.execute(text("INSERT INTO audit_events (action) VALUES ('chart.open') "
                              "RETURNING id")).scalar_one()
        for sql in ("UPDATE audit_events SET action = 'x' WHERE id = :id",
                    "DELETE FROM audit_events WHERE id = :id", "TRUNCATE audit_events"):
            with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
                db.execute(text(sql), {"id": eid})
        db.rollback()


def test_clinical_rows_carry_who_when_and_version(db: Connection) -> None:
    cols = {r[0] for r in db.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'prescriptions'"))}
    assert {"created_at", "created_by", "updated_at", "updated_by", "version"} <= cols
    types = dict(db.execute(text(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'appointments'")).all())
    assert types["starts_at"] == "timestamp with time zone"


def test_prescription_needs_a_signature_unless_draft(
        db: Connection, provider_and_patient: tuple[int, int, int]) -> None:
    ana, _, patient = provider_and_patient
    with pytest.raises(IntegrityError, match="signed_unless_draft"), db.begin_nested():
        db.execute(text(
            "INSERT INTO prescriptions (patient_id, prescriber_id, medication, dose, frequency,"
            " starts_on, status) VALUES (:p, :pr, 'Amoxicillin', '500 mg', 'tds', :d, 'active')"),
            {"p": patient, "pr": ana, "d": date(2026, 12, 1)})

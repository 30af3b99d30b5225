"""A name with a year of birth ("anna 1984") is answered from the name index by year
(migration 0017): the year there is always the patient's own, after a correction of the
birth date through the app, after one made straight in the database, and for the patients
a database held before the migration (real PostgreSQL)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, text

from backend_client.accounts.access import SystemAccess
from backend_client.backend import Backend
from backend_client.dto import PatientDraft
from backend_client.patients.service import PatientService
from backend_client.stores.postgres import migrate
from tests.integration.conftest import scratch_database


@pytest.fixture
def desk(backend: Backend) -> Iterator[tuple[PatientService, str]]:
    """The service as the setup operator, and a family name nobody else has."""
    family = "Yr" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])
    yield PatientService(backend.owner_engine, SystemAccess("ws-years")), family
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM patients WHERE family_name = :f"), {"f": family})


def _found(service: PatientService, query: str) -> list[int]:
    return [p.id for p in service.search(query, limit=50).items]


def test_a_corrected_birth_date_moves_the_patient_to_the_new_year(
        desk: tuple[PatientService, str]) -> None:
    service, family = desk
    draft = PatientDraft(given_name="Odile", family_name=family, birth_date=date(1961, 5, 1),
                         sex="female")
    pid = service.register(draft).id
    assert _found(service, f"{family} 1961") == [pid]
    assert _found(service, f"{family} 1962") == []
    record = service.get(pid)
    service.update(pid, record.version, dataclasses.replace(draft, birth_date=date(1962, 5, 1)))
    assert _found(service, f"{family} 1962") == [pid]
    assert _found(service, f"{family} 1961") == []
    # The year keeps the other words narrowing too ("odile <family> 1962"), whatever the
    # word's order.
    assert _found(service, f"odile {family} 1962") == [pid]
    assert _found(service, f"1962 {family[:4]} odi") == [pid]


def test_a_birth_date_changed_in_the_database_itself_is_followed(
        backend: Backend, desk: tuple[PatientService, str]) -> None:
    # An administrator's correction straight in the database (or a merge tool) never went
    # through the app; the index follows all the same.
    service, family = desk
    pid = service.register(PatientDraft(given_name="Bruno", family_name=family,
                                        birth_date=date(1999, 12, 31), sex="male")).id
    with backend.owner_engine.begin() as conn:
        conn.execute(text("UPDATE patients SET birth_date = '2000-01-01' WHERE id = :p"),
                     {"p": pid})
    assert _found(service, f"bruno {family} 2000") == [pid]
    assert _found(service, f"{family} 1999") == []
    assert _found(service, family) == [pid]   # and by name alone, as before


@pytest.fixture
def db_at_0016(backend: Backend) -> Iterator[Engine]:
    with scratch_database(backend, "mig17", "0016") as engine:
        yield engine


def test_upgrade_gives_every_existing_term_its_patients_year(db_at_0016: Engine) -> None:
    with db_at_0016.begin() as c:
        born = {"Ada": date(1935, 12, 10), "Grace": date(1906, 12, 9)}
        ids = {}
        for given, birth in born.items():
            ids[given] = c.execute(text(
                "INSERT INTO patients (given_name, family_name, birth_date, sex, sort_name) "
                "VALUES (:g, 'Lovelace', :b, 'unknown', 'x') RETURNING id"),
                {"g": given, "b": birth}).scalar_one()
            c.execute(text("INSERT INTO patient_name_terms (term, sort_name, patient_id, "
                           "source) VALUES (:t, 'x', :p, 1), ('lovelace', 'x', :p, 2)"),
                      {"t": given.lower(), "p": ids[given]})
    migrate.upgrade(db_at_0016)
    with db_at_0016.connect() as c:
        years = dict(c.execute(text(
            "SELECT p.given_name, array_agg(DISTINCT t.birth_year) FROM patient_name_terms t "
            "JOIN patients p ON p.id = t.patient_id GROUP BY p.given_name")).all())
    assert years == {"Ada": [1935], "Grace": [1906]}
    migrate.downgrade(db_at_0016, "0016")
    with db_at_0016.connect() as c:
        assert c.execute(text("SELECT count(*) FROM information_schema.columns WHERE "
                              "table_name = 'patient_name_terms' AND column_name = "
                              "'birth_year'")).scalar_one() == 0

"""The chart's lists against someone holding what a workstation holds (the app's PostgreSQL
login) and a live session's token: straight SQL, no service code. Every attempt must fail,
or be stamped and audited as the session's person with the database's clock and version
(migration 0010)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from backend_client.backend import Backend
from tests.integration.test_chart import Clinic, make_clinic


@pytest.fixture
def clinic(backend: Backend) -> Iterator[Clinic]:
    c = make_clinic(backend)
    c.owner("INSERT INTO problems (patient_id, description) VALUES (:p, 'Ordinary problem')",
            p=c.patient)
    c.owner("INSERT INTO problems (patient_id, description) VALUES (:p, 'Private problem')",
            p=c.restricted)
    c.owner("INSERT INTO medications (patient_id, name, dose) VALUES (:p, 'Lithium', "
            "'400 mg')", p=c.restricted)
    yield c
    c.owner("DELETE FROM app_sessions WHERE user_id = ANY(:u)", u=list(c.uids.values()))


def _as(c: Clinic, role: str | None) -> Connection:
    """The app's login; ``role``: whose session's token is named for the whole
    connection (what a tampered workstation would do), None for none."""
    conn = c.backend.engine.connect()
    if role is not None:
        token = c.access[role].actor.token  # type: ignore[union-attr]
        conn.execute(text("SELECT set_config('dra.token', :t, false)"), {"t": token})
        conn.commit()
    return conn


@pytest.fixture
def as_role(clinic: Clinic) -> Iterator[Any]:
    opened: list[Connection] = []

    def make(role: str | None) -> Connection:
        conn = _as(clinic, role)
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        # Not back to the pool with a session named for the whole connection (see
        # conftest.tampered).
        conn.invalidate()
        conn.close()


def _refused(conn: Connection, sql: str, **params: Any) -> str:
    with pytest.raises(DBAPIError) as exc:
        conn.execute(text(sql), params)
    conn.rollback()
    return str(exc.value.orig)


@pytest.mark.parametrize("sql", [
    "DELETE FROM problems", "DELETE FROM medications", "TRUNCATE problems",
    "TRUNCATE medications CASCADE",
])
def test_not_even_a_doctors_session_deletes_a_list_entry(clinic: Clinic, as_role: Any,
                                                         sql: str) -> None:
    assert "permission denied" in _refused(as_role("doctor"), sql)
    assert clinic.owner("SELECT count(*) FROM problems WHERE patient_id = :p",
                        p=clinic.patient)[0][0] == 1


@pytest.mark.parametrize("role", [None, "receptionist"])
@pytest.mark.parametrize("table", ["problems", "medications"])
def test_without_a_clinical_session_nothing_is_read_or_written(clinic: Clinic, as_role: Any,
                                                               role: str | None,
                                                               table: str) -> None:
    conn = as_role(role)
    assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0  # noqa: S608
    column = "description" if table == "problems" else "name"
    reason = _refused(conn, f"INSERT INTO {table} (patient_id, {column}) "  # noqa: S608
                            "VALUES (:p, 'Planted')", p=clinic.patient)
    # No session: the stamping trigger finds nobody to attribute it to; reception's
    # session: row security refuses the row.
    assert ("no signed-in session" if role is None else "row-level security") in reason
    conn.execute(text(f"UPDATE {table} SET comment = 'x'"))  # noqa: S608
    conn.commit()
    assert clinic.owner(f"SELECT count(*) FROM {table} WHERE comment = 'x'")[0][0] == 0  # noqa: S608


def test_a_nurse_writes_the_lists_but_not_what_another_permission_guards(
        clinic: Clinic, as_role: Any) -> None:
    """A nurse writes the lists but places no orders and writes no prescriptions."""
    conn = as_role("nurse")
    reason = _refused(conn, "INSERT INTO orders (patient_id, ordered_by, kind, description) "
                            "VALUES (:p, :pr, 'lab', 'Full blood count')",
                      p=clinic.patient, pr=clinic.provider)
    assert "row-level security" in reason
    reason = _refused(conn, "INSERT INTO prescriptions (patient_id, prescriber_id, "
                            "medication, dose, frequency, starts_on) VALUES (:p, :pr, "
                            "'Morphine', '10 mg', 'every 4 hours', current_date)",
                      p=clinic.patient, pr=clinic.provider)
    assert "row-level security" in reason


def test_who_when_and_versions_cannot_be_forged(clinic: Clinic, as_role: Any) -> None:
    c = clinic
    conn = as_role("doctor")
    new_id = conn.execute(text(
        "INSERT INTO problems (patient_id, description, created_by, updated_by, version, "
        "created_at, updated_at) VALUES (:p, 'Asthma', :n, :n, 99, "
        "'2001-01-01', '2001-01-01') RETURNING id"),
        {"p": c.patient, "n": c.uids["nurse"]}).scalar_one()
    conn.commit()
    row = c.owner("SELECT created_by, updated_by, version, created_at > now() - interval "
                  "'1 hour' FROM problems WHERE id = :i", i=new_id)[0]
    assert tuple(row) == (c.uids["doctor"], c.uids["doctor"], 1, True)
    for forged in (1000, 0, 1):
        conn.execute(text("UPDATE problems SET version = :v, updated_by = :n, comment = :c, "
                          "created_by = :n WHERE id = :i"),
                     {"v": forged, "n": c.uids["nurse"], "c": f"v{forged}", "i": new_id})
        conn.commit()
    row = c.owner("SELECT created_by, updated_by, version FROM problems WHERE id = :i",
                  i=new_id)[0]
    assert tuple(row) == (c.uids["doctor"], c.uids["doctor"], 4)
    audited = c.owner("SELECT action, user_id FROM audit_events WHERE object_type = "
                      "'problems' AND object_id = :i ORDER BY id", i=str(new_id))
    assert [tuple(r) for r in audited] == ([("row.insert", c.uids["doctor"])]
                                           + [("row.update", c.uids["doctor"])] * 3)


def test_a_retired_entry_stays_retired_and_stays_with_its_patient(clinic: Clinic,
                                                                  as_role: Any) -> None:
    c = clinic
    conn = as_role("doctor")
    pid = conn.execute(text("SELECT id FROM problems WHERE patient_id = :p"),
                       {"p": c.patient}).scalar_one()
    assert 'constraint "ck_problems_retired_needs_reason"' in _refused(
        conn, "UPDATE problems SET status = 'retired' WHERE id = :i", i=pid)
    assert "stays with its patient" in _refused(
        conn, "UPDATE problems SET patient_id = :o WHERE id = :i", o=c.restricted, i=pid)
    conn.execute(text("UPDATE problems SET status = 'retired', retired_reason = 'Wrong chart' "
                      "WHERE id = :i"), {"i": pid})
    conn.commit()
    assert "retired entry cannot be changed" in _refused(
        conn, "UPDATE problems SET status = 'active', retired_reason = '' WHERE id = :i",
        i=pid)


def test_a_restricted_patients_list_is_invisible_and_unwritable(clinic: Clinic,
                                                                 as_role: Any) -> None:
    c = clinic
    conn = as_role("doctor")
    for table in ("problems", "medications"):
        assert conn.execute(text(f"SELECT count(*) FROM {table} "  # noqa: S608
                                 "WHERE patient_id = :p"), {"p": c.restricted}).scalar_one() == 0
    assert "row-level security" in _refused(
        conn, "INSERT INTO problems (patient_id, description) VALUES (:p, 'Planted')",
        p=c.restricted)
    conn.execute(text("UPDATE medications SET dose = '4000 mg' WHERE patient_id = :p"),
                 {"p": c.restricted})
    conn.commit()
    assert c.owner("SELECT dose FROM medications WHERE patient_id = :p",
                   p=c.restricted)[0][0] == "400 mg"
    # The ordinary patient's list is the doctor's to read.
    assert conn.execute(text("SELECT description FROM problems WHERE patient_id = :p"),
                        {"p": c.patient}).scalar_one() == "Ordinary problem"


def test_an_encounter_closes_only_with_a_summary_at_the_databases_time(
        clinic: Clinic, as_role: Any) -> None:
    c = clinic
    conn = as_role("doctor")
    enc = conn.execute(text(
        "INSERT INTO encounters (patient_id, provider_id, started_at, status, ended_at) "
        "VALUES (:p, :pr, '2001-01-01', 'open', '2001-01-02') RETURNING id"),
        {"p": c.patient, "pr": c.provider}).scalar_one()
    conn.commit()
    assert 'constraint "ck_encounters_closed_has_summary"' in _refused(
        conn, "UPDATE encounters SET status = 'closed' WHERE id = :i", i=enc)
    conn.execute(text("UPDATE encounters SET status = 'closed', summary = 'Seen.', "
                      "ended_at = '2001-01-03' WHERE id = :i"), {"i": enc})
    conn.commit()
    row = c.owner("SELECT started_at > now() - interval '1 hour', ended_at >= started_at, "
                  "ended_at > now() - interval '1 hour' FROM encounters WHERE id = :i", i=enc)
    assert tuple(row[0]) == (True, True, True)
    assert "cannot become open" in _refused(
        conn, "UPDATE encounters SET status = 'open' WHERE id = :i", i=enc)

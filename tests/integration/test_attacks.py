"""The attack suite: someone with everything a clinic workstation holds (the app's logins to
PostgreSQL, MongoDB and Redis, as in its configuration) and a receptionist's live session
(her bearer token, from her own desk's memory) tries what the issue found possible. Every
attempt must fail, or, where the receptionist may do the thing, be attributed to her and
audited by the database. Real servers; nothing here goes through the app's Python code
except to set the scene.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from bson.binary import Binary
from pymongo import MongoClient
from pymongo.errors import OperationFailure, WriteError
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from backend_client.accounts.access import SystemAccess
from backend_client.accounts.service import AccountService
from backend_client.accounts.sessions import SessionStore
from backend_client.backend import Backend
from backend_client.drafts.store import DraftStore
from backend_client.dto import APPOINTMENT_TRANSITIONS, Actor, PatientDraft
from backend_client.local_stack import StackEndpoints
from backend_client.patients.service import PatientService
from tests.integration.conftest import FAST, tampered

PASSWORD = "attack surface lantern 31"


@dataclass
class Clinic:
    backend: Backend
    reception: Actor
    doctor: Actor
    admin_id: int
    patient: int          # an ordinary record, with an allergy on file
    restricted: int       # a restricted record
    tag: str

    def owner(self, sql: str, **params: Any) -> Any:
        with self.backend.owner_engine.begin() as conn:
            return conn.execute(text(sql), params).all()


def _sign_in(backend: Backend, username: str) -> Actor:
    store = SessionStore(backend.engine)
    outcome = store.sign_in(username, store.keys_for(username, PASSWORD), f"DESK-{username}")
    assert outcome.actor is not None
    return outcome.actor


@pytest.fixture
def clinic(backend: Backend) -> Iterator[Clinic]:
    tag = uuid.uuid4().hex[:8]
    accounts = AccountService(backend.owner_engine, hashing=FAST)
    ids = {role: accounts.add_user(f"{role[:5]}{tag}", f"{role.title()} {tag}", PASSWORD,
                                   [role]).id
           for role in ("receptionist", "doctor", "admin")}
    operator = PatientService(backend.owner_engine, SystemAccess("ws-setup"))
    patient = operator.register(PatientDraft(given_name="Ordinary", family_name=f"Att{tag}",
                                             birth_date=date(1971, 3, 4), sex="female"))
    restricted = operator.register(PatientDraft(given_name="Private", family_name=f"Att{tag}",
                                                birth_date=date(1962, 7, 8), sex="male"))
    operator.set_restricted(restricted.id, True)
    with backend.owner_engine.begin() as conn:
        conn.execute(text("INSERT INTO alerts (patient_id, kind, severity, description) "
                          "VALUES (:p, 'allergy', 'high', 'Penicillin')"), {"p": patient.id})
    reception = _sign_in(backend, f"recep{tag}")
    doctor = _sign_in(backend, f"docto{tag}")
    yield Clinic(backend, reception, doctor, ids["admin"], patient.id, restricted.id, tag)
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"),
                     {"u": list(ids.values())})


@pytest.fixture
def attacker(clinic: Clinic) -> Iterator[Connection]:
    """The app's PostgreSQL login with the receptionist's token named for the whole
    connection (what a tampered workstation would do)."""
    with tampered(clinic.backend.engine) as conn:
        conn.execute(text("SELECT set_config('dra.token', :t, false)"),
                     {"t": clinic.reception.token})
        conn.commit()
        yield conn


def _refused(conn: Connection, sql: str, **params: Any) -> str:
    """Run ``sql``; it must fail. Returns the database's reason."""
    with pytest.raises(DBAPIError) as exc:
        conn.execute(text(sql), params)
    conn.rollback()
    return str(exc.value.orig)


# ------------------------------------------------------------------ item 1: PostgreSQL

@pytest.mark.parametrize("sql", [
    "SELECT auth_key, auth_salt FROM users",
    "SELECT * FROM users",
    "UPDATE users SET auth_key = (SELECT auth_key FROM users LIMIT 1)",
    "UPDATE users SET is_active = true",
    "INSERT INTO user_roles (user_id, role_id) SELECT u.id, r.id FROM users u, roles r",
    "DELETE FROM user_roles",
    "INSERT INTO role_permissions (role_id, permission) SELECT id, 'user.manage' FROM roles",
    "UPDATE role_permissions SET permission = 'audit.report'",
    "DELETE FROM role_permissions",
    "DELETE FROM patients",
    "TRUNCATE patients CASCADE",
    "DELETE FROM alerts",
    "SELECT * FROM app_sessions",
    "INSERT INTO app_sessions (id, token_hash, user_id, started_at, last_seen, changed_at, "
    "expires_at, idle_seconds, state) SELECT 'x', 'x', id, now(), now(), now(), "
    "now() + interval '1 day', 9999, 'active' FROM users LIMIT 1",
    "DELETE FROM signin_failures",
    "SELECT * FROM app_secrets",
    "INSERT INTO session_glass VALUES ('x', 1)",
    "UPDATE audit_events SET user_id = NULL",
    "DELETE FROM audit_events",
    "UPDATE clinic_settings SET value = '{}'",
    "SET ROLE dra",
    "GRANT ALL ON users TO dra_app",
    "SELECT dra__audit('signin', 1, 'x', NULL, '', '', NULL)",
    "SELECT dra__attempt(ARRAY['x'], ARRAY[1], now())",
])
def test_what_the_app_login_and_a_receptionists_session_cannot_do(
        attacker: Connection, sql: str) -> None:
    reason = _refused(attacker, sql)
    assert "permission denied" in reason or "must be" in reason, reason


def test_lifting_restrictions_is_refused_and_changes_nothing(attacker: Connection,
                                                             clinic: Clinic) -> None:
    reason = _refused(attacker, "UPDATE patients SET restricted = false WHERE restricted")
    assert "may not restrict" in reason
    assert clinic.owner("SELECT restricted FROM patients WHERE id = :p",
                        p=clinic.restricted) == [(True,)]


def test_a_doctor_who_does_not_treat_the_patient_cannot_lift_a_restriction(
        clinic: Clinic) -> None:
    with tampered(clinic.backend.engine) as conn:
        conn.execute(text("SELECT set_config('dra.token', :t, false)"),
                     {"t": clinic.doctor.token})
        # The restricted record is not even there for him to change...
        assert conn.execute(text("UPDATE patients SET restricted = false WHERE id = :p"),
                            {"p": clinic.restricted}).rowcount == 0
        # ...and breaking the glass opens the chart, not the restriction.
        assert conn.execute(text("SELECT dra_break_glass(:p, 'covering a colleague')"),
                            {"p": clinic.restricted}).scalar_one() is True
        reason = _refused(conn, "UPDATE patients SET restricted = false WHERE id = :p",
                          p=clinic.restricted)
    assert "only the clinicians who see this patient" in reason
    assert clinic.owner("SELECT restricted FROM patients WHERE id = :p",
                        p=clinic.restricted) == [(True,)]


def test_clinical_content_and_restricted_charts_stay_hidden(attacker: Connection,
                                                            clinic: Clinic) -> None:
    assert attacker.execute(text("SELECT count(*) FROM alerts")).scalar_one() == 0
    assert attacker.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 0
    # She may find patients (her job), but not break the glass into a restricted chart.
    assert attacker.execute(text("SELECT count(*) FROM patients WHERE id = :p"),
                            {"p": clinic.patient}).scalar_one() == 1
    assert attacker.execute(text("SELECT dra_break_glass(:p, 'curious')"),
                            {"p": clinic.restricted}).scalar_one() is False
    assert attacker.execute(text("SELECT dra_list_sessions(:t)"),
                            {"t": clinic.reception.token}).all() == []
    assert attacker.execute(text("SELECT dra_revoke_session(:t, :s)"),
                            {"t": clinic.reception.token,
                             "s": clinic.doctor.session_id}).scalar_one() == "denied"
    attacker.commit()
    denied = clinic.owner("SELECT user_id, object_id FROM audit_events "
                          "WHERE action = 'access.denied' AND workstation = :w",
                          w=clinic.reception.workstation)
    assert (clinic.reception.user_id, "session.revoke") in [tuple(r) for r in denied]


def test_without_a_live_session_the_app_login_reads_and_writes_nothing(
        clinic: Clinic) -> None:
    for token in ("", uuid.uuid4().hex * 2):
        with tampered(clinic.backend.engine) as conn:
            conn.execute(text("SELECT set_config('dra.token', :t, false)"), {"t": token})
            for table in ("patients", "alerts", "users", "roles", "patient_name_terms"):
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
            assert conn.execute(text("UPDATE patients SET phone = 'x'")).rowcount == 0
            reason = _refused(conn, "INSERT INTO audit_events (action) VALUES ('chart.open')")
            assert "no signed-in session" in reason or "row-level security" in reason
    # A revoked session is worth no more than none.
    SessionStore(clinic.backend.owner_engine).revoke(None, clinic.reception.session_id)
    with tampered(clinic.backend.engine) as conn:
        conn.execute(text("SELECT set_config('dra.token', :t, false)"),
                     {"t": clinic.reception.token})
        assert conn.execute(text("SELECT count(*) FROM patients")).scalar_one() == 0


def test_what_she_may_do_is_hers_and_audited_by_the_database(attacker: Connection,
                                                             clinic: Clinic) -> None:
    before = clinic.owner("SELECT coalesce(max(id), 0) FROM audit_events")[0][0]
    changed = attacker.execute(text(
        "UPDATE patients SET phone = '+1 555 0199', updated_by = :admin WHERE id = :p"),
        {"admin": clinic.admin_id, "p": clinic.patient}).rowcount
    new_id = attacker.execute(text(
        "INSERT INTO patients (given_name, family_name, birth_date, sex, created_by) "
        "VALUES ('Walkin', :f, '1990-01-01', 'unknown', :admin) RETURNING id"),
        {"f": f"Att{clinic.tag}", "admin": clinic.admin_id}).scalar_one()
    # A backdated event in the admin's name from the admin's desk.
    attacker.execute(text(
        "INSERT INTO audit_events (occurred_at, user_id, workstation, action) "
        "VALUES (now() - interval '400 days', :admin, 'ADMIN-PC', 'chart.open')"),
        {"admin": clinic.admin_id})
    attacker.commit()
    assert changed == 1
    rows = clinic.owner("SELECT updated_by, created_by FROM patients WHERE id = ANY(:p) "
                        "ORDER BY id", p=[clinic.patient, new_id])
    me = clinic.reception.user_id
    assert rows[0][0] == me and tuple(rows[1]) == (me, me)
    events = clinic.owner(
        "SELECT action, user_id, workstation, object_type, details, occurred_at, "
        "clock_timestamp() - occurred_at AS age FROM audit_events WHERE id > :i ORDER BY id",
        i=before)
    mine = [e for e in events if e.workstation == clinic.reception.workstation]
    assert {e.user_id for e in mine} == {me}
    assert ("row.update", "patients") in [(e.action, e.object_type) for e in mine]
    assert ("row.insert", "patients") in [(e.action, e.object_type) for e in mine]
    update = next(e for e in mine if e.action == "row.update")
    assert "phone" in update.details["columns"] and "+1 555" not in str(update.details)
    forged = next(e for e in mine if e.action == "chart.open")
    assert forged.age < timedelta(minutes=5)  # the database's time, not 400 days ago
    assert not [e for e in events if e.user_id == clinic.admin_id]


# ------------------------------------------------------------------ item 2: MongoDB


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def test_the_name_index_keeps_each_patients_true_year_of_birth(attacker: Connection,
                                                                clinic: Clinic) -> None:
    # She may write the name index (she registers patients), but a year of birth is the
    # database's: a term written with another year, or none, gets the patient's own, so a
    # search by year can neither hide a patient nor show one born another year.
    for year in ("1900", "NULL"):
        attacker.execute(text(
            "INSERT INTO patient_name_terms (term, sort_name, patient_id, source, birth_year) "
            f"VALUES (:t, 'x', :p, 1, {year})"), {"t": f"planted{year.lower()}",
                                                  "p": clinic.patient})
    attacker.commit()
    rows = clinic.owner("SELECT term, birth_year FROM patient_name_terms "
                        "WHERE patient_id = :p AND term LIKE 'planted%' ORDER BY term",
                        p=clinic.patient)
    assert [tuple(r) for r in rows] == [("planted1900", 1971), ("plantednull", 1971)]
    # Row security has no rule that lets the app's login change a row of the index.
    assert attacker.execute(text("UPDATE patient_name_terms SET birth_year = 1900 "
                                 "WHERE patient_id = :p"), {"p": clinic.patient}).rowcount == 0
    attacker.commit()
    assert {r[0] for r in clinic.owner(
        "SELECT DISTINCT birth_year FROM patient_name_terms WHERE patient_id = :p",
        p=clinic.patient)} == {1971}
    # Nor can she call what keeps the year in step.
    for function in ("dra__term_birth_year", "dra__patient_birth_year"):
        assert "permission denied" in _refused(attacker, f"SELECT {function}()")


def test_mongodb_without_credentials_reads_and_writes_nothing(servers: StackEndpoints,
                                                              settings: Any) -> None:
    anonymous: MongoClient[dict[str, Any]] = MongoClient(
        _host(servers.mongo_url), directConnection=True, serverSelectionTimeoutMS=5000)
    try:
        for attempt in (lambda db: db["drafts"].find_one(),
                        lambda db: db["drafts"].insert_one({"user_id": 1}),
                        lambda db: db.list_collection_names()):
            with pytest.raises(OperationFailure) as exc:
                attempt(anonymous[settings.mongo_database])
            assert exc.value.code == 13  # Unauthorized
    finally:
        anonymous.close()


def test_kept_forms_are_unreadable_and_cannot_be_planted_with_the_apps_mongodb_login(
        clinic: Clinic) -> None:
    db = clinic.backend.mongo_db  # the app's own MongoDB user
    store = DraftStore(db)
    doctor = clinic.doctor
    assert doctor.user_id is not None
    secret = f"Zephyrine{clinic.tag}"
    store.save(doctor.user_id, kind="patient.register", title=f"New patient ({secret})",
               reason="Kept when you signed out.", draft_key=doctor.draft_key,
               payload={"form": {"family_name": secret, "birth_date": "1980-02-03"}},
               key=f"form-{clinic.tag}")
    raw = db["drafts"].find_one({"user_id": doctor.user_id, "key": f"form-{clinic.tag}"})
    assert raw is not None and secret not in str(raw) and secret.encode() not in raw["sealed"]
    # Planting: a readable form is refused by the validator; a sealed one that is not
    # sealed with her key is never offered.
    with pytest.raises(WriteError):
        db["drafts"].insert_one({"_id": uuid.uuid4().hex, "user_id": doctor.user_id,
                                 "key": "planted", "kind": "patient.register",
                                 "title": "Planted", "payload": {"form": {}}})
    forged = bytes(raw["sealed"])[:-1] + bytes([raw["sealed"][-1] ^ 1])
    for sealed in (b"\0" * 64, forged):
        db["drafts"].insert_one({"_id": uuid.uuid4().hex, "user_id": doctor.user_id,
                                 "key": f"planted-{uuid.uuid4().hex[:6]}",
                                 "kind": "patient.register", "sealed": Binary(sealed),
                                 "saved_at": raw["saved_at"]})
    offered = store.list_for(doctor.user_id, doctor.draft_key)
    assert [d.title for d in offered] == [f"New patient ({secret})"]
    # The receptionist's key opens none of the doctor's forms, even moved to her name.
    assert store.list_for(doctor.user_id, clinic.reception.draft_key) == []
    db["drafts"].delete_many({"user_id": doctor.user_id})


@pytest.mark.parametrize("command", [
    {"drop": "drafts"},
    {"createUser": "mallory", "pwd": "x", "roles": ["root"]},
    {"grantRolesToUser": "dr_assistant_app", "roles": ["root"]},
    {"collMod": "drafts", "validator": {}},
    {"dropDatabase": 1},
])
def test_the_apps_mongodb_login_cannot_administer(clinic: Clinic, command: dict[str, Any]
                                                  ) -> None:
    db = clinic.backend.mongo_db
    target = clinic.backend.mongo.admin if "grantRolesToUser" in command else db
    with pytest.raises(OperationFailure) as exc:
        target.command(command)
    assert exc.value.code == 13


# ------------------------------------------------------------------ Redis


def test_redis_without_credentials_and_the_apps_redis_login_cannot_administer(
        servers: StackEndpoints, backend: Backend) -> None:
    parts = urlsplit(servers.redis_url)
    anonymous = redis.Redis(host=parts.hostname, port=parts.port, socket_timeout=5)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.get("dra:anything")
    app = backend.redis
    assert app.ping()
    app.set("dra:attack-check", "1", ex=10)
    for attempt in (lambda: app.flushall(), lambda: app.config_get("*"),
                    lambda: app.keys("*"), lambda: app.execute_command("ACL", "LIST"),
                    lambda: app.set("outside:namespace", "1"),
                    lambda: app.execute_command("DEBUG", "SLEEP", "0")):
        with pytest.raises(redis.exceptions.NoPermissionError):
            attempt()


# ------------------------------------------------------------------ scheduling (issue 10)

@pytest.mark.parametrize("sql", [
    "INSERT INTO cache_versions VALUES ('directory', 1)",
    "UPDATE cache_versions SET version = 1",
    "DELETE FROM cache_versions",
    "TRUNCATE cache_versions",
    "SELECT dra__bump(ARRAY['directory'])",
    "SELECT nextval('cache_version_seq') FROM cache_versions, dra__bump(ARRAY['x'])",
    "INSERT INTO provider_breaks (provider_id, weekday, starts_at, ends_at) "
    "SELECT id, 1, '12:00', '13:00' FROM providers",
    "DELETE FROM provider_breaks",
    "DELETE FROM appointments",
    "DELETE FROM appointment_series",
    "DELETE FROM waitlist_entries",
])
def test_the_schedules_cache_versions_and_directory_cannot_be_written(
        attacker: Connection, sql: str) -> None:
    assert "permission denied" in _refused(attacker, sql)


def _provider_for(clinic: Clinic, user_id: int | None) -> int:
    return int(clinic.owner(
        "INSERT INTO providers (user_id, given_name, family_name, specialty) "
        "VALUES (:u, 'Doc', :f, 'Family medicine') RETURNING id",
        u=user_id, f=f"Att{clinic.tag}")[0][0])


def _book_as(conn: Connection, provider: int, patient: int, hours: int = 24) -> int:
    appointment = int(conn.execute(text(
        "INSERT INTO appointments (provider_id, patient_id, starts_at, ends_at) "
        "VALUES (:pr, :pa, now() + make_interval(hours => :h), "
        "now() + make_interval(hours => :h, mins => 15)) RETURNING id"),
        {"pr": provider, "pa": patient, "h": hours}).scalar_one())
    conn.commit()
    return appointment


def test_reception_cannot_open_an_encounter_herself(attacker: Connection,
                                                    clinic: Clinic) -> None:
    provider = _provider_for(clinic, clinic.doctor.user_id)
    reason = _refused(attacker, "INSERT INTO encounters (patient_id, provider_id, started_at) "
                                "VALUES (:p, :pr, now())", p=clinic.restricted, pr=provider)
    assert "row-level security" in reason


FLOW = {"booked": ("checked_in", "cancelled", "no_show"),
        "checked_in": ("in_progress", "booked", "cancelled", "no_show"),
        "in_progress": ("completed",), "completed": (), "cancelled": (), "no_show": ()}
REACH = {"booked": (), "checked_in": ("checked_in",), "in_progress": ("checked_in",
         "in_progress"), "completed": ("checked_in", "in_progress", "completed"),
         "cancelled": ("cancelled",), "no_show": ("no_show",)}


@pytest.mark.parametrize("source", list(FLOW))
def test_every_status_change_through_the_app_login(attacker: Connection, clinic: Clinic,
                                                   source: str) -> None:
    """The receptionist's session on the app's login, straight in SQL: the database
    allows exactly the flow the app knows."""
    assert FLOW == APPOINTMENT_TRANSITIONS
    provider = _provider_for(clinic, None)
    appointment = _book_as(attacker, provider, clinic.patient)
    for step in REACH[source]:
        attacker.execute(text("UPDATE appointments SET status = :s WHERE id = :a"),
                         {"s": step, "a": appointment})
    attacker.commit()
    for target in FLOW:
        if target == source:
            continue
        try:
            attacker.execute(text("UPDATE appointments SET status = :s WHERE id = :a"),
                             {"s": target, "a": appointment})
            allowed = True
        except DBAPIError as exc:
            allowed = False
            assert getattr(exc.orig, "sqlstate", None) == "DRA01"
            assert f"cannot become {target}" in str(exc.orig)
        attacker.rollback()
        assert allowed == (target in FLOW[source]), (source, target)


def test_the_status_flow_cannot_be_skipped_through_the_app_login(attacker: Connection,
                                                                 clinic: Clinic) -> None:
    provider = _provider_for(clinic, None)
    appointment = _book_as(attacker, provider, clinic.patient)
    reason = _refused(attacker, "INSERT INTO appointments (provider_id, patient_id, starts_at, "
                                "ends_at, status) VALUES (:pr, :pa, now() + interval '3 days', "
                                "now() + interval '3 days 15 minutes', 'completed')",
                      pr=provider, pa=clinic.patient)
    assert "starts as booked" in reason
    # An arrival time is the database's, whatever the desk sends.
    attacker.execute(text("UPDATE appointments SET checked_in_at = now() - interval '1 day' "
                          "WHERE id = :a"), {"a": appointment})
    attacker.commit()
    assert clinic.owner("SELECT status, checked_in_at FROM appointments WHERE id = :a",
                        a=appointment) == [("booked", None)]


def test_a_booking_gives_a_doctor_nothing_and_an_arrival_makes_them_the_clinician(
        attacker: Connection, clinic: Clinic) -> None:
    provider = _provider_for(clinic, clinic.doctor.user_id)
    appointment = _book_as(attacker, provider, clinic.restricted, hours=0)
    with tampered(clinic.backend.engine) as doctor:
        doctor.execute(text("SELECT set_config('dra.token', :t, false)"),
                       {"t": clinic.doctor.token})
        doctor.commit()  # the setting outlives this transaction
        assert doctor.execute(text("SELECT dra_treats(:p)"),
                              {"p": clinic.restricted}).scalar_one() is False
        assert doctor.execute(text("UPDATE patients SET restricted = false WHERE id = :p"),
                              {"p": clinic.restricted}).rowcount == 0
        doctor.rollback()
        attacker.execute(text("UPDATE appointments SET status = 'checked_in' WHERE id = :a"),
                         {"a": appointment})
        attacker.commit()
        # The encounter is the doctor's, opened on the desk's behalf and in its name.
        enc = clinic.owner("SELECT provider_id, status, created_by FROM encounters "
                           "WHERE appointment_id = :a", a=appointment)
        assert [tuple(r) for r in enc] == [(provider, "open", clinic.reception.user_id)]
        assert doctor.execute(text("UPDATE patients SET restricted = false WHERE id = :p"),
                              {"p": clinic.restricted}).rowcount == 1
        doctor.commit()
    assert clinic.owner("SELECT restricted FROM patients WHERE id = :p",
                        p=clinic.restricted) == [(False,)]


def test_the_cache_key_is_only_for_a_signed_in_session(clinic: Clinic,
                                                       attacker: Connection) -> None:
    for token in ("", uuid.uuid4().hex * 2):
        with tampered(clinic.backend.engine) as conn:
            conn.execute(text("SELECT set_config('dra.token', :t, false)"), {"t": token})
            assert "signed-in session" in _refused(conn, "SELECT dra_cache_key()")
    assert len(attacker.execute(text("SELECT dra_cache_key()")).scalar_one()) == 32
    assert "permission denied" in _refused(
        attacker, "SELECT value FROM app_secrets WHERE name = 'cache_key'")

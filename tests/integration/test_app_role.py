"""The app connects as its own login, a member of ``dra_app``, and the database holds it to
what the role allows: it appends to and reads the audit trail but cannot change or empty it,
works on the clinical tables, and cannot change the schema. Everything here goes through
``backend.engine`` (the connection every service uses), never ``SET ROLE``."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import errors as pg
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from backend_client.audit import AuditService
from backend_client.backend import Backend, open_backend
from backend_client.config import load_settings
from backend_client.local_stack import LocalStack
from backend_client.local_stack.stack import SECRET_NAMES
from backend_client.schema import migrate
from backend_client.stores.postgres.engine import normalise_url
from backend_client.stores.postgres.roles import APP_LOGIN, APP_ROLE, ensure_app_login


def _refused(exc: pytest.ExceptionInfo[DBAPIError]) -> bool:
    return isinstance(exc.value.orig, pg.InsufficientPrivilege)


# ------------------------------------------------------------------ who the app is


def test_the_app_is_its_own_login_and_no_superuser(app_db: Connection) -> None:
    row = app_db.execute(text(
        "SELECT current_user AS who, r.rolsuper, r.rolcreaterole, r.rolcreatedb, "
        "       r.rolbypassrls, pg_has_role(current_user, :role, 'USAGE') AS in_role "
        "FROM pg_roles r WHERE r.rolname = current_user"), {"role": APP_ROLE}).one()
    assert row.who == APP_LOGIN
    assert not (row.rolsuper or row.rolcreaterole or row.rolcreatedb or row.rolbypassrls)
    assert row.in_role  # its privileges are dra_app's, without SET ROLE


def test_the_owner_engine_is_another_role(backend: Backend) -> None:
    with backend.owner_engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() != APP_LOGIN


# ------------------------------------------------------------------ the audit trail


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'chart.close' WHERE id = 1",
    "DELETE FROM audit_events WHERE id = 1",
    "TRUNCATE audit_events",
])
def test_the_app_cannot_alter_or_remove_audit_events(app_db: Connection, statement: str
                                                     ) -> None:
    with pytest.raises(DBAPIError, match="permission denied") as exc, app_db.begin_nested():
        app_db.execute(text(statement))
    assert _refused(exc)


def test_the_app_cannot_turn_the_audit_triggers_off(app_db: Connection) -> None:
    for statement in ("ALTER TABLE audit_events DISABLE TRIGGER USER",
                      "ALTER TABLE patients DISABLE ROW LEVEL SECURITY",
                      "SET LOCAL session_replication_role = replica",
                      "SET LOCAL row_security = off"):
        with pytest.raises(DBAPIError) as exc, app_db.begin_nested():
            app_db.execute(text(statement))
            # row_security = off is accepted, but then any query that row security would
            # filter raises instead of bypassing it.
            app_db.execute(text("SELECT count(*) FROM patients"))
        assert _refused(exc) or "row-level security" in str(exc.value), statement


@pytest.mark.parametrize("statement", [
    "CREATE TABLE app_made (id int)",
    "ALTER TABLE patients ADD COLUMN app_made text",
    "ALTER TABLE patients DROP CONSTRAINT IF EXISTS pk_patients CASCADE",
    "DROP TABLE clinic_settings",
    "CREATE INDEX app_made ON patients (given_name)",
    "TRUNCATE patients",
    "UPDATE alembic_version SET version_num = '9999'",
    "CREATE ROLE app_made",
    "CREATE FUNCTION app_made() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "DROP POLICY read ON patients",
])
def test_the_app_cannot_change_the_schema(app_db: Connection, statement: str) -> None:
    with pytest.raises(DBAPIError) as exc, app_db.begin_nested():
        app_db.execute(text(statement))
    assert _refused(exc), statement


# ------------------------------------------------------------------ the grants

S, I, U, D = "SELECT", "INSERT", "UPDATE", "DELETE"  # noqa: E741
# What the app's login may do to each table (row-level security narrows every one of them
# to what the signed-in session's person may). A new table must be placed here.
EXPECTED = {
    "alembic_version": {S},
    "audit_events": {S, I},
    "app_sessions": set(), "session_glass": set(), "signin_failures": set(),
    "app_secrets": set(),
    "users": set(),  # columns only, never the credential: see the next test
    **{t: {S} for t in ("clinic_settings", "roles", "role_permissions", "user_roles",
                        "providers", "provider_working_hours", "appointment_types",
                        "provider_breaks")},
    # Versions are moved only by the owner's triggers (migration 0009).
    "cache_versions": {S},
    "patients": {S, I, U},
    **{t: {S, I, U, D} for t in ("patient_identifiers", "patient_names", "patient_contacts",
                                 "patient_name_terms", "patient_name_pairs", "name_variants")},
    **{t: {S, I, U} for t in ("alerts", "encounters", "orders", "prescriptions", "documents",
                              "appointments", "tasks", "appointment_series",
                              "waitlist_entries")},
    # Dictations (migration 0013): column grants only (never the data key), inserted
    # pending, delivered through recording_delivered(): see test_attacks_recordings.py.
    "recordings": set(),
    # The chart's lists (migration 0010): retired with a reason, never deleted.
    **{t: {S, I, U} for t in ("problems", "medications")},
}


def test_every_table_grants_the_app_role_what_it_needs_and_no_more(app_db: Connection
                                                                    ) -> None:
    """A migration that adds a table without placing it here, or grants more than this,
    fails here; so does a table the app may read that row security does not cover."""
    rows = app_db.execute(text("""
        SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relrowsecurity AS rls,
               has_table_privilege(:role, c.oid, 'SELECT') AS s,
               has_table_privilege(:role, c.oid, 'INSERT') AS i,
               has_table_privilege(:role, c.oid, 'UPDATE') AS u,
               has_table_privilege(:role, c.oid, 'DELETE') AS d,
               has_table_privilege(:role, c.oid, 'TRUNCATE') AS trunc
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         ORDER BY c.relname"""), {"role": APP_ROLE}).all()
    wrong = {}
    for r in rows:
        granted = {v for v, ok in ((S, r.s), (I, r.i), (U, r.u), (D, r.d)) if ok}
        unprotected = bool(granted - {S} or r.name not in ("alembic_version",)) \
            and granted and not r.rls
        if (r.name not in EXPECTED or granted != EXPECTED[r.name] or r.trunc
                or r.owner in (APP_ROLE, APP_LOGIN) or unprotected):
            wrong[r.name] = (r.owner, sorted(granted), r.trunc, r.rls)
    assert wrong == {}
    assert set(EXPECTED) == {r.name for r in rows}


def test_the_app_reads_no_credential_column(app_db: Connection) -> None:
    readable = set(app_db.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' "
        "AND has_column_privilege(:role, 'users', column_name, 'SELECT')"),
        {"role": APP_ROLE}).scalars())
    assert readable == {"id", "username", "display_name", "email", "is_active", "created_at",
                        "updated_at", "version"}
    with pytest.raises(DBAPIError, match="permission denied") as exc, app_db.begin_nested():
        app_db.execute(text("SELECT auth_key FROM users"))
    assert _refused(exc)


def test_every_sequence_is_usable_by_the_app_role(app_db: Connection) -> None:
    usable = dict(app_db.execute(text("""
        SELECT c.relname,
               -- CASE: the planner may call the function before the relkind test.
               CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(:role, c.oid, 'USAGE') END
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'S'"""), {"role": APP_ROLE}).all())
    assert "patients_id_seq" in usable
    assert [name for name, ok in usable.items() if not ok] == []


# ------------------------------------------------------------------ ensure_app_login


@pytest.fixture
def app_password(backend: Backend) -> Iterator[str]:
    """The session's app password, put back after a test that changes it."""
    password = backend.engine.url.password
    assert password
    yield password
    ensure_app_login(backend.owner_engine, password)


def _login(backend: Backend, password: str) -> Engine:
    url = backend.engine.url.set(password=password).render_as_string(hide_password=False)
    return create_engine(normalise_url(url), poolclass=NullPool)


def test_ensure_app_login_is_idempotent_and_takes_any_password(backend: Backend,
                                                               app_password: str) -> None:
    odd = "it's $$ a \"test\" \\ %s %(x)s :name; DROP ROLE x; -- é"
    ensure_app_login(backend.owner_engine, app_password)
    ensure_app_login(backend.owner_engine, odd)
    engine = _login(backend, odd)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == APP_LOGIN
    finally:
        engine.dispose()
    old = _login(backend, app_password)
    try:
        with pytest.raises(OperationalError, match="password authentication failed"):
            old.connect()
    finally:
        old.dispose()


def test_ensure_app_login_from_several_processes_at_once(backend: Backend,
                                                        app_password: str) -> None:
    """The app and ``dr-assistant-admin`` may start at the same moment: each with its own
    connection, none fails."""
    errors: list[BaseException] = []
    owner_url = backend.owner_engine.url

    def run() -> None:
        engine = create_engine(owner_url, poolclass=NullPool)
        try:
            for _ in range(5):
                ensure_app_login(engine, app_password)
        except BaseException as exc:  # noqa: B036 - re-raised on the main thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = _login(backend, app_password)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == APP_LOGIN
    finally:
        engine.dispose()


def test_ensure_app_login_restores_a_lost_membership(backend: Backend,
                                                     app_password: str) -> None:
    """A migration downgrade that dropped dra_app takes the membership with it."""
    with backend.owner_engine.begin() as conn:
        conn.execute(text(f"REVOKE {APP_ROLE} FROM {APP_LOGIN}"))
    ensure_app_login(backend.owner_engine, app_password)
    with backend.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patients")).scalar_one() >= 0


# ------------------------------------------------------------------ an older data dir


@pytest.fixture
def old_install(tmp_path: Path) -> Iterator[Path]:
    """An embedded data dir as a version without the app login left it: its secrets.json
    has no "app" password and its server has no such login."""
    stack = LocalStack(tmp_path)
    endpoints = stack.start()
    owner = create_engine(normalise_url(endpoints.postgres_url))
    try:
        with owner.begin() as conn:
            conn.execute(text(f"DROP ROLE {APP_LOGIN}"))
    finally:
        owner.dispose()
    secrets_file = tmp_path / "stack" / "secrets.json"
    secret = json.loads(secrets_file.read_text())
    del secret["app"]
    secrets_file.write_text(json.dumps(secret))
    yield tmp_path
    stack.stop()


@pytest.mark.parametrize("restart", [False, True], ids=["servers-running", "after-reboot"])
def test_an_older_data_dir_gets_the_app_login(old_install: Path, restart: bool) -> None:
    if restart:
        LocalStack(old_install).stop()
    backend = open_backend(load_settings(data_dir=old_install))
    try:
        migrate(backend)
        with backend.engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == APP_LOGIN
            conn.rollback()
            conn.begin()
            # The app's login and the database's rules hold for the upgraded install too.
            with pytest.raises(DBAPIError, match="permission denied"), conn.begin_nested():
                conn.execute(text("DELETE FROM audit_events WHERE id = 1"))
            with pytest.raises(DBAPIError, match="no signed-in session"), conn.begin_nested():
                AuditService.record_in(conn, "chart.open", object_id=uuid.uuid4().hex)
            conn.commit()
        with backend.owner_engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() != APP_LOGIN
    finally:
        backend.close(stop_stack=False)
    secrets_file = old_install / "stack" / "secrets.json"
    assert set(json.loads(secrets_file.read_text())) == set(SECRET_NAMES)
    assert secrets_file.stat().st_mode & 0o077 == 0

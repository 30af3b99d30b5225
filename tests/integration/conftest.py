from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, create_engine, text

from backend_client.accounts.access import SessionAccess, SystemAccess
from backend_client.accounts.passwords import PasswordHashing
from backend_client.accounts.sessions import SessionStore
from backend_client.backend import Backend
from backend_client.dto import ClinicLocale
from backend_client.patients.service import PatientService
from backend_client.stores.postgres import migrate
from backend_client.stores.postgres.engine import normalise_url

TODAY = date(2026, 11, 27)


@pytest.fixture
def db(backend: Backend) -> Iterator[Connection]:
    """The schema owner's connection in an outer transaction, rolled back after the test
    (Warehouse's pattern): the services' commits only release savepoints inside it.

    The owner is not held by row-level security, so these tests see what the services do
    with the data; what the database lets the app's own login do is tested through
    ``app_db`` and the attack suite (test_app_role.py, test_attacks.py)."""
    yield from _rolled_back(backend.owner_engine)


@pytest.fixture
def app_db(backend: Backend) -> Iterator[Connection]:
    """The app's own login (what every workstation holds), in an outer transaction."""
    yield from _rolled_back(backend.engine)


def _rolled_back(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def patients(db: Connection) -> PatientService:
    # The clinic's locale pinned (+1 numbers, day-first dates) unless a test sets it in
    # clinic_settings: nothing depends on the locale of the machine running the tests.
    return PatientService(db, SystemAccess("test-ws"), today=lambda: TODAY,
                          locale=ClinicLocale())


@contextmanager
def tampered(engine: Engine) -> Iterator[Connection]:
    """A connection of the app's login on which a test names a session for the whole
    connection (``set_config('dra.token', …, false)``), as a tampered workstation would.
    Thrown away afterwards instead of going back to the pool: the app names a session per
    transaction only, and the next test's unit of work must not find one named already."""
    conn = engine.connect()
    try:
        yield conn
    finally:
        conn.invalidate()
        conn.close()


@contextmanager
def scratch_database(backend: Backend, prefix: str, revision: str | None = "head",
                     **engine_args: Any) -> Iterator[Engine]:
    """A new database on the real server, as its owner (a superuser), migrated to
    ``revision`` (None: left empty); dropped with its connections afterwards. For tests that
    need a chain or a schema of their own, away from the shared test database."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with backend.owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = backend.owner_engine.url.set(database=name)
    engine = create_engine(normalise_url(url.render_as_string(hide_password=False)),
                           **engine_args)
    try:
        if revision is not None:
            migrate.upgrade(engine, revision)
        yield engine
    finally:
        engine.dispose()
        with backend.owner_engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


def add_user(bind: Engine | Connection, roles: tuple[str, ...] = ("doctor",), *,
             display_name: str = "Dr. Test", username: str = "") -> int:
    """A user row with these roles (no password: for tests that do not sign in)."""
    name = username or f"u{uuid.uuid4().hex[:10]}"
    stmt_user = text("INSERT INTO users (username, display_name) VALUES (:u, :d) "
                     "RETURNING id")
    stmt_roles = text("INSERT INTO user_roles (user_id, role_id) "
                      "SELECT :id, id FROM roles WHERE name = ANY(:r)")

    def run(conn: Connection) -> int:
        uid = int(conn.execute(stmt_user, {"u": name, "d": display_name}).scalar_one())
        conn.execute(stmt_roles, {"id": uid, "r": list(roles)})
        return uid

    if isinstance(bind, Connection):
        return run(bind)
    with bind.begin() as conn:
        return run(conn)


FAST = PasswordHashing(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
SIGN_IN_PASSWORD = "test session password 77"


def signed_in(backend: Backend, bind: Engine | Connection, user_id: int, *,
              workstation: str = "ws-test") -> SessionAccess:
    """A real session in the database for this user, started as the sign-in window starts
    it (the user gets a password first). ``bind`` must be able to write ``users``: the
    owner's ``db`` connection, or the owner's engine."""
    cred = FAST.credential(SIGN_IN_PASSWORD)
    update = text("UPDATE users SET auth_salt = :s, auth_params = :p, auth_key = :k "
                  "WHERE id = :i RETURNING username")
    params = {"s": cred.salt, "p": cred.params, "k": cred.key, "i": user_id}
    if isinstance(bind, Connection):
        username = bind.execute(update, params).scalar_one()
    else:
        with bind.begin() as conn:
            username = conn.execute(update, params).scalar_one()
    store = SessionStore(bind)
    outcome = store.sign_in(username, store.keys_for(username, SIGN_IN_PASSWORD), workstation)
    assert outcome.actor is not None, outcome
    access = SessionAccess(store, bind, workstation)
    access.set_actor(outcome.actor)
    return access


def set_clinic_env(monkeypatch: pytest.MonkeyPatch, settings: Any, servers: Any,
                   backend: Backend, database: Engine, mongo_database: str) -> None:
    """The admin CLI as a clinic configures it, on the test database ``database``: the app's
    login and the owners' URLs for what it may not do, the test MongoDB, Redis and S3."""
    app_url = backend.engine.url.set(database=database.url.database)
    monkeypatch.setenv("DRA_POSTGRES_URL", app_url.render_as_string(hide_password=False))
    monkeypatch.setenv("DRA_POSTGRES_ADMIN_URL",
                       database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DRA_MONGO_URL", servers.mongo_url)
    monkeypatch.setenv("DRA_MONGO_ADMIN_URL", servers.mongo_owner_url)
    monkeypatch.setenv("DRA_MONGO_DATABASE", mongo_database)
    monkeypatch.setenv("DRA_REDIS_URL", servers.redis_url)
    set_s3_env(monkeypatch, settings)


def set_s3_env(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """The test S3 server in the environment: a clinic setup names all four stores."""
    secret = settings.s3_secret_access_key
    for name, value in (("DRA_S3_ENDPOINT_URL", settings.s3_endpoint_url),
                        ("DRA_S3_BUCKET", settings.s3_bucket),
                        ("DRA_S3_ACCESS_KEY_ID", settings.s3_access_key_id),
                        ("DRA_S3_SECRET_ACCESS_KEY",
                         secret.get_secret_value() if secret else None)):
        if value:
            monkeypatch.setenv(name, str(value))

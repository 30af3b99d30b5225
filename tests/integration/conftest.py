from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Connection, Engine, text

from backend_client.accounts.access import SessionAccess, SystemAccess
from backend_client.accounts.permissions import Authorizer
from backend_client.accounts.sessions import SessionStore
from backend_client.backend import Backend
from backend_client.patients.service import PatientService

TODAY = date(2026, 11, 27)


@pytest.fixture
def db(backend: Backend) -> Iterator[Connection]:
    """A connection in an outer transaction, rolled back after the test (Warehouse's
    pattern): the services' commits only release savepoints inside it."""
    conn = backend.engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def patients(db: Connection) -> PatientService:
    return PatientService(db, SystemAccess("test-ws"), today=lambda: TODAY)


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


def signed_in(backend: Backend, bind: Engine | Connection, user_id: int, *,
              workstation: str = "ws-test", sessions: SessionStore | None = None
              ) -> SessionAccess:
    """A real session in Redis for this user, as the sign-in window would start it."""
    store = sessions or SessionStore(backend.redis)
    row = (bind if isinstance(bind, Connection) else bind.connect()).execute(
        text("SELECT username, display_name, ARRAY(SELECT r.name FROM user_roles ur "
             "JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id) AS roles "
             "FROM users u WHERE id = :id"), {"id": user_id}).one()
    access = SessionAccess(store, bind, workstation)
    access.set_actor(store.create(user_id=user_id, username=row.username,
                                  display_name=row.display_name, roles=row.roles,
                                  permissions=Authorizer(bind).permissions(user_id),
                                  workstation=workstation))
    return access

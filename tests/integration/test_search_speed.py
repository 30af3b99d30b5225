"""Migration 0015's cheaper session check, seen from the desk: asking whether the session
is live (every service call does, before every search) takes no lock, so a search is not
held up by another transaction holding the session's row; and the database still refuses
what it refused before (the attack tests say so in detail; here, the session check's three
answers through search itself). A search checks the session in its own transaction, and
the pool takes no round trip to check a connection before each use. A connection prepares
and plans each of the search's statements once, however many searches use it.

Real PostgreSQL through the app's own login and real signed-in sessions.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import text

from backend_client.accounts.access import SystemAccess
from backend_client.accounts.service import AccountService
from backend_client.accounts.signin import SessionServices, build_session_services
from backend_client.backend import Backend
from backend_client.dto import PatientDraft
from backend_client.errors import SessionEnded, WorkstationLocked
from backend_client.patients.service import PatientService
from backend_client.stores.postgres.engine import build_engine
from backend_client.uow import named_session, unit_of_work
from tests.clock import DatabaseTime
from tests.integration.conftest import FAST

PASSWORD = "quiet reception lantern 44"


@dataclass
class Desk:
    services: SessionServices
    username: str
    user_id: int


@pytest.fixture
def desk(backend: Backend) -> Iterator[Desk]:
    tag = uuid.uuid4().hex[:8]
    accounts = AccountService(backend.owner_engine, hashing=FAST)
    user = accounts.add_user(f"recep{tag}", f"Reception {tag}", PASSWORD, ["receptionist"])
    services = build_session_services(backend.engine, backend.mongo_db,
                                      workstation=f"desk-{tag}")
    services.signin.sign_in(user.username, PASSWORD)
    yield Desk(services, user.username, user.id)
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = :u"), {"u": user.id})
        conn.execute(text("UPDATE users SET is_active = false WHERE id = :u"), {"u": user.id})


def test_a_search_is_not_held_up_by_a_lock_on_the_session(backend: Backend,
                                                          desk: Desk) -> None:
    """Before 0015 every peek locked the session's row (and so was a write that waited for
    the log to reach the disk at commit); a transaction holding that row (a sign-in, an
    unlock, a lock elsewhere) then held up every search until it ended."""
    search = PatientService(backend.engine, desk.services.access)
    with backend.owner_engine.begin() as holder:
        holder.execute(text("SELECT 1 FROM app_sessions WHERE user_id = :u FOR UPDATE"),
                       {"u": desk.user_id})
        t0 = time.monotonic()
        page = search.search("zzqxnotaname")
        waited = time.monotonic() - t0
    assert page.items == ()
    # The app's statements give up after a few seconds; a peek that waited for the lock
    # would have failed, not merely been slow.
    assert waited < 2.0


def test_the_session_check_still_decides_what_the_app_sees(backend: Backend,
                                                          desk: Desk) -> None:
    """Under the app's login: a live session reads what its person may (the directory) and
    not what they may not (reception has no ``audit.report``); a made-up token, no token,
    or a signed-out session reads nothing; each statement checks again."""
    actor = desk.services.access.actor
    assert actor is not None
    token = actor.token
    users = text("SELECT count(*) FROM users")
    audit = text("SELECT count(*) FROM audit_events")
    with backend.owner_engine.connect() as conn:
        assert conn.execute(audit).scalar_one() > 0  # her sign-in, at least
    with unit_of_work(backend.engine, token=token) as uow:
        assert uow.session.execute(users).scalar_one() > 0
        assert uow.session.execute(audit).scalar_one() == 0
    for other in ("not a session", None):
        with unit_of_work(backend.engine, token=other) as uow:
            assert uow.session.execute(users).scalar_one() == 0
    with unit_of_work(backend.engine, token=token) as uow:
        assert uow.session.execute(users).scalar_one() > 0
        desk.services.signin.sign_out()   # another connection ends the session
        assert uow.session.execute(users).scalar_one() == 0


def test_a_search_says_why_the_session_cannot_search(backend: Backend, desk: Desk) -> None:
    """The session is checked in the search's own transaction: a desk left idle past its
    limit is told it is locked (the lock the database decides is kept and audited once,
    however often she searches), a revoked session that it has ended."""
    search = PatientService(backend.engine, desk.services.access)
    assert search.search("zzqxnotaname").items == ()
    DatabaseTime(backend.owner_engine, [desk.user_id]).advance(minutes=11, seconds=1)
    for _ in range(2):
        with pytest.raises(WorkstationLocked):
            search.search("zzqxnotaname")
    actor = desk.services.access.actor
    assert actor is not None
    with backend.owner_engine.begin() as conn:
        locks = conn.execute(text(
            "SELECT details->>'reason' FROM audit_events WHERE action = 'session.lock' "
            "AND object_id = :s"), {"s": actor.session_id}).scalars().all()
        assert locks == ["server"]
        conn.execute(text("UPDATE app_sessions SET state = 'revoked' WHERE id = :s"),
                     {"s": actor.session_id})
    with pytest.raises(SessionEnded):
        search.search("zzqxnotaname")


def test_a_unit_of_work_names_the_session_in_every_transaction(backend: Backend,
                                                               desk: Desk) -> None:
    """The session is named per transaction: after a commit too (a service reads back what
    it saved), and never carried over to the next unit on the same pooled connection."""
    actor = desk.services.access.actor
    assert actor is not None
    for peek in (False, True):  # a unit that reads the session's state as it names it
        with unit_of_work(backend.engine, token=actor.token, peek=peek) as uow:
            assert uow.session_state() == ("active" if peek else None)
            assert named_session(uow.session.connection()) == actor.token
            uow.commit()
            assert named_session(uow.session.connection()) == actor.token
            assert uow.session.execute(text("SELECT count(*) FROM users")).scalar_one() > 0
        with unit_of_work(backend.engine) as uow:
            assert named_session(uow.session.connection()) == ""


def test_only_a_unit_that_asks_plans_without_the_values(backend: Backend, desk: Desk) -> None:
    """``generic_plans`` holds for each transaction of the unit that asked (after a commit
    too), with a session or without, and for no other unit on the same connection."""
    actor = desk.services.access.actor
    assert actor is not None
    mode = text("SELECT current_setting('plan_cache_mode')")
    for token in (actor.token, None):
        with unit_of_work(backend.engine, token=token, generic_plans=True) as uow:
            assert uow.session.execute(mode).scalar_one() == "force_generic_plan"
            uow.commit()
            assert uow.session.execute(mode).scalar_one() == "force_generic_plan"
        with unit_of_work(backend.engine, token=token) as uow:
            assert uow.session.execute(mode).scalar_one() == "auto"


def test_searches_carry_on_when_the_server_ends_the_apps_connections(
        backend: Backend, desk: Desk) -> None:
    """A pooled connection that the server ended while it sat idle (a restart, an
    administrator's pg_terminate_backend) is replaced when it is next taken from the pool:
    the search after it works, and nobody sees the database as unavailable."""
    engine = build_engine(backend.engine.url.render_as_string(hide_password=False),
                          timeout_seconds=3.0, pool_size=2, labels=backend.labels["postgres"])
    try:
        search = PatientService(engine, desk.services.access)
        pid = text("SELECT pg_backend_pid()")
        for _ in range(2):
            assert search.search("zzqxnotaname").items == ()
            with engine.connect() as conn:  # the pool's one connection, used in turn
                before = conn.execute(pid).scalar_one()
            with backend.owner_engine.begin() as owner:
                owner.execute(text("SELECT pg_terminate_backend(:p, 5000)"), {"p": before})
            assert search.search("zzqxnotaname").items == ()
            with engine.connect() as conn:
                assert conn.execute(pid).scalar_one() != before
    finally:
        engine.dispose()


def test_a_connection_plans_each_search_statement_once(backend: Backend, desk: Desk) -> None:
    """Two people's names searched three times each on one pooled connection: the band
    statement is one text for both (it depends on the query's shape, not its words), the
    connection prepared it once and kept it from one search to the next (each search's
    transaction commits: psycopg forgets prepared statements when one rolls back), and the
    server planned it once, without the values (a generic plan), and reused that plan."""
    families = ["Pl" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:8])
                for _ in range(2)]
    registry = PatientService(backend.owner_engine, SystemAccess("ws-plans"))
    ids = [registry.register(PatientDraft(given_name="Odile", family_name=family,
                                          birth_date=date(1970, 1, 2), sex="female")).id
           for family in families]
    engine = build_engine(backend.engine.url.render_as_string(hide_password=False),
                          timeout_seconds=3.0, pool_size=1, labels=backend.labels["postgres"])
    try:
        search = PatientService(engine, desk.services.access)
        for _ in range(3):
            for pid, family in zip(ids, families, strict=True):
                assert [p.id for p in search.search(f"odile {family}").items] == [pid]
        with engine.connect() as conn:  # the pool's one connection, the searches' own
            plans = conn.execute(text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%patient_name_pairs%' "
                "AND statement LIKE '%today AS MATERIALIZED%'")).all()
        assert [tuple(row) for row in plans] == [(6, 0)]
    finally:
        engine.dispose()
        with backend.owner_engine.begin() as conn:
            conn.execute(text("DELETE FROM patients WHERE id = ANY(:ids)"), {"ids": ids})

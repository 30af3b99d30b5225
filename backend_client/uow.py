"""Unit of work: one Session per operation and per thread; rolls back unless committed.

Repositories never commit; the service calls ``commit()`` when the whole operation has
succeeded (cosmicpython ``unit_of_work.py``). Connection failures become ``Unavailable``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from backend_client.errors import Unavailable

if TYPE_CHECKING:
    from backend_client.sync.events import ChangeEvent, ChangePublisher

DB_DOWN = "The clinic database cannot be reached right now; try again in a moment."


_NAME_SESSION = text("SELECT set_config('dra.token', :token, true)")
_NAMED = text("SELECT coalesce(current_setting('dra.token', true), '')")


def name_session(conn: Connection, token: str) -> None:
    """This transaction acts for the session ``token`` (until it ends)."""
    conn.execute(_NAME_SESSION, {"token": token})


def named_session(conn: Connection) -> str:
    """The session this transaction names ('' for none)."""
    return str(conn.execute(_NAMED).scalar_one())


# Session.info keys: the signed-in session a unit's transactions name; whether the first
# transaction also reads that session's state (one statement for both), and that state;
# whether each transaction plans its statements once per connection (``generic_plans``).
TOKEN, PEEK, STATE, GENERIC = "dra.token", "dra.peek", "dra.state", "dra.generic"
_NAME_AND_PEEK = "SELECT set_config('dra.token', :token, true), dra_session(:token, 'peek')"
_GENERIC = "set_config('plan_cache_mode', 'force_generic_plan', true)"
_BEGINS = {(peek, generic): text((_NAME_AND_PEEK if peek else _NAME_SESSION.text)
                                 + (f", {_GENERIC}" if generic else ""))
           for peek in (False, True) for generic in (False, True)}
_GENERIC_ALONE = text(f"SELECT {_GENERIC}")  # a unit without a session


class UnitSession(Session):
    """A unit of work's Session: each of its transactions, the ones after a commit too (a
    service reads back what it saved), begins by naming ``info[TOKEN]`` when there is one;
    the setting is transaction-local."""


@event.listens_for(UnitSession, "after_begin")
def _name_on_begin(session: Session, _transaction: object, connection: Connection) -> None:
    token = session.info.get(TOKEN)
    generic = bool(session.info.get(GENERIC))
    if token is None:
        if generic:
            connection.execute(_GENERIC_ALONE)
        return
    peek = bool(session.info.pop(PEEK, False))
    row = connection.execute(_BEGINS[peek, generic], {"token": token}).one()
    if peek:
        session.info[STATE] = str(row[1])


class UnitOfWork:
    """Args:
        bind: the Engine; or, in tests, a Connection inside an outer transaction that the
            test rolls back (each commit here then only releases a savepoint).
        token: the signed-in session this work is done for. The transaction names it
            first, and the database lets the app's login do only what that session's
            person may (row-level security, migration 0007). None: the schema owner's
            tools, or calls that need no session (signing in).
        publisher: where the change events ``announce``d in this unit go, after each
            successful ``commit()`` (the sync layer, backend_client/sync/events.py).
        peek: the first transaction also reads the session's state, in the statement
            that names it (``session_state``; accounts/access.py ``checked_work``).
        generic_plans: each transaction plans a statement without its values (PostgreSQL's
            ``plan_cache_mode = force_generic_plan``), so that a prepared statement is
            planned once per connection, not at every execution. For statements whose
            best plan does not depend on the values (patient search, patients/search.py,
            which says where it does and asks for a custom plan there).
    """

    def __init__(self, bind: Engine | Connection, token: str | None = None,
                 publisher: ChangePublisher | None = None, *, peek: bool = False,
                 generic_plans: bool = False) -> None:
        self._bind = bind
        self._peek = peek
        self._generic = generic_plans
        self._token = token
        self._restore: str | None = None
        self._publisher = publisher
        self._announced: list[ChangeEvent] = []
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        if self._token is not None and isinstance(self._bind, Connection):
            # A test's shared connection: put back what was there afterwards.
            self._restore = named_session(self._bind)
        # A Session made directly: a sessionmaker per unit made a class each time, and
        # listening on each Session instance copied its events; 0.3 ms of every unit.
        self.session = UnitSession(self._bind, expire_on_commit=False,
                                   join_transaction_mode="create_savepoint",
                                   info={TOKEN: self._token, PEEK: self._peek,
                                         GENERIC: self._generic})
        return self

    def session_state(self) -> str | None:
        """With ``peek``: the session's state as the unit's first transaction began (it
        begins now if it has not yet): "active", "locked", ... as ``dra_session`` says
        (migration 0015); a lock the database decides then lasts as long as the
        transaction. None without ``peek`` or a token."""
        self.session.connection()
        return self.session.info.get(STATE)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            if self._restore is not None and isinstance(self._bind, Connection):
                name_session(self._bind, self._restore)
        if isinstance(exc, OperationalError) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated
        ):
            raise Unavailable("postgres", DB_DOWN) from exc

    def announce(self, *events: ChangeEvent) -> None:
        """Change events to publish once this unit's writes are committed (dropped if it
        rolls back): other workstations hear of a change only after it is there."""
        self._announced.extend(events)

    def commit(self) -> None:
        self.session.commit()
        events, self._announced = self._announced, []
        if events and self._publisher is not None:
            self._publisher.publish(events)


@contextmanager
def unit_of_work(bind: Engine | Connection, *, token: str | None = None,
                 publisher: ChangePublisher | None = None,
                 peek: bool = False, generic_plans: bool = False) -> Iterator[UnitOfWork]:
    with UnitOfWork(bind, token, publisher, peek=peek, generic_plans=generic_plans) as uow:
        yield uow

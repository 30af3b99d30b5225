"""Unit of work: one Session per operation and per thread; rolls back unless committed.

Repositories never commit; the service calls ``commit()`` when the whole operation has
succeeded (cosmicpython ``unit_of_work.py``). Connection failures become ``Unavailable``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend_client.errors import Unavailable

DB_DOWN = "The clinic database cannot be reached right now; try again in a moment."


class UnitOfWork:
    """Args:
        bind: the Engine; or, in tests, a Connection inside an outer transaction that the
            test rolls back (each commit here then only releases a savepoint).
    """

    def __init__(self, bind: Engine | Connection) -> None:
        self._factory = sessionmaker(bind, expire_on_commit=False,
                                     join_transaction_mode="create_savepoint")
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, OperationalError) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated
        ):
            raise Unavailable("postgres", DB_DOWN) from exc

    def commit(self) -> None:
        self.session.commit()


@contextmanager
def unit_of_work(bind: Engine | Connection) -> Iterator[UnitOfWork]:
    with UnitOfWork(bind) as uow:
        yield uow

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Connection

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
    return PatientService(db, today=lambda: TODAY)

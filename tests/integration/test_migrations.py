"""Alembic builds the schema from empty, round-trips, and matches the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from backend_client.backend import Backend
from backend_client.stores.mongo import setup as mongo_setup
from backend_client.stores.postgres import migrate
from backend_client.stores.postgres.models import Base
from tests.integration.conftest import scratch_database


@pytest.fixture
def empty_db(backend: Backend) -> Iterator[Engine]:
    """A fresh database on the real server, as its owner; dropped afterwards."""
    with scratch_database(backend, "mig", revision=None) as engine:
        yield engine


def test_upgrade_downgrade_upgrade(empty_db: Engine) -> None:
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()
    assert "clinic_settings" in inspect(empty_db).get_table_names()
    migrate.downgrade(empty_db, "base")
    assert migrate.current_revision(empty_db) is None
    assert "clinic_settings" not in inspect(empty_db).get_table_names()
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()


def test_models_match_the_migrated_schema(empty_db: Engine) -> None:
    migrate.upgrade(empty_db)
    with empty_db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_mongo_setup_is_versioned_and_idempotent(backend: Backend) -> None:
    db = backend.owner_mongo[f"setup_{uuid.uuid4().hex[:8]}"]
    try:
        assert mongo_setup.apply(db) == [v for v, _, _ in mongo_setup.STEPS]
        assert mongo_setup.apply(db) == []
        # A crash after a step but before it was recorded: the step runs again, harmlessly.
        db["dra_schema"].delete_many({})
        assert mongo_setup.apply(db) == [v for v, _, _ in mongo_setup.STEPS]
        names = {i["name"] for i in db["clinic_meta"].list_indexes()}
        assert "key_unique" in names
    finally:
        backend.owner_mongo.drop_database(db.name)

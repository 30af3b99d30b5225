"""Bring PostgreSQL and MongoDB to the schema this version of the app expects."""

from __future__ import annotations

from dataclasses import dataclass

from backend_client.backend import Backend
from backend_client.stores.mongo import setup as mongo_setup
from backend_client.stores.postgres import migrate as pg_migrate


@dataclass(frozen=True)
class MigrationReport:
    postgres_before: str | None
    postgres_after: str | None
    mongo_applied: list[int]


def migrate(backend: Backend) -> MigrationReport:
    """Apply what is missing. PostgreSQL as the schema's owner: the app's login may not
    create or alter tables."""
    ensure_bucket = getattr(backend.objects, "ensure_bucket", None)
    if ensure_bucket is not None:
        ensure_bucket()
    owner = backend.owner_engine
    before = pg_migrate.current_revision(owner)
    pg_migrate.upgrade(owner)
    after = pg_migrate.current_revision(owner)
    # Collections, validators and indexes as MongoDB's owner; then the app's own user may
    # work with the documents, and only that.
    # Under the stores' own timeouts: a MongoDB that does not answer is reported, not
    # waited for (pymongo.timeout would stretch server selection as well).
    applied = mongo_setup.apply(backend.owner_mongo_db)
    app_user = backend.mongo_app_user
    if backend.owner_mongo is not None and app_user:
        mongo_setup.grant_app_user(backend.owner_mongo_db, app_user)
    return MigrationReport(before, after, applied)

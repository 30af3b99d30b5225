"""Apply Alembic migrations programmatically (the app, the admin CLI and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


# int.from_bytes(b"DRAMIGRT", "big"): two app instances starting on one new database
# (or the app beside 'dr-assistant-admin migrate') apply the migrations once, in turn.
MIGRATION_LOCK = 4923069142867071572


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        # Held to the end of the transaction, which (DDL being transactional) is the end
        # of the upgrade: the second caller then finds nothing left to do.
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()

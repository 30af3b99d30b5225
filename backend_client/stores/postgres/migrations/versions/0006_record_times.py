"""Times of record come from the database, never from a workstation.

- An audit event's ``occurred_at`` is stamped by the chain trigger with
  ``clock_timestamp()`` while it holds the chain lock, whatever the client sent. Events
  are then in time order in id order, whichever workstation wrote them and whatever its
  clock says, and nobody can append an event dated in the past.
- Every ``created_at`` and ``updated_at`` is stamped with ``now()`` (the transaction's time)
  by triggers, whatever a client sends: on INSERT both; on an UPDATE that names
  ``updated_at`` it becomes now() (even if the client sent the old value, so a change cannot
  be hidden), and one that names ``created_at`` keeps the old value. A client decides that a
  change counts as an update (a password rehash at sign-in does not), never when anything
  happened. A table created later adds the same triggers in its migration:
  ``CREATE TRIGGER <table>_created_at BEFORE INSERT OR UPDATE OF created_at ON <table>
  FOR EACH ROW EXECUTE FUNCTION stamp_created_at()`` and likewise ``<table>_updated_at``
  ``... OF updated_at ... stamp_updated_at()``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# int.from_bytes(b"DRAAUDIT", "big"), as in 0003.
CHAIN_LOCK = 4923069091528591700


def _chain_function(stamp: bool) -> str:
    # The whole body again (CREATE OR REPLACE takes no less); not imported from 0003,
    # because a migration is a frozen record and must not change when another one does.
    stamp_line = "NEW.occurred_at := clock_timestamp();" if stamp else ""
    return f"""
        CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            last_id bigint;
            last_hash bytea;
        BEGIN
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                RAISE EXCEPTION 'audit events must be written in a READ COMMITTED transaction'
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
            -- Under the lock, so that time order and chain order are one order.
            {stamp_line}
            -- A volatile function's query takes a fresh snapshot in READ COMMITTED, so
            -- this sees the event the previous lock holder committed.
            SELECT id, hash INTO last_id, last_hash
              FROM audit_events ORDER BY id DESC LIMIT 1;
            IF last_id IS NULL THEN
                last_hash := decode(repeat('00', 32), 'hex');
            ELSIF NEW.id <= last_id THEN
                NEW.id := nextval(pg_get_serial_sequence('audit_events', 'id'));
                IF NEW.id <= last_id THEN
                    RAISE EXCEPTION 'audit_events id sequence is behind the table';
                END IF;
            END IF;
            NEW.prev_hash := last_hash;
            NEW.hash := sha256(coalesce(last_hash, ''::bytea) || audit_event_canonical(NEW));
            RETURN NEW;
        END $$
    """


STAMPED = ("created_at", "updated_at")


def _tables_with(column: str) -> list[str]:
    rows = op.get_bind().execute(sa.text(
        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = current_schema() AND c.column_name = :c "
        "AND t.table_type = 'BASE TABLE' ORDER BY c.table_name"), {"c": column})
    return [str(r[0]) for r in rows]


def upgrade() -> None:
    op.execute(_chain_function(stamp=True))
    op.execute("""
        CREATE FUNCTION stamp_created_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                NEW.created_at := now();
            ELSE
                NEW.created_at := OLD.created_at;
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE FUNCTION stamp_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END $$
    """)
    for column in STAMPED:
        for table in _tables_with(column):
            op.execute(f'CREATE TRIGGER "{table}_{column}" BEFORE INSERT OR UPDATE OF {column} '
                       f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION stamp_{column}()')


def downgrade() -> None:
    for column in STAMPED:
        for table in _tables_with(column):
            op.execute(f'DROP TRIGGER IF EXISTS "{table}_{column}" ON "{table}"')
        op.execute(f"DROP FUNCTION stamp_{column}()")
    op.execute(_chain_function(stamp=False))

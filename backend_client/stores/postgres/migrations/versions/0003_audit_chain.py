"""The audit trail's hash chain and the app's database role.

The chain is computed by the database, in a BEFORE INSERT trigger, so no client can skip
or forge it: each event's ``prev_hash`` is the previous event's ``hash`` (32 zero bytes
for the first event) and

    hash = sha256(prev_hash || canonical(event))

where ``canonical`` is the concatenation of netstrings (``<byte length>:<UTF-8 bytes>,``)
of, in this order: the tag ``dra-audit-v1``, id, occurred_at in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``, user_id (decimal, empty when NULL), workstation,
patient_id (decimal, empty when NULL), action, object_type, object_id, and
``details::text`` (jsonb's own normalised text). ``backend_client.audit.service`` mirrors
it for ``audit verify``.

Appends are serialised by a transaction-scoped advisory lock, and an event that got its id
before a concurrent writer committed a larger one is renumbered under the lock, so the
chain in id order is one line. The trigger refuses transactions that are not READ
COMMITTED: under a snapshot taken before the lock it would not see the last event and
would fork the chain.

``dra_app`` is the role the app should run as (granted to its login role by the DBA): it
may read and write the ordinary tables but only SELECT and INSERT the audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "dra_app"
# int.from_bytes(b"DRAAUDIT", "big"): the one lock every audit append takes.
CHAIN_LOCK = 4923069091528591700


def upgrade() -> None:
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                BEGIN
                    CREATE ROLE {APP_ROLE} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;  -- another database on this server created it meanwhile
                END;
            END IF;
        END $$
    """)
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
               f"TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {APP_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {APP_ROLE}")

    op.execute("""
        CREATE FUNCTION audit_netstring(t text) RETURNS bytea
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT convert_to(octet_length(convert_to(t, 'UTF8'))::text || ':', 'UTF8')
                   || convert_to(t, 'UTF8') || convert_to(',', 'UTF8')
        $$
    """)
    op.execute("""
        CREATE FUNCTION audit_event_canonical(e audit_events) RETURNS bytea
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT audit_netstring('dra-audit-v1')
                || audit_netstring(e.id::text)
                || audit_netstring(to_char(e.occurred_at AT TIME ZONE 'UTC',
                                           'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                || audit_netstring(coalesce(e.user_id::text, ''))
                || audit_netstring(e.workstation)
                || audit_netstring(coalesce(e.patient_id::text, ''))
                || audit_netstring(e.action)
                || audit_netstring(e.object_type)
                || audit_netstring(e.object_id)
                || audit_netstring(e.details::text)
        $$
    """)
    op.execute(f"""
        CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            last_id bigint;
            last_hash bytea;
        BEGIN
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                RAISE EXCEPTION 'audit events must be written in a READ COMMITTED transaction'
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
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
    """)
    op.execute("""
        CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_chain()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_events_chain ON audit_events")
    op.execute("DROP FUNCTION audit_events_chain()")
    op.execute("DROP FUNCTION audit_event_canonical(audit_events)")
    op.execute("DROP FUNCTION audit_netstring(text)")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA public FROM {APP_ROLE}")
    # The role belongs to the server, not this database: drop it only when no other
    # database still grants it anything.
    op.execute(f"""
        DO $$ BEGIN
            DROP ROLE IF EXISTS {APP_ROLE};
        EXCEPTION WHEN dependent_objects_still_exist THEN
            NULL;
        END $$
    """)

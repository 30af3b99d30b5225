"""The live-session check costs a fraction of what it did (issue 13, search speed).

Row-level security asks ``(SELECT dra_can('…'))`` of every table a statement names: one
InitPlan per mention, so a search statement that names the name index twenty times asks
twenty times. Each ask was a chain of SQL-language functions (``dra_can`` →
``dra_session_user`` → ``dra__session``), SECURITY DEFINER with their own search_path, so
PostgreSQL could not inline them and parsed and planned each body afresh on every call:
about 0.35 ms per ask, half of a one-word search at 1,000,000 patients.

The same functions are now PL/pgSQL, which keeps each body's plan for the connection's
life: an ask costs about 0.03 ms. What they decide is unchanged, word for word: the session
named by ``dra.token`` (by the sha256 of the token), live only if ``dra__judge`` says
'active' on ``clock_timestamp()`` at that moment, and a permission only through that
person's roles. They stay STABLE (they read with the statement's snapshot, as before),
SECURITY DEFINER with ``search_path = public, pg_temp``, owned by the schema's owner, and
executable by whom they were before (CREATE OR REPLACE keeps the grants). Nothing is cached
between statements or kept anywhere the app's login could write: each ask looks again.

``dra_treats``, ``dra_glass_broken`` and ``dra_may_open`` (per row of a clinical table,
e.g. the "seen recently" column a clinician's search reads) get the same treatment.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"

# The session's token, hashed as app_sessions keeps it.
_TOKEN_HASH = ("sha256(convert_to(coalesce(current_setting('dra.token', true), ''), "
               "'UTF8'))")

PLPGSQL = [
    f"""
    CREATE OR REPLACE FUNCTION dra__session() RETURNS app_sessions
    LANGUAGE plpgsql STABLE {DEFINER} AS $$
    DECLARE
        s app_sessions;
    BEGIN
        -- No row: every field NULL, which dra__judge calls 'ended' (as before).
        SELECT * INTO s FROM app_sessions WHERE token_hash = {_TOKEN_HASH};
        RETURN s;
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_session_user() RETURNS bigint
    LANGUAGE plpgsql STABLE {DEFINER} AS $$
    DECLARE
        s app_sessions;
    BEGIN
        SELECT * INTO s FROM app_sessions WHERE token_hash = {_TOKEN_HASH};
        IF s.id IS NOT NULL AND dra__judge(s, clock_timestamp()) = 'active' THEN
            RETURN s.user_id;
        END IF;
        RETURN NULL;
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_session_workstation() RETURNS text
    LANGUAGE plpgsql STABLE {DEFINER} AS $$
    DECLARE
        s app_sessions;
    BEGIN
        SELECT * INTO s FROM app_sessions WHERE token_hash = {_TOKEN_HASH};
        IF s.id IS NOT NULL AND dra__judge(s, clock_timestamp()) = 'active' THEN
            RETURN s.workstation::text;
        END IF;
        RETURN NULL;
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_can(p_permission text) RETURNS boolean
    LANGUAGE plpgsql STABLE {DEFINER} AS $$
    DECLARE
        who bigint := dra_session_user();
    BEGIN
        RETURN who IS NOT NULL AND EXISTS (
            SELECT 1 FROM role_permissions rp JOIN user_roles ur ON ur.role_id = rp.role_id
             WHERE ur.user_id = who AND rp.permission = p_permission);
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_treats(p_patient bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE {DEFINER} AS $$
    DECLARE
        who bigint := dra_session_user();
    BEGIN
        -- An encounter (an arrival opened it, or a clinician started one), not a
        -- booking: bookings are the desk's to make (0009).
        RETURN who IS NOT NULL AND EXISTS (
            SELECT 1 FROM encounters e JOIN providers p ON p.id = e.provider_id
             WHERE e.patient_id = p_patient AND e.status <> 'cancelled'
               AND p.user_id = who);
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_glass_broken(p_patient bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE {DEFINER} AS $$
    BEGIN
        RETURN EXISTS (SELECT 1 FROM session_glass g
                        WHERE g.session_id = (SELECT s.id FROM app_sessions s
                                               WHERE s.token_hash = {_TOKEN_HASH})
                          AND g.patient_id = p_patient);
    END $$""",
    # A peek (every service call asks it first) no longer locks the session's row: a lock
    # is a write, and a transaction that wrote waits for the log to reach the disk when it
    # commits (milliseconds, on every search). Only a change of state takes the lock, and
    # judges again under it, as before.
    f"""
    CREATE OR REPLACE FUNCTION dra_session(p_token text, p_mode text, p_reason text DEFAULT '')
    RETURNS text LANGUAGE plpgsql {DEFINER} AS $$
    DECLARE
        now timestamptz := clock_timestamp();
        s app_sessions;
        judged text;
    BEGIN
        IF p_mode = 'peek' THEN
            SELECT * INTO s FROM app_sessions
             WHERE token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8'));
            judged := dra__judge(s, now);
            IF judged IN ('ended', 'revoked', 'expired') THEN
                RETURN judged;
            END IF;
            IF NOT (judged = 'locked' AND s.state = 'active') THEN
                RETURN s.state;
            END IF;
        END IF;
        SELECT * INTO s FROM app_sessions
         WHERE token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8')) FOR UPDATE;
        judged := dra__judge(s, now);
        IF judged IN ('ended', 'revoked', 'expired') THEN
            RETURN judged;
        END IF;
        IF judged = 'locked' AND s.state = 'active' THEN
            UPDATE app_sessions SET state = 'locked', changed_at = now, locked_by = 'server'
             WHERE id = s.id;
            PERFORM dra__audit('session.lock', s.user_id, s.workstation, NULL, 'session',
                               s.id, jsonb_build_object('reason', 'server'));
            RETURN 'locked';
        END IF;
        IF p_mode = 'touch' AND s.state = 'active' THEN
            UPDATE app_sessions SET last_seen = now WHERE id = s.id;
        ELSIF p_mode = 'lock' AND s.state = 'active' THEN
            UPDATE app_sessions SET state = 'locked', changed_at = now, locked_by = 'user'
             WHERE id = s.id;
            PERFORM dra__audit('session.lock', s.user_id, s.workstation, NULL, 'session',
                               s.id, jsonb_build_object('reason',
                                                        left(coalesce(p_reason, ''), 40)));
            RETURN 'locked';
        END IF;
        RETURN s.state;
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_may_open(p_patient bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE {DEFINER} AS $$
    BEGIN
        RETURN NOT coalesce((SELECT restricted FROM patients WHERE id = p_patient), false)
            OR dra_treats(p_patient) OR dra_glass_broken(p_patient);
    END $$""",
]

# What 0007 and 0009 made, for the downgrade.
SQL_LANGUAGE = [
    f"""
    CREATE OR REPLACE FUNCTION dra_session(p_token text, p_mode text, p_reason text DEFAULT '')
    RETURNS text LANGUAGE plpgsql {DEFINER} AS $$
    DECLARE
        now timestamptz := clock_timestamp();
        s app_sessions;
        judged text;
    BEGIN
        SELECT * INTO s FROM app_sessions
         WHERE token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8')) FOR UPDATE;
        judged := dra__judge(s, now);
        IF judged IN ('ended', 'revoked', 'expired') THEN
            RETURN judged;
        END IF;
        IF judged = 'locked' AND s.state = 'active' THEN
            UPDATE app_sessions SET state = 'locked', changed_at = now, locked_by = 'server'
             WHERE id = s.id;
            PERFORM dra__audit('session.lock', s.user_id, s.workstation, NULL, 'session',
                               s.id, jsonb_build_object('reason', 'server'));
            RETURN 'locked';
        END IF;
        IF p_mode = 'touch' AND s.state = 'active' THEN
            UPDATE app_sessions SET last_seen = now WHERE id = s.id;
        ELSIF p_mode = 'lock' AND s.state = 'active' THEN
            UPDATE app_sessions SET state = 'locked', changed_at = now, locked_by = 'user'
             WHERE id = s.id;
            PERFORM dra__audit('session.lock', s.user_id, s.workstation, NULL, 'session',
                               s.id, jsonb_build_object('reason',
                                                        left(coalesce(p_reason, ''), 40)));
            RETURN 'locked';
        END IF;
        RETURN s.state;
    END $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra__session() RETURNS app_sessions
    LANGUAGE sql STABLE {DEFINER} AS $$
        SELECT s.* FROM app_sessions s WHERE s.token_hash = {_TOKEN_HASH}
    $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_session_user() RETURNS bigint
    LANGUAGE sql STABLE {DEFINER} AS $$
        SELECT s.user_id FROM dra__session() s
         WHERE dra__judge(s, clock_timestamp()) = 'active'
    $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_session_workstation() RETURNS text
    LANGUAGE sql STABLE {DEFINER} AS $$
        SELECT s.workstation::text FROM dra__session() s
         WHERE dra__judge(s, clock_timestamp()) = 'active'
    $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_can(p_permission text) RETURNS boolean
    LANGUAGE sql STABLE {DEFINER} AS $$
        SELECT EXISTS (SELECT 1 FROM role_permissions rp
                         JOIN user_roles ur ON ur.role_id = rp.role_id
                        WHERE ur.user_id = dra_session_user()
                          AND rp.permission = p_permission)
    $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_treats(p_patient bigint) RETURNS boolean
    LANGUAGE sql STABLE {DEFINER} AS $$
        SELECT EXISTS (SELECT 1 FROM encounters e JOIN providers p ON p.id = e.provider_id
                        WHERE e.patient_id = p_patient AND e.status <> 'cancelled'
                          AND p.user_id = dra_session_user())
    $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_glass_broken(p_patient bigint) RETURNS boolean
    LANGUAGE sql STABLE {DEFINER} AS $$
        SELECT EXISTS (SELECT 1 FROM session_glass g
                        WHERE g.session_id = (SELECT s.id FROM dra__session() s)
                          AND g.patient_id = p_patient)
    $$""",
    f"""
    CREATE OR REPLACE FUNCTION dra_may_open(p_patient bigint) RETURNS boolean
    LANGUAGE sql STABLE {DEFINER} AS $$
        SELECT NOT coalesce((SELECT restricted FROM patients WHERE id = p_patient), false)
            OR dra_treats(p_patient) OR dra_glass_broken(p_patient)
    $$""",
]


def upgrade() -> None:
    for sql in PLPGSQL:
        op.execute(sql)


def downgrade() -> None:
    for sql in SQL_LANGUAGE:
        op.execute(sql)

"""The login the app connects as: a member of ``dra_app``, never the schema's owner.

Migration 0003 creates the group role ``dra_app`` and grants it what the app needs: read
and write on the ordinary tables, only SELECT and INSERT on ``audit_events``. The app
itself logs in as ``dr_assistant_app``, which has no privilege of its own: whatever it may
do comes from ``dra_app``. Migrations and the seed loader run as the owner.

On a clinic server the DBA creates the login (``CREATE ROLE … LOGIN IN ROLE dra_app``);
the embedded stack calls :func:`ensure_app_login` each time it starts.
"""

from __future__ import annotations

import psycopg
from sqlalchemy import Engine, text

APP_ROLE = "dra_app"
APP_LOGIN = "dr_assistant_app"
# int.from_bytes(b"DRAROLES", "big"): two concurrent ALTER ROLEs of one role can fail with
# "tuple concurrently updated", so callers on this database take turns.
_ROLES_LOCK = 4923069164442895699

# What reaches the server is not the password but its SCRAM-SHA-256 verifier, computed
# here by libpq (as psql's \password does): the ALTER ROLE statement that carries it shows
# up in an error's CONTEXT and so perhaps in a server log. The verifier travels as a bound
# parameter into a transaction-local setting and is quoted inside the server by
# format('%L'): it is never part of a statement the client sends, so neither SQL logging
# (the engine hides parameters) nor a quoting mistake can expose or break it. The SELECT
# returns a boolean, so no result-row logging shows it either.
_SET_VERIFIER = text(
    "SELECT set_config('dra.app_login_verifier', :verifier, true) IS NOT NULL")

_ENSURE = text(f"""
DO $$
DECLARE
    verifier text := current_setting('dra.app_login_verifier');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        BEGIN
            CREATE ROLE {APP_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another session created it meanwhile (as in migration 0003)
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_LOGIN}') THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I LOGIN INHERIT PASSWORD %L IN ROLE %I',
                           '{APP_LOGIN}', verifier, '{APP_ROLE}');
            RETURN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile: set its password and membership below
        END;
    END IF;
    EXECUTE format('ALTER ROLE %I WITH LOGIN INHERIT PASSWORD %L', '{APP_LOGIN}', verifier);
    -- A migration downgrade drops dra_app (and with it this membership) when no database
    -- still grants it anything; the next upgrade re-creates the role, not the membership.
    IF NOT pg_has_role('{APP_LOGIN}', '{APP_ROLE}', 'MEMBER') THEN
        EXECUTE format('GRANT %I TO %I', '{APP_ROLE}', '{APP_LOGIN}');
    END IF;
END $$
""")


def ensure_app_login(owner: Engine, password: str) -> None:
    """Create or update the app's login so that it exists, is a member of ``dra_app`` and
    has this password. Idempotent; processes doing it at once on one database take turns.

    Args:
        owner: an engine connected as a role that may create roles (the embedded stack's
            superuser).
        password: the login's password.
    """
    if not password:
        raise ValueError("the app login needs a password")
    with owner.begin() as conn:
        raw = conn.connection.dbapi_connection
        if not isinstance(raw, psycopg.Connection):
            raise TypeError("ensure_app_login needs a psycopg 3 engine")
        verifier = raw.pgconn.encrypt_password(password.encode(), APP_LOGIN.encode(),
                                               b"scram-sha-256").decode("ascii")
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ROLES_LOCK})
        conn.execute(_SET_VERIFIER, {"verifier": verifier})
        conn.execute(_ENSURE)

"""The database defends itself: what the app's login may do depends on a live session of a
signed-in person, checked by PostgreSQL, not by the workstation's code.

Before this, ``dr_assistant_app`` (whose password every workstation holds) could do all the
app could do for anyone: read password hashes, copy one onto another account, grant itself
roles, lift restrictions, delete patients, write without an audit event. Now (see
docs/security.md for the threat model):

- **Passwords are checked by the database.** ``users`` keeps no password hash the app can
  read: ``auth_salt``/``auth_params`` (argon2id parameters, not secret) and ``auth_key`` =
  sha256(HMAC-SHA256(argon2id(password, salt), "Client Key")), as SCRAM's StoredKey. The
  workstation derives the client key from the typed password and sends it to
  ``dra_sign_in``; only the database compares. Existing argon2id hashes are converted here
  (the argon2 output is the salted password), so nobody needs a new password.
- **Sessions live in PostgreSQL** (``app_sessions``; the workstation holds a random bearer
  token, the table only its sha256). Idle lock, absolute limit, revocation and sign-in
  cooldowns (``signin_failures``, keyed by a keyed hash of what was typed, never the text)
  are decided by PL/pgSQL functions on the database's clock.
- **Every table is behind row-level security** for the app's login. A transaction names its
  session with ``set_config('dra.token', token, true)``; policies ask ``dra_can(permission)``
  (evaluated once per statement) about the session's person. Without a live session the
  app's login reads and writes nothing. Accounts, roles, permissions, sessions and secrets
  have no write grants at all; the credential columns no read grant.
- **Writes are audited by the database**: an AFTER trigger on every clinical table appends
  an event (who, from the session; which columns changed, never their values); audit
  events the app writes itself are attributed to the session's person whatever it sends;
  ``created_by``/``updated_by`` are the session's person; a restriction is changed only by
  someone with ``patient.restrict`` (lifted only by one of the patient's clinicians);
  patients and clinical rows cannot be deleted by the app at all.

The schema's owner (migrations, the seed loader, ``dr-assistant-admin``) is the operator
and is not held by any of this; superusers never are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 20:00:00
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "dra_app"
# Sign-in rules: free failures per account and per workstation, first cooldown, its
# ceiling, and how long a quiet counter is remembered (seconds). The README states them.
FREE_ACCOUNT, FREE_WORKSTATION, FIRST_COOLDOWN, MAX_COOLDOWN, FORGET = 5, 20, 30, 900, 3600
# The server locks a session this long after the workstation's own idle limit.
GRACE = 60

# Tables by what reading and writing them needs.
DIRECTORY = ("clinic_settings", "roles", "role_permissions", "user_roles", "users",
             "providers", "provider_working_hours", "appointment_types")
DEMOGRAPHIC = ("patients", "patient_identifiers", "patient_names", "patient_contacts")
SEARCH_INDEX = ("patient_name_terms", "patient_name_pairs", "name_variants")
# clinical table -> the permission that writes it (reading needs chart.open, and a
# restricted record's rows only for its clinicians or after breaking the glass)
CLINICAL = {"alerts": "alert.write", "encounters": "note.write", "orders": "order.write",
            "prescriptions": "prescription.write", "documents": "note.write",
            "recordings": "recording.create"}
AUDITED = (*DEMOGRAPHIC, *CLINICAL, "appointments", "tasks")
PRIVATE = ("app_sessions", "session_glass", "signin_failures", "app_secrets")
USER_COLUMNS = ("id", "username", "display_name", "email", "is_active", "created_at",
                "updated_at", "version")

DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"
INVOKER = "SECURITY INVOKER SET search_path = public, pg_temp"


def _client_key_from_argon2(encoded: str) -> tuple[bytes, str, bytes] | None:
    """(salt, params, auth_key) from an argon2id hash string, or None if it is not one."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[1] != "argon2id":
        return None
    version, costs, salt_b64, hash_b64 = parts[2], parts[3], parts[4], parts[5]

    def unb64(s: str) -> bytes:
        return base64.b64decode(s + "=" * (-len(s) % 4))

    salt, raw = unb64(salt_b64), unb64(hash_b64)
    client_key = hmac.new(raw, b"Client Key", hashlib.sha256).digest()
    return salt, f"argon2id${version}${costs}${len(raw)}", hashlib.sha256(client_key).digest()


def _functions() -> list[str]:
    return [
        # ------------------------------------------------------------------ helpers
        # SECURITY INVOKER on purpose: current_user is whoever runs the statement (the
        # app's login; or the owner, inside the SECURITY DEFINER functions below).
        f"""
        CREATE FUNCTION dra__is_app() RETURNS boolean LANGUAGE sql STABLE
        SET search_path = public, pg_temp AS $$
            -- A member of dra_app (not the owner, not a superuser, not inside one of the
            -- functions below, which run as the owner).
            SELECT NOT r.rolsuper AND pg_has_role(r.oid, '{APP}', 'MEMBER')
              FROM pg_roles r WHERE r.rolname = current_user
        $$""",
        # The session named by this transaction's dra.token, if any (whatever its state).
        f"""
        CREATE FUNCTION dra__session() RETURNS app_sessions LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT s.* FROM app_sessions s
             WHERE s.token_hash = sha256(convert_to(
                       coalesce(current_setting('dra.token', true), ''), 'UTF8'))
        $$""",
        # What a session's state is now, by the database's clock (changes nothing).
        """
        CREATE FUNCTION dra__judge(s app_sessions, now timestamptz) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE
                WHEN s.id IS NULL THEN 'ended'
                WHEN s.state = 'revoked' THEN 'revoked'
                WHEN now >= s.expires_at THEN 'expired'
                WHEN s.state = 'active'
                     AND now - s.last_seen >= make_interval(secs => s.idle_seconds)
                     THEN 'locked'
                ELSE s.state END
        $$""",
        f"""
        CREATE FUNCTION dra__audit(p_action text, p_user bigint, p_workstation text,
                                   p_patient bigint, p_object_type text, p_object_id text,
                                   p_details jsonb) RETURNS void
        LANGUAGE sql {DEFINER} AS $$
            INSERT INTO audit_events (action, user_id, workstation, patient_id, object_type,
                                      object_id, details)
            VALUES (p_action, p_user, left(coalesce(p_workstation, ''), 100), p_patient,
                    coalesce(p_object_type, ''), left(coalesce(p_object_id, ''), 64),
                    coalesce(p_details, '{{}}'::jsonb))
        $$""",
        f"""
        CREATE FUNCTION dra__permissions(p_user bigint) RETURNS text[]
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT coalesce(array_agg(DISTINCT rp.permission ORDER BY rp.permission), '{{}}')
              FROM role_permissions rp JOIN user_roles ur ON ur.role_id = rp.role_id
             WHERE ur.user_id = p_user
        $$""",
        f"""
        CREATE FUNCTION dra__roles(p_user bigint) RETURNS text[]
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT coalesce(array_agg(r.name ORDER BY r.name), '{{}}')
              FROM roles r JOIN user_roles ur ON ur.role_id = r.id WHERE ur.user_id = p_user
        $$""",
        # A keyed hash: what someone typed as a user name (a password, by mistake) is
        # never stored, and cannot be recovered from the counter's key.
        f"""
        CREATE FUNCTION dra__name_key(p_text text) RETURNS text
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT encode(sha256((SELECT value FROM app_secrets WHERE name = 'name_key')
                                 || convert_to(p_text, 'UTF8')), 'hex')
        $$""",
        f"""
        CREATE FUNCTION dra__random_hex(p_uuids integer) RETURNS text
        LANGUAGE sql VOLATILE {DEFINER} AS $$
            -- gen_random_uuid() draws from the server's strong random source.
            SELECT string_agg(replace(gen_random_uuid()::text, '-', ''), '')
              FROM generate_series(1, p_uuids)
        $$""",
        # Count one attempt against both keys (before the password is checked); refuse if
        # either is cooling down. Returns seconds still refused (0: go ahead).
        f"""
        CREATE FUNCTION dra__attempt(p_keys text[], p_free integer[], p_now timestamptz)
        RETURNS double precision LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            k integer;
            f signin_failures;
            wait double precision := 0;
            locked timestamptz;
        BEGIN
            FOR k IN 1 .. array_length(p_keys, 1) LOOP
                INSERT INTO signin_failures (key, n, until, last_at)
                VALUES (p_keys[k], 0, NULL, p_now) ON CONFLICT (key) DO NOTHING;
            END LOOP;
            FOR k IN 1 .. array_length(p_keys, 1) LOOP
                SELECT * INTO f FROM signin_failures WHERE key = p_keys[k] FOR UPDATE;
                IF f.until IS NOT NULL AND f.until > p_now THEN
                    wait := greatest(wait, extract(epoch FROM f.until - p_now));
                END IF;
            END LOOP;
            IF wait > 0 THEN
                RETURN wait;
            END IF;
            FOR k IN 1 .. array_length(p_keys, 1) LOOP
                SELECT * INTO f FROM signin_failures WHERE key = p_keys[k];
                IF p_now - f.last_at > interval '{FORGET} seconds' THEN
                    f.n := 0;
                END IF;
                f.n := f.n + 1;
                locked := NULL;
                IF f.n > p_free[k] THEN
                    locked := p_now + make_interval(secs => least({MAX_COOLDOWN},
                                  {FIRST_COOLDOWN} * 2 ^ (f.n - p_free[k] - 1)));
                END IF;
                UPDATE signin_failures SET n = f.n, until = locked, last_at = p_now
                 WHERE key = p_keys[k];
            END LOOP;
            RETURN 0;
        END $$""",
        # After a checked attempt: how long the cooldown it started lasts (0 if none).
        f"""
        CREATE FUNCTION dra__cooldown(p_keys text[], p_now timestamptz)
        RETURNS double precision LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT coalesce(max(extract(epoch FROM until - p_now)), 0)
              FROM signin_failures WHERE key = ANY(p_keys) AND until > p_now
        $$""",
        # The attempt was right: forget the account's failures, give the workstation back
        # this attempt.
        f"""
        CREATE FUNCTION dra__succeeded(p_account text, p_workstation text)
        RETURNS void LANGUAGE sql {DEFINER} AS $$
            DELETE FROM signin_failures WHERE key = p_account;
            UPDATE signin_failures
               SET n = greatest(n - 1, 0),
                   until = CASE WHEN n - 1 <= {FREE_WORKSTATION} THEN NULL ELSE until END
             WHERE key = p_workstation;
        $$""",
        # ------------------------------------------------------------------ sign-in
        f"""
        CREATE FUNCTION dra_auth_params(p_username text, OUT salt bytea, OUT params text)
        LANGUAGE plpgsql STABLE {DEFINER} AS $$
        BEGIN
            SELECT u.auth_salt, u.auth_params INTO salt, params FROM users u
             WHERE u.username = lower(btrim(p_username)) AND u.auth_key IS NOT NULL;
            IF NOT FOUND THEN
                -- An unknown name gets parameters that look like a real account's, the
                -- same every time, so that asking does not tell who has an account.
                salt := substring(decode(dra__name_key('salt:' || lower(btrim(p_username))),
                                         'hex') FROM 1 FOR 16);
                params := 'argon2id$v=19$m=65536,t=3,p=4$32';
            END IF;
        END $$""",
        f"""
        CREATE FUNCTION dra_sign_in(p_username text, p_client_key bytea, p_workstation text,
                                    p_idle_seconds integer, p_max_age_seconds integer)
        RETURNS TABLE (status text, seconds_left double precision, session_id text,
                       token text, user_id bigint, username text, display_name text,
                       roles text[], permissions text[], started_at timestamptz,
                       expires_at timestamptz)
        LANGUAGE plpgsql {DEFINER} AS $$
        #variable_conflict use_column
        DECLARE
            now timestamptz := clock_timestamp();
            name text := lower(btrim(coalesce(p_username, '')));
            ws text := left(coalesce(p_workstation, ''), 100);
            keys text[] := ARRAY['user:' || dra__name_key(name), 'ws:' || dra__name_key(ws)];
            u users;
            wait double precision;
            new_token text;
            new_id text;
        BEGIN
            SELECT * INTO u FROM users WHERE users.username = name;
            wait := dra__attempt(keys, ARRAY[{FREE_ACCOUNT}, {FREE_WORKSTATION}], now);
            IF wait > 0 THEN
                PERFORM dra__audit('signin.refused', u.id, ws, NULL, 'account', '', NULL);
                RETURN QUERY SELECT 'refused', wait, NULL::text, NULL::text, NULL::bigint,
                    NULL::text, NULL::text, NULL::text[], NULL::text[], NULL::timestamptz,
                    NULL::timestamptz;
                RETURN;
            END IF;
            IF u.id IS NULL OR NOT u.is_active OR u.auth_key IS NULL OR p_client_key IS NULL
               OR sha256(p_client_key) <> u.auth_key THEN
                -- The attempted name is recorded only when it is a real account.
                PERFORM dra__audit('signin.failed', u.id, ws, NULL, 'account', '', NULL);
                RETURN QUERY SELECT 'wrong', dra__cooldown(keys, now), NULL::text,
                    NULL::text, NULL::bigint, NULL::text, NULL::text, NULL::text[],
                    NULL::text[], NULL::timestamptz, NULL::timestamptz;
                RETURN;
            END IF;
            PERFORM dra__succeeded(keys[1], keys[2]);
            IF cardinality(dra__roles(u.id)) = 0 THEN
                RETURN QUERY SELECT 'norole', 0::double precision, NULL::text, NULL::text,
                    u.id, u.username::text, u.display_name::text, NULL::text[],
                    NULL::text[], NULL::timestamptz, NULL::timestamptz;
                RETURN;
            END IF;
            new_token := dra__random_hex(2);
            new_id := left(dra__random_hex(2), 40);
            INSERT INTO app_sessions (id, token_hash, user_id, workstation, started_at,
                                      last_seen, changed_at, expires_at, idle_seconds, state)
            VALUES (new_id, sha256(convert_to(new_token, 'UTF8')), u.id, ws, now, now, now,
                    now + make_interval(secs => least(greatest(p_max_age_seconds, 3600),
                                                      86400)),
                    least(greatest(p_idle_seconds, 120), 1800) + {GRACE}, 'active');
            PERFORM dra__audit('signin', u.id, ws, NULL, 'session', new_id, NULL);
            -- Sessions that ended long ago go (a revoked one is kept a day so that its
            -- workstation learns why).
            DELETE FROM app_sessions o
             WHERE o.expires_at < now - interval '1 day'
                OR (o.state = 'revoked' AND o.changed_at < now - interval '1 day');
            RETURN QUERY SELECT 'ok', 0::double precision, new_id, new_token, u.id,
                u.username::text, u.display_name::text, dra__roles(u.id),
                dra__permissions(u.id), s.started_at, s.expires_at
              FROM app_sessions s WHERE s.id = new_id;
        END $$""",
        # peek | touch | lock: the session's state after the change. A session silent past
        # its idle limit is locked here, by the server, and that is audited once.
        f"""
        CREATE FUNCTION dra_session(p_token text, p_mode text, p_reason text DEFAULT '')
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
        CREATE FUNCTION dra_unlock(p_token text, p_client_key bytea,
                                   OUT status text, OUT seconds_left double precision)
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            now timestamptz := clock_timestamp();
            s app_sessions;
            u users;
            keys text[];
            wait double precision;
            judged text;
        BEGIN
            seconds_left := 0;
            SELECT * INTO s FROM app_sessions
             WHERE token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8')) FOR UPDATE;
            judged := dra__judge(s, now);
            IF judged IN ('ended', 'revoked', 'expired') THEN
                status := judged;
                RETURN;
            END IF;
            SELECT * INTO u FROM users WHERE id = s.user_id;
            keys := ARRAY['user:' || dra__name_key(u.username),
                          'ws:' || dra__name_key(s.workstation)];
            wait := dra__attempt(keys, ARRAY[{FREE_ACCOUNT}, {FREE_WORKSTATION}], now);
            IF wait > 0 THEN
                PERFORM dra__audit('signin.refused', u.id, s.workstation, NULL, 'account',
                                   '', NULL);
                status := 'refused';
                seconds_left := wait;
                RETURN;
            END IF;
            IF NOT u.is_active OR u.auth_key IS NULL OR p_client_key IS NULL
               OR sha256(p_client_key) <> u.auth_key THEN
                PERFORM dra__audit('session.unlock_failed', u.id, s.workstation, NULL,
                                   'account', '', jsonb_build_object('session', s.id));
                status := 'wrong';
                seconds_left := dra__cooldown(keys, now);
                RETURN;
            END IF;
            PERFORM dra__succeeded(keys[1], keys[2]);
            UPDATE app_sessions SET state = 'active', last_seen = now, changed_at = now,
                                    locked_by = ''
             WHERE id = s.id;
            PERFORM dra__audit('session.unlock', s.user_id, s.workstation, NULL, 'session',
                               s.id, NULL);
            status := 'active';
        END $$""",
        f"""
        CREATE FUNCTION dra_sign_out(p_token text, p_reason text) RETURNS boolean
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            s app_sessions;
        BEGIN
            DELETE FROM app_sessions
             WHERE token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8'))
            RETURNING * INTO s;
            IF s.id IS NULL THEN
                RETURN false;
            END IF;
            PERFORM dra__audit('signout', s.user_id, s.workstation, NULL, 'session', s.id,
                               jsonb_build_object('reason', left(coalesce(p_reason, ''), 40)));
            RETURN true;
        END $$""",
        # ------------------------------------------------------------------ the live session
        f"""
        CREATE FUNCTION dra_session_user() RETURNS bigint LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT s.user_id FROM dra__session() s
             WHERE dra__judge(s, clock_timestamp()) = 'active'
        $$""",
        f"""
        CREATE FUNCTION dra_session_workstation() RETURNS text
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT s.workstation::text FROM dra__session() s
             WHERE dra__judge(s, clock_timestamp()) = 'active'
        $$""",
        f"""
        CREATE FUNCTION dra_can(p_permission text) RETURNS boolean
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT EXISTS (SELECT 1 FROM role_permissions rp
                             JOIN user_roles ur ON ur.role_id = rp.role_id
                            WHERE ur.user_id = dra_session_user()
                              AND rp.permission = p_permission)
        $$""",
        # Has the session's person, as a clinician, an appointment or encounter with them?
        f"""
        CREATE FUNCTION dra_treats(p_patient bigint) RETURNS boolean
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT EXISTS (SELECT 1 FROM appointments a JOIN providers p ON p.id = a.provider_id
                            WHERE a.patient_id = p_patient AND p.user_id = dra_session_user())
                OR EXISTS (SELECT 1 FROM encounters e JOIN providers p ON p.id = e.provider_id
                            WHERE e.patient_id = p_patient AND p.user_id = dra_session_user())
        $$""",
        f"""
        CREATE FUNCTION dra_glass_broken(p_patient bigint) RETURNS boolean
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT EXISTS (SELECT 1 FROM session_glass g
                            WHERE g.session_id = (SELECT s.id FROM dra__session() s)
                              AND g.patient_id = p_patient)
        $$""",
        # May the session's person see this patient's clinical rows?
        f"""
        CREATE FUNCTION dra_may_open(p_patient bigint) RETURNS boolean
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT NOT coalesce((SELECT restricted FROM patients WHERE id = p_patient), false)
                OR dra_treats(p_patient) OR dra_glass_broken(p_patient)
        $$""",
        # Breaking the glass: allowed to clinicians with chart.break_glass and a reason;
        # recorded for the session, audited with the reason.
        f"""
        CREATE FUNCTION dra_break_glass(p_patient bigint, p_reason text) RETURNS boolean
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            s app_sessions := dra__session();
        BEGIN
            IF dra_session_user() IS NULL OR NOT dra_can('chart.break_glass')
               OR btrim(coalesce(p_reason, '')) = '' THEN
                RETURN false;
            END IF;
            INSERT INTO session_glass (session_id, patient_id) VALUES (s.id, p_patient)
            ON CONFLICT DO NOTHING;
            PERFORM dra__audit('chart.break_glass', s.user_id, s.workstation, p_patient,
                               'patient', p_patient::text,
                               jsonb_build_object('reason', left(btrim(p_reason), 500),
                                                  'session', s.id));
            RETURN true;
        END $$""",
        # The chain's head for anchoring it outside the database (audit/anchor.py): an id
        # and a hash, nothing about anyone.
        f"""
        CREATE FUNCTION dra_audit_head(OUT chain_id text, OUT last_id bigint,
                                       OUT head_hash bytea, OUT written_at timestamptz)
        LANGUAGE sql STABLE {DEFINER} AS $$
            SELECT encode((SELECT value FROM app_secrets WHERE name = 'chain_id'), 'hex'),
                   e.id, e.hash, clock_timestamp()
              FROM (SELECT 1) one
              LEFT JOIN LATERAL (SELECT id, hash FROM audit_events
                                  ORDER BY id DESC LIMIT 1) e ON true
        $$""",
        # ------------------------------------------------------------------ administrators
        # The caller: a session with the permission, or the operator's own tools (the
        # schema owner, with no token). A refusal is audited and changes nothing.
        f"""
        CREATE FUNCTION dra__caller(p_token text, p_permission text,
                                    OUT ok boolean, OUT user_id bigint, OUT workstation text)
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            s app_sessions;
        BEGIN
            ok := false;
            IF p_token IS NULL THEN
                IF NOT pg_has_role(session_user, '{APP}', 'MEMBER')
                   OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
                    ok := true;
                    workstation := 'admin-cli';
                END IF;
                RETURN;
            END IF;
            SELECT * INTO s FROM app_sessions
             WHERE token_hash = sha256(convert_to(p_token, 'UTF8'));
            IF dra__judge(s, clock_timestamp()) <> 'active' THEN
                RETURN;
            END IF;
            user_id := s.user_id;
            workstation := s.workstation;
            IF p_permission = ANY(dra__permissions(s.user_id)) THEN
                ok := true;
            ELSE
                PERFORM dra__audit('access.denied', s.user_id, s.workstation, NULL,
                                   'permission', p_permission, NULL);
            END IF;
        END $$""",
        f"""
        CREATE FUNCTION dra_list_sessions(p_token text)
        RETURNS TABLE (session_id text, user_id bigint, username text, display_name text,
                       roles text[], workstation text, started_at timestamptz,
                       last_seen timestamptz, expires_at timestamptz, state text)
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            c record := dra__caller(p_token, 'session.revoke');
        BEGIN
            IF NOT c.ok THEN
                RETURN;
            END IF;
            RETURN QUERY
                SELECT s.id, s.user_id, u.username::text, u.display_name::text,
                       dra__roles(s.user_id), s.workstation::text, s.started_at, s.last_seen,
                       s.expires_at, dra__judge(s, clock_timestamp())
                  FROM app_sessions s JOIN users u ON u.id = s.user_id
                 ORDER BY s.started_at DESC;
        END $$""",
        f"""
        CREATE FUNCTION dra_revoke_session(p_token text, p_session_id text) RETURNS text
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            c record := dra__caller(p_token, 'session.revoke');
            s app_sessions;
        BEGIN
            IF NOT c.ok THEN
                RETURN 'denied';
            END IF;
            SELECT * INTO s FROM app_sessions WHERE id = p_session_id FOR UPDATE;
            IF s.id IS NULL THEN
                RETURN 'unknown';
            END IF;
            IF s.state <> 'revoked' THEN
                UPDATE app_sessions SET state = 'revoked', changed_at = clock_timestamp()
                 WHERE id = s.id;
                PERFORM dra__audit('session.revoke', c.user_id, c.workstation, NULL, 'session',
                                   s.id, jsonb_build_object('user_id', s.user_id,
                                                            'workstation', s.workstation));
            END IF;
            RETURN 'revoked';
        END $$""",
        # ------------------------------------------------------------------ triggers
        # The trigger functions run as the writer (SECURITY INVOKER), so that they can tell
        # the app's own statements from those of the functions above.
        # The live session's person, for a write the app makes; none: refused.
        f"""
        CREATE FUNCTION dra__signed_in_user() RETURNS bigint LANGUAGE plpgsql {INVOKER} AS $$
        DECLARE
            who bigint := dra_session_user();
        BEGIN
            IF who IS NULL THEN
                RAISE EXCEPTION 'no signed-in session' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN who;
        END $$""",
        # The app's writes to a tracked row are the session's person's, whatever it sends.
        f"""
        CREATE FUNCTION dra__stamp_actor() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
        DECLARE
            who bigint;
        BEGIN
            IF NOT dra__is_app() THEN
                RETURN NEW;
            END IF;
            who := dra__signed_in_user();
            NEW.updated_by := who;
            IF TG_OP = 'INSERT' THEN
                NEW.created_by := who;
            ELSE
                NEW.created_by := OLD.created_by;
            END IF;
            RETURN NEW;
        END $$""",
        # Restricting a record is for roles with patient.restrict; lifting a restriction
        # also for one of the patient's own clinicians. A new record is never restricted
        # by the app (restricting is its own, audited, act).
        f"""
        CREATE FUNCTION dra__guard_restriction() RETURNS trigger
        LANGUAGE plpgsql {INVOKER} AS $$
        BEGIN
            IF NOT dra__is_app() THEN
                RETURN NEW;
            END IF;
            IF TG_OP = 'INSERT' THEN
                IF NEW.restricted THEN
                    RAISE EXCEPTION 'a new patient cannot be registered as restricted'
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END IF;
            IF NEW.restricted IS DISTINCT FROM OLD.restricted THEN
                IF NOT dra_can('patient.restrict') THEN
                    RAISE EXCEPTION 'this role may not restrict or unrestrict a record'
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                IF NOT NEW.restricted AND NOT dra_treats(NEW.id) THEN
                    RAISE EXCEPTION 'only the clinicians who see this patient can lift the '
                                    'restriction' USING ERRCODE = 'insufficient_privilege';
                END IF;
            END IF;
            RETURN NEW;
        END $$""",
        # One audit event per row the app writes: who (from the session), which table and
        # row, and which columns changed; never the values (they are patient data).
        f"""
        CREATE FUNCTION dra__audit_row() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
        DECLARE
            old_row jsonb;
            new_row jsonb;
            changed text[];
            row_id text;
            patient bigint;
        BEGIN
            IF NOT dra__is_app() THEN
                RETURN NULL;
            END IF;
            old_row := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
            new_row := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
            IF TG_OP = 'UPDATE' THEN
                SELECT coalesce(array_agg(key ORDER BY key), '{{}}') INTO changed
                  FROM jsonb_each(new_row) n
                 WHERE n.value IS DISTINCT FROM old_row -> n.key;
            ELSE
                SELECT coalesce(array_agg(key ORDER BY key), '{{}}') INTO changed
                  FROM jsonb_object_keys(coalesce(new_row, old_row)) key;
            END IF;
            row_id := coalesce(new_row, old_row) ->> 'id';
            patient := CASE WHEN TG_TABLE_NAME = 'patients' THEN row_id::bigint
                            ELSE (coalesce(new_row, old_row) ->> 'patient_id')::bigint END;
            -- As the app: the attribution trigger names the session's person and workstation.
            INSERT INTO audit_events (action, patient_id, object_type, object_id, details)
            VALUES ('row.' || lower(TG_OP), patient, TG_TABLE_NAME,
                    left(coalesce(row_id, ''), 64),
                    jsonb_build_object('columns', to_jsonb(changed)));
            RETURN NULL;
        END $$""",
        # Events the app writes itself belong to the session's person and workstation.
        f"""
        CREATE FUNCTION dra__attribute_event() RETURNS trigger
        LANGUAGE plpgsql {INVOKER} AS $$
        DECLARE
            who bigint;
        BEGIN
            IF NOT dra__is_app() THEN
                RETURN NEW;
            END IF;
            who := dra__signed_in_user();
            NEW.user_id := who;
            NEW.workstation := coalesce(dra_session_workstation(), '');
            RETURN NEW;
        END $$""",
    ]


PUBLIC_FUNCTIONS = (
    "dra_auth_params(text)", "dra_sign_in(text, bytea, text, integer, integer)",
    "dra_session(text, text, text)", "dra_unlock(text, bytea)", "dra_sign_out(text, text)",
    "dra_session_user()", "dra_session_workstation()", "dra_can(text)", "dra__is_app()",
    "dra__signed_in_user()", "dra_treats(bigint)", "dra_glass_broken(bigint)",
    "dra_may_open(bigint)", "dra_break_glass(bigint, text)", "dra_list_sessions(text)",
    "dra_revoke_session(text, text)", "dra_audit_head()",
)


def _policies() -> list[str]:
    sql: list[str] = []
    session = "((SELECT dra_session_user()) IS NOT NULL)"

    def can(permission: str) -> str:
        return f"(SELECT dra_can('{permission}'))"

    def policy(table: str, name: str, command: str, *, using: str | None = None,
               check: str | None = None) -> None:
        clause = f" USING ({using})" if using else ""
        clause += f" WITH CHECK ({check})" if check else ""
        sql.append(f'CREATE POLICY "{name}" ON "{table}" FOR {command} TO PUBLIC{clause}')

    read_patients = f"{can('patient.search')} OR {can('patient.demographics.read')}"
    write_patients = can("patient.demographics.write")
    for table in DIRECTORY:
        policy(table, "read_signed_in", "SELECT", using=session)
    for table in DEMOGRAPHIC:
        policy(table, "read", "SELECT", using=read_patients)
        policy(table, "insert", "INSERT", check=write_patients)
    # A restricted record's demographics are edited by reception (who never see clinical
    # content) or by clinicians who may open it.
    policy("patients", "update", "UPDATE",
           using=f"{write_patients} AND (NOT restricted OR NOT {can('chart.open')} "
                 "OR dra_may_open(id))",
           check=write_patients)
    for table in DEMOGRAPHIC[1:]:
        policy(table, "update", "UPDATE", using=write_patients, check=write_patients)
        policy(table, "delete", "DELETE", using=write_patients)
    for table in SEARCH_INDEX:
        policy(table, "read", "SELECT", using=can("patient.search"))
        policy(table, "insert", "INSERT", check=write_patients)
        policy(table, "delete", "DELETE", using=write_patients)
    for table, permission in CLINICAL.items():
        policy(table, "read", "SELECT",
               using=f"{can('chart.open')} AND dra_may_open(patient_id)")
        policy(table, "insert", "INSERT",
               check=f"{can(permission)} AND dra_may_open(patient_id)")
        policy(table, "update", "UPDATE",
               using=f"{can(permission)} AND dra_may_open(patient_id)",
               check=f"{can(permission)} AND dra_may_open(patient_id)")
    manage = can("appointment.manage")
    policy("appointments", "read", "SELECT", using=f"{manage} OR {can('chart.open')}")
    policy("appointments", "insert", "INSERT", check=manage)
    policy("appointments", "update", "UPDATE", using=manage, check=manage)
    tasks = can("task.manage")
    policy("tasks", "read", "SELECT", using=tasks)
    policy("tasks", "insert", "INSERT", check=tasks)
    policy("tasks", "update", "UPDATE", using=tasks, check=tasks)
    policy("audit_events", "read", "SELECT", using=can("audit.report"))
    policy("audit_events", "append", "INSERT", check=session)
    return sql


def upgrade() -> None:
    conn = op.get_bind()
    # ------------------------------------------------------------------ credentials
    op.add_column("users", sa.Column("auth_salt", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("auth_params", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("auth_key", sa.LargeBinary(), nullable=True))
    rows = conn.execute(sa.text("SELECT id, password_hash FROM users "
                                "WHERE password_hash IS NOT NULL")).all()
    for user_id, encoded in rows:
        converted = _client_key_from_argon2(encoded)
        if converted is None:
            continue  # not an argon2id hash: the account needs a new password
        salt, params, key = converted
        conn.execute(sa.text("UPDATE users SET auth_salt = :s, auth_params = :p, "
                             "auth_key = :k WHERE id = :i"),
                     {"s": salt, "p": params, "k": key, "i": user_id})
    op.drop_column("users", "password_hash")
    op.create_check_constraint(
        "ck_users_auth_complete", "users",
        "(auth_key IS NULL) = (auth_salt IS NULL) AND (auth_key IS NULL) = (auth_params IS NULL)")

    # ------------------------------------------------------------------ private tables
    op.execute("""
        CREATE TABLE app_sessions (
            id text NOT NULL,
            token_hash bytea NOT NULL,
            user_id bigint NOT NULL,
            workstation varchar(100) NOT NULL DEFAULT '',
            started_at timestamptz NOT NULL,
            last_seen timestamptz NOT NULL,
            changed_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            idle_seconds integer NOT NULL,
            state text NOT NULL,
            locked_by text NOT NULL DEFAULT '',
            CONSTRAINT pk_app_sessions PRIMARY KEY (id),
            CONSTRAINT uq_app_sessions_token_hash UNIQUE (token_hash),
            CONSTRAINT fk_app_sessions_user_id_users FOREIGN KEY (user_id)
                REFERENCES users(id) ON DELETE CASCADE,
            CONSTRAINT ck_app_sessions_idle_positive CHECK (idle_seconds > 0),
            CONSTRAINT ck_app_sessions_state_known
                CHECK (state IN ('active', 'locked', 'revoked'))
        )""")
    op.execute("CREATE INDEX ix_app_sessions_user ON app_sessions (user_id)")
    op.execute("CREATE INDEX ix_app_sessions_expires ON app_sessions (expires_at)")
    op.execute("""
        CREATE TABLE session_glass (
            session_id text NOT NULL,
            patient_id bigint NOT NULL,
            CONSTRAINT pk_session_glass PRIMARY KEY (session_id, patient_id),
            CONSTRAINT fk_session_glass_session_id_app_sessions FOREIGN KEY (session_id)
                REFERENCES app_sessions(id) ON DELETE CASCADE
        )""")
    op.execute("""
        CREATE TABLE signin_failures (
            key text NOT NULL,
            n integer NOT NULL,
            until timestamptz,
            last_at timestamptz NOT NULL,
            CONSTRAINT pk_signin_failures PRIMARY KEY (key)
        )""")
    op.execute("CREATE TABLE app_secrets (name text NOT NULL, value bytea NOT NULL, "
               "CONSTRAINT pk_app_secrets PRIMARY KEY (name))")
    op.execute("INSERT INTO app_secrets VALUES ('name_key', decode("
               "replace(gen_random_uuid()::text, '-', '') || "
               "replace(gen_random_uuid()::text, '-', ''), 'hex'))")
    # Names this database's audit chain in its anchors (a restored backup keeps it).
    op.execute("INSERT INTO app_secrets VALUES ('chain_id', decode("
               "replace(gen_random_uuid()::text, '-', ''), 'hex'))")

    for statement in _functions():
        op.execute(statement)
    op.execute("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC")
    for function in PUBLIC_FUNCTIONS:
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP}")
    # The chain trigger reads the last event, which row security hides from the app's
    # login: it runs as the owner.
    op.execute("ALTER FUNCTION audit_events_chain() SECURITY DEFINER "
               "SET search_path = public, pg_temp")
    # Earlier migrations' functions the app's statements still need.
    for function in ("audit_netstring(text)", "audit_event_canonical(audit_events)",
                     "audit_events_chain()", "stamp_created_at()", "stamp_updated_at()"):
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP}")

    # ------------------------------------------------------------------ grants
    for table in PRIVATE:
        op.execute(f'REVOKE ALL ON "{table}" FROM {APP}')
    for table in DIRECTORY:
        op.execute(f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "{table}" FROM {APP}')
    op.execute(f"REVOKE SELECT ON users FROM {APP}")
    op.execute(f"GRANT SELECT ({', '.join(USER_COLUMNS)}) ON users TO {APP}")
    for table in ("patients", *CLINICAL, "appointments", "tasks"):
        op.execute(f'REVOKE DELETE, TRUNCATE ON "{table}" FROM {APP}')

    # ------------------------------------------------------------------ row security
    for table in (*DIRECTORY, *DEMOGRAPHIC, *SEARCH_INDEX, *CLINICAL, "appointments",
                  "tasks", "audit_events"):
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    for statement in _policies():
        op.execute(statement)

    # ------------------------------------------------------------------ triggers
    tracked = [r[0] for r in conn.execute(sa.text(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND column_name = 'updated_by' ORDER BY table_name"))]
    for table in tracked:
        op.execute(f'CREATE TRIGGER "{table}_actor" BEFORE INSERT OR UPDATE ON "{table}" '
                   "FOR EACH ROW EXECUTE FUNCTION dra__stamp_actor()")
    op.execute("CREATE TRIGGER patients_restriction BEFORE INSERT OR UPDATE ON patients "
               "FOR EACH ROW EXECUTE FUNCTION dra__guard_restriction()")
    for table in AUDITED:
        op.execute(f'CREATE TRIGGER "{table}_audit" AFTER INSERT OR UPDATE OR DELETE '
                   f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION dra__audit_row()')
    # Before the chain trigger (triggers fire in name order): the chain hashes the
    # attributed values.
    op.execute("CREATE TRIGGER audit_events_attribute BEFORE INSERT ON audit_events "
               "FOR EACH ROW EXECUTE FUNCTION dra__attribute_event()")


def downgrade() -> None:
    conn = op.get_bind()
    op.execute("DROP TRIGGER IF EXISTS audit_events_attribute ON audit_events")
    for table in AUDITED:
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_audit" ON "{table}"')
    op.execute("DROP TRIGGER IF EXISTS patients_restriction ON patients")
    tracked = [r[0] for r in conn.execute(sa.text(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND column_name = 'updated_by'"))]
    for table in tracked:
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_actor" ON "{table}"')
    for table in (*DIRECTORY, *DEMOGRAPHIC, *SEARCH_INDEX, *CLINICAL, "appointments",
                  "tasks", "audit_events"):
        for (policy,) in conn.execute(sa.text(
                "SELECT policyname FROM pg_policies WHERE tablename = :t"), {"t": table}):
            op.execute(f'DROP POLICY "{policy}" ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    for (signature,) in conn.execute(sa.text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
            "AND p.proname LIKE 'dra\\_%'")):
        op.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    for table in ("session_glass", "app_sessions", "signin_failures", "app_secrets"):
        op.execute(f'DROP TABLE "{table}"')
    op.execute("ALTER FUNCTION audit_events_chain() SECURITY INVOKER RESET search_path")
    op.execute("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO PUBLIC")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {APP}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {APP}")
    op.drop_constraint("ck_users_auth_complete", "users", type_="check")
    # The converted keys cannot be turned back into argon2 hashes: every account needs a
    # new password after a downgrade (dr-assistant-admin user passwd).
    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))
    for column in ("auth_key", "auth_params", "auth_salt"):
        op.drop_column("users", column)

"""Scheduling: recurring series, breaks, the waitlist, the status flow in the database, and
the versions that keep the schedule cache from ever being stale.

- ``appointment_series`` (a recurring booking's rule; occurrences point at it through
  ``appointments.series_id``), ``provider_breaks`` (a provider's weekly breaks: the day
  sheet shows hours minus breaks) and ``waitlist_entries``.
- ``appointments`` gains ``series_id``, ``cancel_reason``, ``override_reason`` (why a
  booking warning was overridden) and ``checked_in_at`` (the database's time of arrival),
  and lasts at most a day (so that a day's query is an index range of two days).
- **The status flow is the database's**: a trigger refuses a move that
  ``dto.APPOINTMENT_TRANSITIONS`` does not allow (SQLSTATE ``DRA01``), a change of time or
  provider of a finished appointment or of the patient of any (``DRA02``), and an
  appointment the app inserts in any state but booked. Arrival (booked → checked_in) opens
  an encounter for the appointment's provider, as the owner (reception has no note.write);
  undoing it, cancelling or a no-show from there cancel that encounter; completing closes
  it. Each is audited.
- **Who treats a patient** (``dra_treats``) is now a clinician with an encounter with them
  (open or closed), no longer anyone with a booking: a booking is reception's to make, and
  would otherwise let the desk give any doctor a restricted chart.
- **Cache versions**: ``cache_versions(scope, version)``, versions from one sequence,
  bumped by triggers in the writing transaction: ``appt:<provider_id>:<YYYY-MM-DD>`` for
  every UTC date an appointment row touches (old and new row), the same for a patient's
  appointments when their name or date of birth changes, and ``directory`` on any change to
  providers, working hours, breaks or appointment types. The app's login only reads them.
  ``dra_cache_key()`` gives the key that seals cached values to a signed-in session that
  may read the schedule or charts (docs/sync-and-scheduling.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "dra_app"
DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"
INVOKER = "SECURITY INVOKER SET search_path = public, pg_temp"
TRACKED = ("appointment_series", "waitlist_entries")
DIRECTORY = ("providers", "provider_working_hours", "provider_breaks", "appointment_types")
# A copy of dto.APPOINTMENT_TRANSITIONS as it is today: a migration keeps meaning what it
# meant when it ran.
TRANSITIONS = {
    "booked": ("checked_in", "cancelled", "no_show"),
    "checked_in": ("in_progress", "booked", "cancelled", "no_show"),
    "in_progress": ("completed",),
    "completed": (),
    "cancelled": (),
    "no_show": (),
}
FINISHED = ("completed", "cancelled", "no_show")


def _tracked_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
    ]


def _tracked_fks(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=f"fk_{table}_created_by_users"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"],
                                name=f"fk_{table}_updated_by_users"),
    ]


def _tables() -> None:
    op.create_table(
        "provider_breaks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("label", sa.String(100), server_default="", nullable=False),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name="ck_provider_breaks_weekday_iso"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_provider_breaks_break_order"),
        sa.CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
                           name="ck_provider_breaks_validity_order"),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], ondelete="CASCADE",
                                name="fk_provider_breaks_provider_id_providers"),
        sa.PrimaryKeyConstraint("id", name="pk_provider_breaks"),
    )
    op.create_index("ix_provider_breaks_provider_id", "provider_breaks", ["provider_id"])

    op.create_table(
        "appointment_series",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("appointment_type_id", sa.SmallInteger(), nullable=True),
        sa.Column("frequency", sa.String(20), nullable=False),
        sa.Column("interval", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("count", sa.SmallInteger(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("first_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("time_zone", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(500), server_default="", nullable=False),
        *_tracked_columns(),
        sa.CheckConstraint("frequency IN ('daily', 'weekly', 'monthly_date', "
                           "'monthly_weekday')", name="ck_appointment_series_frequency_known"),
        sa.CheckConstraint('"interval" BETWEEN 1 AND 52',
                           name="ck_appointment_series_interval_range"),
        sa.CheckConstraint("(count IS NULL) <> (until IS NULL)",
                           name="ck_appointment_series_count_or_until"),
        sa.CheckConstraint("count IS NULL OR count BETWEEN 1 AND 500",
                           name="ck_appointment_series_count_range"),
        sa.CheckConstraint("minutes BETWEEN 5 AND 480",
                           name="ck_appointment_series_minutes_range"),
        sa.CheckConstraint("length(time_zone) BETWEEN 1 AND 64",
                           name="ck_appointment_series_time_zone_present"),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"],
                                name="fk_appointment_series_provider_id_providers"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name="fk_appointment_series_patient_id_patients"),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"], ["appointment_types.id"],
            name="fk_appointment_series_appointment_type_id_appointment_types"),
        *_tracked_fks("appointment_series"),
        sa.PrimaryKeyConstraint("id", name="pk_appointment_series"),
    )
    op.create_index("ix_appointment_series_provider_id", "appointment_series", ["provider_id"])
    op.create_index("ix_appointment_series_patient_id", "appointment_series", ["patient_id"])

    op.add_column("appointments", sa.Column("series_id", sa.BigInteger(), nullable=True))
    op.add_column("appointments", sa.Column("cancel_reason", sa.String(500),
                                            server_default="", nullable=False))
    op.add_column("appointments", sa.Column("override_reason", sa.String(500),
                                            server_default="", nullable=False))
    op.add_column("appointments", sa.Column("checked_in_at", sa.DateTime(timezone=True),
                                            nullable=True))
    # An appointment lasts at most a day (the service books 5 to 480 minutes): a query for
    # one day then reads an index range of one day and one before, not a provider's whole
    # history.
    op.create_check_constraint("ck_appointments_at_most_a_day", "appointments",
                               "ends_at <= starts_at + interval '1 day'")
    op.create_foreign_key("fk_appointments_series_id_appointment_series", "appointments",
                          "appointment_series", ["series_id"], ["id"])
    op.create_index("ix_appointments_series_id", "appointments", ["series_id"])

    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=True),
        sa.Column("appointment_type_id", sa.SmallInteger(), nullable=True),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("earliest", sa.Date(), nullable=False),
        sa.Column("latest", sa.Date(), nullable=True),
        sa.Column("part_of_day", sa.String(10), server_default="any", nullable=False),
        sa.Column("note", sa.String(500), server_default="", nullable=False),
        sa.Column("status", sa.String(10), server_default="waiting", nullable=False),
        sa.Column("removed_reason", sa.String(500), server_default="", nullable=False),
        sa.Column("booked_appointment_id", sa.BigInteger(), nullable=True),
        *_tracked_columns(),
        sa.CheckConstraint("minutes BETWEEN 5 AND 480",
                           name="ck_waitlist_entries_minutes_range"),
        sa.CheckConstraint("latest IS NULL OR latest >= earliest",
                           name="ck_waitlist_entries_latest_after_earliest"),
        sa.CheckConstraint("part_of_day IN ('any', 'morning', 'afternoon')",
                           name="ck_waitlist_entries_part_of_day_known"),
        sa.CheckConstraint("status IN ('waiting', 'booked', 'removed')",
                           name="ck_waitlist_entries_status_known"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name="fk_waitlist_entries_patient_id_patients"),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"],
                                name="fk_waitlist_entries_provider_id_providers"),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"], ["appointment_types.id"],
            name="fk_waitlist_entries_appointment_type_id_appointment_types"),
        sa.ForeignKeyConstraint(["booked_appointment_id"], ["appointments.id"],
                                name="fk_waitlist_entries_booked_appointment_id_appointments"),
        *_tracked_fks("waitlist_entries"),
        sa.PrimaryKeyConstraint("id", name="pk_waitlist_entries"),
    )
    op.create_index("ix_waitlist_entries_patient_id", "waitlist_entries", ["patient_id"])
    op.create_index("ix_waitlist_entries_waiting", "waitlist_entries", ["earliest"],
                    postgresql_where=sa.text("status = 'waiting'"))

    op.execute("CREATE SEQUENCE cache_version_seq")
    op.create_table(
        "cache_versions",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name="pk_cache_versions"),
    )
    op.execute("INSERT INTO app_secrets VALUES ('cache_key', decode("
               "replace(gen_random_uuid()::text, '-', '') || "
               "replace(gen_random_uuid()::text, '-', ''), 'hex'))")


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def _functions() -> list[str]:
    allowed = "\n".join(
        f"WHEN '{source}' THEN {_array(targets) if targets else 'ARRAY[]::text[]'}"
        for source, targets in TRANSITIONS.items())
    finished = ", ".join(f"'{s}'" for s in FINISHED)
    return [
        # ------------------------------------------------------------------ cache versions
        # The scopes of appointment rows: one per provider and UTC date the row touches.
        """
        CREATE FUNCTION dra__appt_scopes(p_provider bigint, p_starts timestamptz,
                                         p_ends timestamptz) RETURNS SETOF text
        LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
            SELECT 'appt:' || p_provider || ':' || to_char(d, 'YYYY-MM-DD')
              FROM generate_series((p_starts AT TIME ZONE 'UTC')::date,
                                   (greatest(p_ends - interval '1 microsecond', p_starts)
                                    AT TIME ZONE 'UTC')::date,
                                   interval '1 day') d
        $$""",
        # A new version for each scope, in scope order (two writers touching the same
        # scopes lock them in one order: no deadlock between them).
        f"""
        CREATE FUNCTION dra__bump(p_scopes text[]) RETURNS void
        LANGUAGE sql {DEFINER} AS $$
            INSERT INTO cache_versions (scope, version)
            SELECT s, nextval('cache_version_seq')
              FROM (SELECT DISTINCT unnest(p_scopes) AS s ORDER BY 1) scopes
            ON CONFLICT (scope) DO UPDATE SET version = EXCLUDED.version
        $$""",
        # Statement level with transition tables: one bump per statement, however many
        # rows (the seed copies thousands).
        f"""
        CREATE FUNCTION dra__bump_appointments() RETURNS trigger
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            scopes text[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                SELECT array_agg(DISTINCT s) INTO scopes FROM new_rows r,
                       dra__appt_scopes(r.provider_id, r.starts_at, r.ends_at) s;
            ELSIF TG_OP = 'DELETE' THEN
                SELECT array_agg(DISTINCT s) INTO scopes FROM old_rows r,
                       dra__appt_scopes(r.provider_id, r.starts_at, r.ends_at) s;
            ELSE
                SELECT array_agg(DISTINCT s) INTO scopes FROM (
                    SELECT provider_id, starts_at, ends_at FROM new_rows
                    UNION SELECT provider_id, starts_at, ends_at FROM old_rows) r,
                       dra__appt_scopes(r.provider_id, r.starts_at, r.ends_at) s;
            END IF;
            IF scopes IS NOT NULL THEN
                PERFORM dra__bump(scopes);
            END IF;
            RETURN NULL;
        END $$""",
        # A patient's name is on the day sheets of their appointments.
        f"""
        CREATE FUNCTION dra__bump_patient() RETURNS trigger
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            scopes text[];
        BEGIN
            SELECT array_agg(DISTINCT s) INTO scopes FROM appointments a,
                   dra__appt_scopes(a.provider_id, a.starts_at, a.ends_at) s
             WHERE a.patient_id = NEW.id;
            IF scopes IS NOT NULL THEN
                PERFORM dra__bump(scopes);
            END IF;
            RETURN NULL;
        END $$""",
        f"""
        CREATE FUNCTION dra__bump_directory() RETURNS trigger
        LANGUAGE plpgsql {DEFINER} AS $$
        BEGIN
            PERFORM dra__bump(ARRAY['directory']);
            RETURN NULL;
        END $$""",
        # The key that seals cached values (AES-GCM, backend_client/sync/cache.py): only
        # for a live session of someone who may read what the cache holds.
        f"""
        CREATE FUNCTION dra_cache_key() RETURNS bytea
        LANGUAGE plpgsql STABLE {DEFINER} AS $$
        BEGIN
            IF dra_session_user() IS NULL
               OR NOT (dra_can('appointment.manage') OR dra_can('chart.open')) THEN
                RAISE EXCEPTION 'the cache key is only for a signed-in session that may read '
                                'the schedule' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN (SELECT value FROM app_secrets WHERE name = 'cache_key');
        END $$""",
        # ------------------------------------------------------------------ status flow
        f"""
        CREATE FUNCTION dra__appointment_flow() RETURNS trigger
        LANGUAGE plpgsql {INVOKER} AS $$
        DECLARE
            allowed text[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF dra__is_app() AND NEW.status <> 'booked' THEN
                    RAISE EXCEPTION 'a new appointment starts as booked, not %', NEW.status
                        USING ERRCODE = 'DRA01';
                END IF;
                IF dra__is_app() THEN
                    NEW.checked_in_at := NULL;
                END IF;
                RETURN NEW;
            END IF;
            IF NEW.patient_id IS DISTINCT FROM OLD.patient_id THEN
                RAISE EXCEPTION 'an appointment stays with its patient: cancel it and book '
                                'the other patient' USING ERRCODE = 'DRA02';
            END IF;
            IF OLD.status IN ({finished})
               AND (NEW.starts_at IS DISTINCT FROM OLD.starts_at
                    OR NEW.ends_at IS DISTINCT FROM OLD.ends_at
                    OR NEW.provider_id IS DISTINCT FROM OLD.provider_id) THEN
                RAISE EXCEPTION 'an appointment that is % cannot be moved', OLD.status
                    USING ERRCODE = 'DRA02';
            END IF;
            IF OLD.status IN ('checked_in', 'in_progress')
               AND NEW.provider_id IS DISTINCT FROM OLD.provider_id THEN
                RAISE EXCEPTION 'the patient has arrived for this provider: undo the arrival '
                                'before giving the appointment to another provider'
                    USING ERRCODE = 'DRA02';
            END IF;
            IF NEW.status IS DISTINCT FROM OLD.status THEN
                allowed := CASE OLD.status {allowed} ELSE ARRAY[]::text[] END;
                IF NOT NEW.status = ANY(allowed) THEN
                    RAISE EXCEPTION 'an appointment that is % cannot become %',
                        OLD.status, NEW.status USING ERRCODE = 'DRA01';
                END IF;
                IF NEW.status = 'checked_in' AND OLD.status = 'booked' THEN
                    NEW.checked_in_at := now();
                ELSIF NEW.status = 'booked' THEN
                    NEW.checked_in_at := NULL;
                ELSE
                    NEW.checked_in_at := OLD.checked_in_at;
                END IF;
            ELSE
                NEW.checked_in_at := OLD.checked_in_at;
            END IF;
            RETURN NEW;
        END $$""",
        # What arrival and its undoing do to the encounter: as the owner, since the desk
        # may not write encounters itself; attributed to the session's person and audited.
        f"""
        CREATE FUNCTION dra__appointment_encounter() RETURNS trigger
        LANGUAGE plpgsql {DEFINER} AS $$
        DECLARE
            who bigint := dra_session_user();
            ws text := coalesce(dra_session_workstation(), '');
            enc bigint;
            act text;
        BEGIN
            IF OLD.status = 'booked' AND NEW.status = 'checked_in' THEN
                INSERT INTO encounters (patient_id, provider_id, appointment_id, started_at,
                                        status, reason, created_by, updated_by)
                VALUES (NEW.patient_id, NEW.provider_id, NEW.id, now(), 'open',
                        NEW.reason, who, who)
                ON CONFLICT (appointment_id) DO UPDATE
                   SET status = 'open', started_at = now(), ended_at = NULL,
                       provider_id = EXCLUDED.provider_id, updated_by = who,
                       updated_at = now(), version = encounters.version + 1
                RETURNING id INTO enc;
                act := 'encounter.open';
            ELSIF OLD.status = 'checked_in' AND NEW.status IN ('booked', 'cancelled', 'no_show')
            THEN
                UPDATE encounters SET status = 'cancelled', ended_at = now(), updated_by = who,
                       updated_at = now(), version = version + 1
                 WHERE appointment_id = NEW.id AND status = 'open' RETURNING id INTO enc;
                act := 'encounter.cancel';
            ELSIF NEW.status = 'completed' AND OLD.status <> 'completed' THEN
                UPDATE encounters SET status = 'closed', ended_at = now(), updated_by = who,
                       updated_at = now(), version = version + 1
                 WHERE appointment_id = NEW.id AND status = 'open' RETURNING id INTO enc;
                act := 'encounter.close';
            END IF;
            IF enc IS NOT NULL THEN
                PERFORM dra__audit(act, who, ws, NEW.patient_id, 'encounters', enc::text,
                                   jsonb_build_object('appointment', NEW.id,
                                                      'status', NEW.status));
            END IF;
            RETURN NULL;
        END $$""",
        # ------------------------------------------------------------------ who treats
        f"""
        CREATE OR REPLACE FUNCTION dra_treats(p_patient bigint) RETURNS boolean
        LANGUAGE sql STABLE {DEFINER} AS $$
            -- An encounter (an arrival opened it, or a clinician started one), not a
            -- booking: bookings are the desk's to make.
            SELECT EXISTS (SELECT 1 FROM encounters e JOIN providers p ON p.id = e.provider_id
                            WHERE e.patient_id = p_patient AND e.status <> 'cancelled'
                              AND p.user_id = dra_session_user())
        $$""",
    ]


OLD_TREATS = f"""
    CREATE OR REPLACE FUNCTION dra_treats(p_patient bigint) RETURNS boolean
    LANGUAGE sql STABLE {DEFINER} AS $$
        SELECT EXISTS (SELECT 1 FROM appointments a JOIN providers p ON p.id = a.provider_id
                        WHERE a.patient_id = p_patient AND p.user_id = dra_session_user())
            OR EXISTS (SELECT 1 FROM encounters e JOIN providers p ON p.id = e.provider_id
                        WHERE e.patient_id = p_patient AND p.user_id = dra_session_user())
    $$"""

FUNCTIONS = ("dra__appt_scopes(bigint, timestamp with time zone, timestamp with time zone)",
             "dra__bump(text[])", "dra__bump_appointments()", "dra__bump_patient()",
             "dra__bump_directory()", "dra_cache_key()", "dra__appointment_flow()",
             "dra__appointment_encounter()")


def _triggers() -> list[str]:
    sql = []
    for op_name, refs in (("INSERT", "NEW TABLE AS new_rows"),
                          ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                          ("DELETE", "OLD TABLE AS old_rows")):
        sql.append(f"CREATE TRIGGER appointments_cache_{op_name.lower()} AFTER {op_name} "
                   f"ON appointments REFERENCING {refs} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION dra__bump_appointments()")
    sql.append("CREATE TRIGGER patients_cache AFTER UPDATE ON patients FOR EACH ROW WHEN ("
               "OLD.given_name IS DISTINCT FROM NEW.given_name OR "
               "OLD.family_name IS DISTINCT FROM NEW.family_name OR "
               "OLD.middle_name IS DISTINCT FROM NEW.middle_name OR "
               "OLD.preferred_name IS DISTINCT FROM NEW.preferred_name OR "
               "OLD.birth_date IS DISTINCT FROM NEW.birth_date OR "
               "OLD.restricted IS DISTINCT FROM NEW.restricted) "
               "EXECUTE FUNCTION dra__bump_patient()")
    for table in DIRECTORY:
        sql.append(f'CREATE TRIGGER "{table}_cache" AFTER INSERT OR UPDATE OR DELETE OR '
                   f'TRUNCATE ON "{table}" FOR EACH STATEMENT '
                   "EXECUTE FUNCTION dra__bump_directory()")
    # Named to fire after appointments_actor (triggers fire in name order) and before the
    # stamping ones; the flow only reads what the actor trigger does not change.
    sql.append("CREATE TRIGGER appointments_flow BEFORE INSERT OR UPDATE ON appointments "
               "FOR EACH ROW EXECUTE FUNCTION dra__appointment_flow()")
    sql.append("CREATE TRIGGER appointments_encounter AFTER UPDATE OF status ON appointments "
               "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) "
               "EXECUTE FUNCTION dra__appointment_encounter()")
    for table in TRACKED:
        sql.append(f'CREATE TRIGGER "{table}_actor" BEFORE INSERT OR UPDATE ON "{table}" '
                   "FOR EACH ROW EXECUTE FUNCTION dra__stamp_actor()")
        for column in ("created_at", "updated_at"):
            sql.append(f'CREATE TRIGGER "{table}_{column}" BEFORE INSERT OR UPDATE OF '
                       f'{column} ON "{table}" FOR EACH ROW EXECUTE FUNCTION '
                       f"stamp_{column}()")
        sql.append(f'CREATE TRIGGER "{table}_audit" AFTER INSERT OR UPDATE OR DELETE '
                   f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION dra__audit_row()')
    return sql


def _policies() -> list[str]:
    session = "((SELECT dra_session_user()) IS NOT NULL)"
    manage = "(SELECT dra_can('appointment.manage'))"
    read = f"{manage} OR (SELECT dra_can('chart.open'))"
    sql = []
    for table in ("provider_breaks", "cache_versions"):
        sql.append(f'CREATE POLICY "read_signed_in" ON "{table}" FOR SELECT TO PUBLIC '
                   f"USING ({session})")
    for table in TRACKED:
        sql.append(f'CREATE POLICY "read" ON "{table}" FOR SELECT TO PUBLIC USING ({read})')
        sql.append(f'CREATE POLICY "insert" ON "{table}" FOR INSERT TO PUBLIC '
                   f"WITH CHECK ({manage})")
        sql.append(f'CREATE POLICY "update" ON "{table}" FOR UPDATE TO PUBLIC '
                   f"USING ({manage}) WITH CHECK ({manage})")
    return sql


def upgrade() -> None:
    _tables()
    for statement in _functions():
        op.execute(statement)
    for function in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
    # The app's statements fire the triggers (a trigger function cannot be called on its
    # own); the key function is the app's to ask. dra__bump stays the owner's: only the
    # triggers move a version.
    for function in ("dra__bump_appointments()", "dra__bump_patient()",
                     "dra__bump_directory()", "dra__appointment_flow()",
                     "dra__appointment_encounter()", "dra_cache_key()"):
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP}")
    for statement in _triggers():
        op.execute(statement)

    for table in ("provider_breaks", "cache_versions"):
        op.execute(f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "{table}" FROM {APP}')
    for table in TRACKED:
        op.execute(f'REVOKE DELETE, TRUNCATE ON "{table}" FROM {APP}')
    for table in ("provider_breaks", "cache_versions", *TRACKED):
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    for statement in _policies():
        op.execute(statement)


def downgrade() -> None:
    op.execute(OLD_TREATS)
    for table in ("appointments", "patients", *DIRECTORY, *TRACKED):
        for name in ("appointments_cache_insert", "appointments_cache_update",
                     "appointments_cache_delete", "appointments_flow",
                     "appointments_encounter", "patients_cache", f"{table}_cache"):
            op.execute(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DELETE FROM app_secrets WHERE name = 'cache_key'")
    op.drop_table("cache_versions")
    op.execute("DROP SEQUENCE cache_version_seq")
    op.drop_index("ix_waitlist_entries_waiting", table_name="waitlist_entries",
                  postgresql_where=sa.text("status = 'waiting'"))
    op.drop_index("ix_waitlist_entries_patient_id", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
    op.drop_index("ix_appointments_series_id", table_name="appointments")
    op.drop_constraint("fk_appointments_series_id_appointment_series", "appointments",
                       type_="foreignkey")
    op.drop_constraint("ck_appointments_at_most_a_day", "appointments", type_="check")
    for column in ("checked_in_at", "override_reason", "cancel_reason", "series_id"):
        op.drop_column("appointments", column)
    op.drop_index("ix_appointment_series_patient_id", table_name="appointment_series")
    op.drop_index("ix_appointment_series_provider_id", table_name="appointment_series")
    op.drop_table("appointment_series")
    op.drop_index("ix_provider_breaks_provider_id", table_name="provider_breaks")
    op.drop_table("provider_breaks")

"""The chart's lists: problems, medications, allergies and alerts retired with a reason,
encounters closed with a summary.

- ``problems`` and ``medications``: one row per item of a patient's list, tracked (who and
  when, from the session and the database's clock) and versioned. An item is never deleted:
  it is retired with a reason (entered in error), which the database requires
  (``ck_<table>_retired_needs_reason``), and a retired item stays retired.
- ``alerts`` gains ``retired_reason``: an alert that is no longer active (inactive or
  resolved) says why (``ck_alerts_retired_needs_reason``).
- ``encounters`` gains ``summary``: a closed encounter has one (``ck_encounters_closed_has_
  summary``). When the app closes or cancels an encounter, ``ended_at`` is the database's
  ``now()`` whatever it sends; an encounter the app opens starts at ``now()``. Completing an
  appointment still closes its encounter (migration 0009): with a summary that says so, when
  the clinician has not written one.
- **Versions are the database's**: for the app's login, a new row is version 1 and every
  update adds one to the stored version, whatever the statement says (``dra__chart_row``);
  a stale write is still refused by the service's ``WHERE version = :seen``. The same
  trigger keeps a row with its patient.
- Reading the lists needs ``chart.open`` and ``dra_may_open(patient_id)`` (a restricted
  record's rows only for its clinicians or after breaking the glass); writing them
  ``problem.write`` / ``medication.write`` (new: doctors and nurses) and the same reach.
  The app's login cannot delete or truncate them. Every row the app writes is audited
  (``dra__audit_row``) and stamped (``dra__stamp_actor``, ``stamp_created_at``,
  ``stamp_updated_at``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "dra_app"
DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"
INVOKER = "SECURITY INVOKER SET search_path = public, pg_temp"
NEW_TABLES = {"problems": "problem.write", "medications": "medication.write"}
VERSIONED = ("problems", "medications", "alerts", "encounters")
# A copy, not an import (a migration keeps meaning what it meant when it ran).
PERMISSIONS = [("problem.write", ("doctor", "nurse")), ("medication.write", ("doctor", "nurse"))]
COMPLETED_SUMMARY = "Closed when the appointment was marked completed."


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
        "problems",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("code", sa.String(40), server_default="", nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(10), server_default="active", nullable=False),
        sa.Column("comment", sa.String(2000), server_default="", nullable=False),
        sa.Column("retired_reason", sa.String(500), server_default="", nullable=False),
        *_tracked_columns(),
        sa.CheckConstraint("status IN ('active', 'resolved', 'retired')",
                           name=op.f("ck_problems_status_known")),
        sa.CheckConstraint("length(btrim(description)) > 0",
                           name=op.f("ck_problems_description_present")),
        sa.CheckConstraint("status <> 'retired' OR length(btrim(retired_reason)) > 0",
                           name=op.f("ck_problems_retired_needs_reason")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name="fk_problems_patient_id_patients"),
        sa.ForeignKeyConstraint(["encounter_id"], ["encounters.id"],
                                name="fk_problems_encounter_id_encounters"),
        *_tracked_fks("problems"),
        sa.PrimaryKeyConstraint("id", name="pk_problems"),
    )
    op.create_index("ix_problems_patient_status", "problems", ["patient_id", "status"])
    op.create_index("ix_problems_encounter_id", "problems", ["encounter_id"])

    op.create_table(
        "medications",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("dose", sa.String(100), server_default="", nullable=False),
        sa.Column("route", sa.String(40), server_default="oral", nullable=False),
        sa.Column("frequency", sa.String(100), server_default="", nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(10), server_default="active", nullable=False),
        sa.Column("prescription_id", sa.BigInteger(), nullable=True),
        sa.Column("comment", sa.String(2000), server_default="", nullable=False),
        sa.Column("retired_reason", sa.String(500), server_default="", nullable=False),
        *_tracked_columns(),
        sa.CheckConstraint("status IN ('active', 'stopped', 'retired')",
                           name=op.f("ck_medications_status_known")),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_medications_name_present")),
        sa.CheckConstraint("stopped_on IS NULL OR started_on IS NULL "
                           "OR stopped_on >= started_on",
                           name=op.f("ck_medications_stopped_after_started")),
        sa.CheckConstraint("status <> 'retired' OR length(btrim(retired_reason)) > 0",
                           name=op.f("ck_medications_retired_needs_reason")),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name="fk_medications_patient_id_patients"),
        sa.ForeignKeyConstraint(["prescription_id"], ["prescriptions.id"],
                                name="fk_medications_prescription_id_prescriptions"),
        *_tracked_fks("medications"),
        sa.PrimaryKeyConstraint("id", name="pk_medications"),
    )
    op.create_index("ix_medications_patient_status", "medications", ["patient_id", "status"])
    op.create_index("ix_medications_prescription_id", "medications", ["prescription_id"])

    # Existing rows first, so that the new rules hold for every row already there.
    op.add_column("alerts", sa.Column("retired_reason", sa.String(500), server_default="",
                                      nullable=False))
    op.execute("UPDATE alerts SET retired_reason = 'Made inactive before reasons were kept.' "
               "WHERE status <> 'active' AND btrim(retired_reason) = ''")
    op.create_check_constraint(op.f("ck_alerts_retired_needs_reason"), "alerts",
                               "status = 'active' OR length(btrim(retired_reason)) > 0")
    op.add_column("encounters", sa.Column("summary", sa.Text(), server_default="",
                                          nullable=False))
    op.execute(f"UPDATE encounters SET summary = '{COMPLETED_SUMMARY}' "
               "WHERE status = 'closed' AND btrim(summary) = ''")
    op.create_check_constraint(op.f("ck_encounters_closed_has_summary"), "encounters",
                               "status <> 'closed' OR length(btrim(summary)) > 0")


def _encounter_function(summary: bool) -> str:
    """Migration 0009's arrival trigger; with ``summary``, completing the appointment gives
    an encounter closed without one a sentence saying how it was closed."""
    close = (f"summary = CASE WHEN btrim(summary) = '' THEN '{COMPLETED_SUMMARY}' "
             "ELSE summary END, " if summary else "")
    return f"""
        CREATE OR REPLACE FUNCTION dra__appointment_encounter() RETURNS trigger
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
                       {close}updated_at = now(), version = version + 1
                 WHERE appointment_id = NEW.id AND status = 'open' RETURNING id INTO enc;
                act := 'encounter.close';
            END IF;
            IF enc IS NOT NULL THEN
                PERFORM dra__audit(act, who, ws, NEW.patient_id, 'encounters', enc::text,
                                   jsonb_build_object('appointment', NEW.id,
                                                      'status', NEW.status));
            END IF;
            RETURN NULL;
        END $$"""


# For the app's login only (the owner's tools and the owner's triggers are trusted): the
# version, the patient and, for encounters, the times are the database's.
CHART_ROW = f"""
    CREATE FUNCTION dra__chart_row() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
    BEGIN
        IF NOT dra__is_app() THEN
            RETURN NEW;
        END IF;
        IF TG_OP = 'INSERT' THEN
            NEW.version := 1;
            IF TG_TABLE_NAME = 'encounters' THEN
                IF NEW.status <> 'open' THEN
                    RAISE EXCEPTION 'a new encounter starts open, not %', NEW.status
                        USING ERRCODE = 'DRA01';
                END IF;
                NEW.started_at := now();
                NEW.ended_at := NULL;
            END IF;
            RETURN NEW;
        END IF;
        NEW.version := OLD.version + 1;
        IF NEW.patient_id IS DISTINCT FROM OLD.patient_id THEN
            RAISE EXCEPTION 'a chart entry stays with its patient' USING ERRCODE = 'DRA02';
        END IF;
        IF TG_TABLE_NAME IN ('problems', 'medications') AND OLD.status = 'retired' THEN
            RAISE EXCEPTION 'a retired entry cannot be changed' USING ERRCODE = 'DRA02';
        END IF;
        IF TG_TABLE_NAME = 'encounters' THEN
            IF OLD.status <> 'open' AND NEW.status IS DISTINCT FROM OLD.status THEN
                RAISE EXCEPTION 'an encounter that is % cannot become %',
                    OLD.status, NEW.status USING ERRCODE = 'DRA01';
            END IF;
            NEW.started_at := OLD.started_at;
            NEW.ended_at := CASE WHEN NEW.status IS DISTINCT FROM OLD.status THEN now()
                                 ELSE OLD.ended_at END;
        END IF;
        RETURN NEW;
    END $$"""


def _triggers() -> list[str]:
    sql = []
    for table in NEW_TABLES:
        sql.append(f'CREATE TRIGGER "{table}_actor" BEFORE INSERT OR UPDATE ON "{table}" '
                   "FOR EACH ROW EXECUTE FUNCTION dra__stamp_actor()")
        for column in ("created_at", "updated_at"):
            sql.append(f'CREATE TRIGGER "{table}_{column}" BEFORE INSERT OR UPDATE OF '
                       f'{column} ON "{table}" FOR EACH ROW EXECUTE FUNCTION '
                       f"stamp_{column}()")
        sql.append(f'CREATE TRIGGER "{table}_audit" AFTER INSERT OR UPDATE OR DELETE '
                   f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION dra__audit_row()')
    for table in VERSIONED:
        # Named to fire after <table>_actor and the stamping triggers (name order).
        sql.append(f'CREATE TRIGGER "{table}_version" BEFORE INSERT OR UPDATE ON "{table}" '
                   "FOR EACH ROW EXECUTE FUNCTION dra__chart_row()")
    return sql


def _policies() -> list[str]:
    sql = []
    for table, permission in NEW_TABLES.items():
        read = "(SELECT dra_can('chart.open')) AND dra_may_open(patient_id)"
        write = f"(SELECT dra_can('{permission}')) AND dra_may_open(patient_id)"
        sql.append(f'CREATE POLICY "read" ON "{table}" FOR SELECT TO PUBLIC USING ({read})')
        sql.append(f'CREATE POLICY "insert" ON "{table}" FOR INSERT TO PUBLIC '
                   f"WITH CHECK ({write})")
        sql.append(f'CREATE POLICY "update" ON "{table}" FOR UPDATE TO PUBLIC '
                   f"USING ({write}) WITH CHECK ({write})")
    return sql


def upgrade() -> None:
    conn = op.get_bind()
    for permission, roles in PERMISSIONS:
        for role in roles:
            conn.execute(sa.text(
                "INSERT INTO role_permissions (role_id, permission) "
                "SELECT id, :p FROM roles WHERE name = :r ON CONFLICT DO NOTHING"),
                {"p": permission, "r": role})
    _tables()
    op.execute(_encounter_function(summary=True))
    op.execute(CHART_ROW)
    op.execute("REVOKE EXECUTE ON FUNCTION dra__chart_row() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION dra__chart_row() TO {APP}")
    for statement in _triggers():
        op.execute(statement)
    for table in NEW_TABLES:
        op.execute(f'GRANT SELECT, INSERT, UPDATE ON "{table}" TO {APP}')
        op.execute(f'REVOKE DELETE, TRUNCATE ON "{table}" FROM {APP}')
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    for statement in _policies():
        op.execute(statement)


def downgrade() -> None:
    for table in VERSIONED:
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_version" ON "{table}"')
    op.execute("DROP FUNCTION IF EXISTS dra__chart_row()")
    op.execute(_encounter_function(summary=False))
    op.drop_constraint(op.f("ck_encounters_closed_has_summary"), "encounters", type_="check")
    op.drop_column("encounters", "summary")
    op.drop_constraint(op.f("ck_alerts_retired_needs_reason"), "alerts", type_="check")
    op.drop_column("alerts", "retired_reason")
    op.drop_index("ix_medications_prescription_id", table_name="medications")
    op.drop_index("ix_medications_patient_status", table_name="medications")
    op.drop_table("medications")
    op.drop_index("ix_problems_encounter_id", table_name="problems")
    op.drop_index("ix_problems_patient_status", table_name="problems")
    op.drop_table("problems")
    op.get_bind().execute(
        sa.text("DELETE FROM role_permissions WHERE permission = ANY(:p)"),
        {"p": [p for p, _ in PERMISSIONS]})

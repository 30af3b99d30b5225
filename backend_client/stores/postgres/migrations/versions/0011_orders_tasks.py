"""Orders, prescriptions signed by prescribers only, tasks for a person or a role.

- ``orders`` gains ``details`` (clinical question, urgency) and ``discontinued_reason``.
  The status flow is the database's: draft → active → completed, draft or active →
  cancelled (discontinuing: a reason is required); the app inserts only draft or active
  orders, and an order that left draft keeps its content (SQLSTATE ``DRA01`` for a move the
  flow does not allow, ``DRA03`` for a change to what was ordered).
- ``prescriptions`` gains ``strength``, ``unit``, ``form``, ``duration_days``,
  ``instructions``, ``signed_by`` and ``stop_reason``. **Signing is the database's**: the
  app saves a prescription as a draft; only a session whose person has
  ``prescription.write`` and *is* the prescription's prescriber (``providers.user_id``)
  can move it to active, and the trigger then sets ``signed_at`` (the database's clock) and
  ``signed_by`` (the session's person), whatever the client sent. Once signed, nothing but
  its status (active → stopped, with a reason, or completed) can change, for the app's
  login and the schema's owner alike (``DRA03``); signing by anyone else is refused with
  ``DRA04``. A draft may be discarded (stopped, never signed).
- ``tasks`` gains ``assignee_role`` (a role's name: exactly one of a person and a role),
  ``done_at``/``done_by`` (set by the trigger when a task becomes done: the database's
  clock, the session's person) and ``cancel_reason``. The app inserts open tasks only; a
  task that is done or cancelled stays as it was.

Row security, grants without DELETE/TRUNCATE, the audit, actor and stamping triggers on
these tables are migration 0002/0006/0007's already.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "dra_app"
INVOKER = "SECURITY INVOKER SET search_path = public, pg_temp"

# A copy of what the services allow today: a migration keeps meaning what it meant.
ORDER_FLOW = {"draft": ("active", "cancelled"), "active": ("completed", "cancelled"),
              "completed": (), "cancelled": ()}
ORDER_CONTENT = ("patient_id", "encounter_id", "ordered_by", "kind", "code", "description",
                 "details")
PRESCRIPTION_CONTENT = ("patient_id", "encounter_id", "prescriber_id", "medication", "dose",
                        "route", "frequency", "quantity", "refills", "starts_on", "ends_on",
                        "strength", "unit", "form", "duration_days", "instructions",
                        "signed_at", "signed_by")
TASK_CONTENT = ("patient_id", "assignee_id", "assignee_role", "title", "details", "due_at",
                "priority", "cancel_reason")
SIGNED = "ck_prescriptions_signed_unless_draft"
FUNCTIONS = ("dra__order_rules()", "dra__prescription_rules()", "dra__task_rules()")


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)


def _columns() -> None:
    op.add_column("orders", sa.Column("details", sa.Text(), server_default="", nullable=False))
    op.add_column("orders", sa.Column("discontinued_reason", sa.String(500), server_default="",
                                      nullable=False))
    op.create_check_constraint(
        op.f("ck_orders_reason_when_cancelled"), "orders",
        "status <> 'cancelled' OR length(btrim(discontinued_reason)) > 0")

    for name, column in (
        ("strength", sa.Column("strength", sa.String(40), server_default="", nullable=False)),
        ("unit", sa.Column("unit", sa.String(20), server_default="", nullable=False)),
        ("form", sa.Column("form", sa.String(40), server_default="tablet", nullable=False)),
        ("duration_days", sa.Column("duration_days", sa.SmallInteger(), nullable=True)),
        ("instructions", sa.Column("instructions", sa.String(500), server_default="",
                                   nullable=False)),
        ("signed_by", sa.Column("signed_by", sa.BigInteger(), nullable=True)),
        ("stop_reason", sa.Column("stop_reason", sa.String(500), server_default="",
                                  nullable=False)),
    ):
        assert column.name == name
        op.add_column("prescriptions", column)
    op.create_foreign_key(op.f("fk_prescriptions_signed_by_users"), "prescriptions", "users",
                          ["signed_by"], ["id"])
    op.create_check_constraint(op.f("ck_prescriptions_duration_range"), "prescriptions",
                               "duration_days IS NULL OR duration_days BETWEEN 1 AND 365")
    op.create_check_constraint(
        op.f("ck_prescriptions_reason_when_stopped"), "prescriptions",
        "status <> 'stopped' OR length(btrim(stop_reason)) > 0")
    # A discarded draft is stopped without ever having been signed.
    op.drop_constraint(op.f(SIGNED), "prescriptions", type_="check")
    op.create_check_constraint(op.f(SIGNED), "prescriptions",
                               "status IN ('draft', 'stopped') OR signed_at IS NOT NULL")

    op.add_column("tasks", sa.Column("assignee_role", sa.String(40), nullable=True))
    op.add_column("tasks", sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("done_by", sa.BigInteger(), nullable=True))
    op.add_column("tasks", sa.Column("cancel_reason", sa.String(500), server_default="",
                                     nullable=False))
    op.create_foreign_key(op.f("fk_tasks_assignee_role_roles"), "tasks", "roles",
                          ["assignee_role"], ["name"])
    op.create_foreign_key(op.f("fk_tasks_done_by_users"), "tasks", "users", ["done_by"],
                          ["id"])
    # No code path made tasks before this migration; one without anyone to do it would
    # be in nobody's inbox, so it goes to the doctors rather than be lost.
    op.execute("UPDATE tasks SET assignee_role = 'doctor' WHERE assignee_id IS NULL")
    op.create_check_constraint(op.f("ck_tasks_one_assignee"), "tasks",
                               "(assignee_id IS NULL) <> (assignee_role IS NULL)")
    op.create_check_constraint(op.f("ck_tasks_done_when_done"), "tasks",
                               "(status = 'done') = (done_at IS NOT NULL)")
    op.create_check_constraint(op.f("ck_tasks_reason_when_cancelled"), "tasks",
                               "status <> 'cancelled' OR length(btrim(cancel_reason)) > 0")
    op.create_index("ix_tasks_role_open", "tasks", ["assignee_role", "due_at"],
                    postgresql_where=sa.text("status = 'open'"))


def _functions() -> list[str]:
    allowed = "\n".join(
        f"WHEN '{source}' THEN ARRAY[{', '.join(repr(t) for t in targets)}]::text[]"
        for source, targets in ORDER_FLOW.items())
    return [
        f"""
        CREATE FUNCTION dra__order_rules() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
        DECLARE
            allowed text[];
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF dra__is_app() AND NEW.status NOT IN ('draft', 'active') THEN
                    RAISE EXCEPTION 'a new order is a draft or active, not %', NEW.status
                        USING ERRCODE = 'DRA01';
                END IF;
                RETURN NEW;
            END IF;
            IF NEW.status IS DISTINCT FROM OLD.status THEN
                allowed := CASE OLD.status {allowed} ELSE ARRAY[]::text[] END;
                IF NOT NEW.status = ANY(allowed) THEN
                    RAISE EXCEPTION 'an order that is % cannot become %', OLD.status,
                        NEW.status USING ERRCODE = 'DRA01';
                END IF;
            ELSIF NEW.discontinued_reason IS DISTINCT FROM OLD.discontinued_reason THEN
                RAISE EXCEPTION 'the reason an order was discontinued cannot be changed'
                    USING ERRCODE = 'DRA03';
            END IF;
            IF OLD.status <> 'draft' AND ({_changed(ORDER_CONTENT)}) THEN
                RAISE EXCEPTION 'an order that is % cannot be edited: discontinue it and '
                                'place a new one', OLD.status USING ERRCODE = 'DRA03';
            END IF;
            RETURN NEW;
        END $$""",
        # Signing and the freeze. INVOKER: the app's own statements are told from the
        # owner's (seed, imports) by dra__is_app(); the freeze holds for both.
        f"""
        CREATE FUNCTION dra__prescription_rules() RETURNS trigger
        LANGUAGE plpgsql {INVOKER} AS $$
        DECLARE
            app boolean := dra__is_app();
            who bigint;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF app THEN
                    IF NEW.status <> 'draft' THEN
                        RAISE EXCEPTION 'a prescription is saved as a draft and then signed '
                                        'by its prescriber' USING ERRCODE = 'DRA03';
                    END IF;
                    NEW.signed_at := NULL;
                    NEW.signed_by := NULL;
                END IF;
                -- The operator's imports keep what they carry (the checks still want a
                -- signature on anything but a draft).
                RETURN NEW;
            END IF;
            IF OLD.status = 'draft' THEN
                IF NEW.status = 'active' THEN
                    IF app THEN
                        who := dra__signed_in_user();
                        IF NOT dra_can('prescription.write') THEN
                            RAISE EXCEPTION 'only a prescriber may sign a prescription'
                                USING ERRCODE = 'DRA04';
                        END IF;
                        IF NOT EXISTS (SELECT 1 FROM providers p
                                        WHERE p.id = NEW.prescriber_id AND p.user_id = who)
                        THEN
                            RAISE EXCEPTION 'a prescription is signed only by the prescriber '
                                            'it is written for' USING ERRCODE = 'DRA04';
                        END IF;
                    ELSE
                        who := coalesce(dra_session_user(), (SELECT p.user_id
                            FROM providers p WHERE p.id = NEW.prescriber_id));
                    END IF;
                    NEW.signed_at := now();
                    NEW.signed_by := who;
                    NEW.stop_reason := '';
                ELSIF NEW.status = 'draft' OR NEW.status = 'stopped' THEN
                    -- Editing or discarding a draft: it stays unsigned.
                    NEW.signed_at := NULL;
                    NEW.signed_by := NULL;
                ELSE
                    RAISE EXCEPTION 'a draft prescription cannot become % without being '
                                    'signed', NEW.status USING ERRCODE = 'DRA01';
                END IF;
                RETURN NEW;
            END IF;
            IF {_changed(PRESCRIPTION_CONTENT)} THEN
                RAISE EXCEPTION 'a signed prescription cannot be changed: stop it and write '
                                'a new one' USING ERRCODE = 'DRA03';
            END IF;
            IF NEW.status IS DISTINCT FROM OLD.status THEN
                IF OLD.status <> 'active' OR NEW.status NOT IN ('stopped', 'completed') THEN
                    RAISE EXCEPTION 'a prescription that is % cannot become %', OLD.status,
                        NEW.status USING ERRCODE = 'DRA01';
                END IF;
            ELSIF NEW.stop_reason IS DISTINCT FROM OLD.stop_reason THEN
                RAISE EXCEPTION 'the reason a prescription was stopped cannot be changed'
                    USING ERRCODE = 'DRA03';
            END IF;
            RETURN NEW;
        END $$""",
        f"""
        CREATE FUNCTION dra__task_rules() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
        DECLARE
            app boolean := dra__is_app();
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF app THEN
                    IF NEW.status <> 'open' THEN
                        RAISE EXCEPTION 'a new task is open, not %', NEW.status
                            USING ERRCODE = 'DRA01';
                    END IF;
                    NEW.done_at := NULL;
                    NEW.done_by := NULL;
                ELSIF NEW.status = 'done' THEN
                    NEW.done_at := coalesce(NEW.done_at, now());
                END IF;
                RETURN NEW;
            END IF;
            IF OLD.status <> 'open' AND (NEW.status IS DISTINCT FROM OLD.status
                                         OR {_changed(TASK_CONTENT)}) THEN
                RAISE EXCEPTION 'a task that is % cannot be changed', OLD.status
                    USING ERRCODE = 'DRA01';
            END IF;
            IF NEW.status IS DISTINCT FROM OLD.status THEN
                IF NEW.status NOT IN ('done', 'cancelled') THEN
                    RAISE EXCEPTION 'an open task can become done or cancelled, not %',
                        NEW.status USING ERRCODE = 'DRA01';
                END IF;
            END IF;
            IF NEW.status = 'done' AND OLD.status = 'open' THEN
                NEW.done_at := now();
                NEW.done_by := CASE WHEN app THEN dra__signed_in_user()
                                    ELSE dra_session_user() END;
            ELSE
                NEW.done_at := OLD.done_at;
                NEW.done_by := OLD.done_by;
            END IF;
            RETURN NEW;
        END $$""",
    ]


def upgrade() -> None:
    _columns()
    for statement in _functions():
        op.execute(statement)
    for function in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        # The app's statements fire the triggers; nothing else calls these.
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP}")
    # Named to fire after <table>_actor (BEFORE triggers fire in name order); they read
    # nothing the actor or stamping triggers change.
    for table, function in (("orders", "dra__order_rules()"),
                            ("prescriptions", "dra__prescription_rules()"),
                            ("tasks", "dra__task_rules()")):
        op.execute(f'CREATE TRIGGER "{table}_rules" BEFORE INSERT OR UPDATE ON "{table}" '
                   f"FOR EACH ROW EXECUTE FUNCTION {function}")


def downgrade() -> None:
    for table in ("orders", "prescriptions", "tasks"):
        op.execute(f'DROP TRIGGER IF EXISTS "{table}_rules" ON "{table}"')
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_index("ix_tasks_role_open", table_name="tasks",
                  postgresql_where=sa.text("status = 'open'"))
    for name in (op.f("ck_tasks_reason_when_cancelled"), op.f("ck_tasks_done_when_done"),
                 op.f("ck_tasks_one_assignee")):
        op.drop_constraint(name, "tasks", type_="check")
    op.drop_constraint(op.f("fk_tasks_done_by_users"), "tasks", type_="foreignkey")
    op.drop_constraint(op.f("fk_tasks_assignee_role_roles"), "tasks", type_="foreignkey")
    for column in ("cancel_reason", "done_by", "done_at", "assignee_role"):
        op.drop_column("tasks", column)

    op.drop_constraint(op.f(SIGNED), "prescriptions", type_="check")
    # Discarded drafts (stopped, never signed) have no place in the older schema.
    op.execute("UPDATE prescriptions SET status = 'draft' "
               "WHERE status = 'stopped' AND signed_at IS NULL")
    op.create_check_constraint(op.f(SIGNED), "prescriptions",
                               "status = 'draft' OR signed_at IS NOT NULL")
    for name in (op.f("ck_prescriptions_reason_when_stopped"),
                 op.f("ck_prescriptions_duration_range")):
        op.drop_constraint(name, "prescriptions", type_="check")
    op.drop_constraint(op.f("fk_prescriptions_signed_by_users"), "prescriptions",
                       type_="foreignkey")
    for column in ("stop_reason", "signed_by", "instructions", "duration_days", "form",
                   "unit", "strength"):
        op.drop_column("prescriptions", column)

    op.drop_constraint(op.f("ck_orders_reason_when_cancelled"), "orders", type_="check")
    for column in ("discontinued_reason", "details"):
        op.drop_column("orders", column)

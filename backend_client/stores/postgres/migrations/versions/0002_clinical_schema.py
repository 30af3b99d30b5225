"""The clinical schema: people, patients and their search index, scheduling, clinical
records, links to recordings and documents, and the append-only audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 05:26:31.166620
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_types",
        sa.Column("id", sa.SmallInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("default_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("colour", sa.String(length=7), server_default="#607d8b", nullable=False),
        sa.CheckConstraint(
            "default_minutes BETWEEN 5 AND 480", name=op.f("ck_appointment_types_minutes_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_types")),
        sa.UniqueConstraint("name", name=op.f("uq_appointment_types_name")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("workstation", sa.String(length=100), server_default="", nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), server_default="", nullable=False),
        sa.Column("object_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=True),
        sa.Column("hash", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "ix_audit_events_patient",
        "audit_events",
        ["patient_id", "occurred_at"],
        unique=False,
        postgresql_where=sa.text("patient_id IS NOT NULL"),
    )
    op.create_index(
        "ix_audit_events_user", "audit_events", ["user_id", "occurred_at"], unique=False
    )
    op.create_table(
        "name_variants",
        sa.Column("variant", sa.Text(collation="C"), nullable=False),
        sa.Column("term", sa.Text(collation="C"), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("variant", "term", "kind", name=op.f("pk_name_variants")),
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.SmallInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=200), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "username = lower(username) AND length(username) >= 2",
            name=op.f("ck_users_username_lower"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("preferred_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("gender_identity", sa.String(length=60), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=40), server_default="", nullable=False),
        sa.Column("phone_digits", sa.String(length=20), server_default="", nullable=False),
        sa.Column("email", sa.String(length=254), server_default="", nullable=False),
        sa.Column("address_line1", sa.String(length=200), server_default="", nullable=False),
        sa.Column("address_line2", sa.String(length=200), server_default="", nullable=False),
        sa.Column("city", sa.String(length=100), server_default="", nullable=False),
        sa.Column("region", sa.String(length=100), server_default="", nullable=False),
        sa.Column("postal_code", sa.String(length=20), server_default="", nullable=False),
        sa.Column("country", sa.String(length=2), server_default="", nullable=False),
        sa.Column("language", sa.String(length=35), server_default="", nullable=False),
        sa.Column("deceased_at", sa.Date(), nullable=True),
        sa.Column("sort_name", sa.Text(collation="C"), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "birth_date >= DATE '1880-01-01'", name=op.f("ck_patients_birth_date_plausible")
        ),
        sa.CheckConstraint(
            "sex IN ('female', 'male', 'other', 'unknown')", name=op.f("ck_patients_sex_known")
        ),
        sa.CheckConstraint(
            "deceased_at IS NULL OR deceased_at >= birth_date",
            name=op.f("ck_patients_deceased_after_birth"),
        ),
        sa.CheckConstraint(
            "length(btrim(given_name)) > 0 AND length(btrim(family_name)) > 0",
            name=op.f("ck_patients_names_present"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_patients_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_patients_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_index("ix_patients_birth_date", "patients", ["birth_date"], unique=False)
    op.create_index(
        "ix_patients_phone_digits",
        "patients",
        ["phone_digits"],
        unique=False,
        postgresql_where=sa.text("phone_digits <> ''"),
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=40), server_default="", nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("specialty", sa.String(length=100), nullable=False),
        sa.Column("license_number", sa.String(length=50), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_providers_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_providers_updated_by_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_providers_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_providers_user_id")),
    )
    op.create_table(
        "role_permissions",
        sa.Column("role_id", sa.SmallInteger(), nullable=False),
        sa.Column("permission", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.id"],
            name=op.f("fk_role_permissions_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role_id", "permission", name=op.f("pk_role_permissions")),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("role_id", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_user_roles_role_id_roles")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_roles")),
    )
    op.create_index(op.f("ix_user_roles_role_id"), "user_roles", ["role_id"], unique=False)
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=10), server_default="moderate", nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("reaction", sa.String(length=300), server_default="", nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="active", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('allergy', 'clinical', 'infection', 'other')",
            name=op.f("ck_alerts_kind_known"),
        ),
        sa.CheckConstraint(
            "severity IN ('low', 'moderate', 'high')", name=op.f("ck_alerts_severity_known")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'inactive', 'resolved')", name=op.f("ck_alerts_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_alerts_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_alerts_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_alerts_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(op.f("ix_alerts_patient_id"), "alerts", ["patient_id"], unique=False)
    op.create_table(
        "appointments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("appointment_type_id", sa.SmallInteger(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="booked", nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'checked_in', 'in_progress', 'completed', 'cancelled', 'no_show')",
            name=op.f("ck_appointments_status_known"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointments_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_types.id"],
            name=op.f("fk_appointments_appointment_type_id_appointment_types"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_appointments_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_appointments_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_appointments_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(
        op.f("ix_appointments_appointment_type_id"),
        "appointments",
        ["appointment_type_id"],
        unique=False,
    )
    op.create_index(
        "ix_appointments_patient_starts", "appointments", ["patient_id", "starts_at"], unique=False
    )
    op.create_index(
        "ix_appointments_provider_starts",
        "appointments",
        ["provider_id", "starts_at"],
        unique=False,
    )
    op.create_table(
        "patient_contacts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relationship", sa.String(length=60), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=40), server_default="", nullable=False),
        sa.Column("email", sa.String(length=254), server_default="", nullable=False),
        sa.Column("is_emergency", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_contacts_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_contacts")),
    )
    op.create_index(
        op.f("ix_patient_contacts_patient_id"), "patient_contacts", ["patient_id"], unique=False
    )
    op.create_table(
        "patient_identifiers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=100), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('MRN', 'INSURANCE', 'NATIONAL_ID', 'OTHER')",
            name=op.f("ck_patient_identifiers_kind_known"),
        ),
        sa.CheckConstraint(
            "length(btrim(value)) > 0", name=op.f("ck_patient_identifiers_value_present")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_identifiers_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_identifiers")),
    )
    op.create_index(
        op.f("ix_patient_identifiers_patient_id"),
        "patient_identifiers",
        ["patient_id"],
        unique=False,
    )
    op.create_index("ix_patient_identifiers_value", "patient_identifiers", ["value"], unique=False)
    op.create_index(
        "uq_patient_identifiers_mrn",
        "patient_identifiers",
        ["value"],
        unique=True,
        postgresql_where=sa.text("kind = 'MRN'"),
    )
    op.create_table(
        "patient_name_terms",
        sa.Column("term", sa.Text(collation="C"), nullable=False),
        sa.Column("sort_name", sa.Text(collation="C"), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_name_terms_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "sort_name", "patient_id", "source", name=op.f("pk_patient_name_terms")),
    )
    op.create_index(
        "ix_patient_name_terms_patient", "patient_name_terms", ["patient_id", "term", "source"]
    )
    op.create_table(
        "patient_name_pairs",
        sa.Column("first", sa.Text(collation="C"), nullable=False),
        sa.Column("second", sa.Text(collation="C"), nullable=False),
        sa.Column("sort_name", sa.Text(collation="C"), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("penalty", sa.SmallInteger(), nullable=False),
        sa.Column("previous", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"],
                                name=op.f("fk_patient_name_pairs_patient_id_patients"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("first", "second", "sort_name", "patient_id",
                                name=op.f("pk_patient_name_pairs"),
                                postgresql_include=["penalty", "previous"]),
    )
    op.create_index(op.f("ix_patient_name_pairs_patient_id"), "patient_name_pairs",
                    ["patient_id"])
    # Name frequencies are very skewed; finer statistics let the planner pick join orders.
    op.execute("ALTER TABLE patient_name_terms ALTER COLUMN term SET STATISTICS 1000")
    op.create_table(
        "patient_names",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), server_default="previous", nullable=False),
        sa.Column("given_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("family_name", sa.String(length=100), server_default="", nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('previous', 'alias')", name=op.f("ck_patient_names_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_names_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_names")),
    )
    op.create_index(
        op.f("ix_patient_names_patient_id"), "patient_names", ["patient_id"], unique=False
    )
    op.create_table(
        "provider_working_hours",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_provider_working_hours_hours_order")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
            name=op.f("ck_provider_working_hours_validity_order"),
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 1 AND 7", name=op.f("ck_provider_working_hours_weekday_iso")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_provider_working_hours_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_working_hours")),
    )
    op.create_index(
        op.f("ix_provider_working_hours_provider_id"),
        "provider_working_hours",
        ["provider_id"],
        unique=False,
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=True),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), server_default="", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.String(length=10), server_default="normal", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_tasks_priority_known")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'cancelled')", name=op.f("ck_tasks_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_tasks_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_tasks_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_tasks_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_tasks_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(
        "ix_tasks_assignee_open",
        "tasks",
        ["assignee_id", "due_at"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(op.f("ix_tasks_patient_id"), "tasks", ["patient_id"], unique=False)
    op.create_table(
        "encounters",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("appointment_id", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'closed', 'cancelled')", name=op.f("ck_encounters_status_known")
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_encounters_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_encounters_appointment_id_appointments"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_encounters_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_encounters_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_encounters_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_encounters_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_encounters_appointment_id")),
    )
    op.create_index(
        "ix_encounters_patient_started", "encounters", ["patient_id", "started_at"], unique=False
    )
    op.create_index(op.f("ix_encounters_provider_id"), "encounters", ["provider_id"], unique=False)
    op.create_table(
        "documents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("mongo_id", sa.String(length=64), nullable=True),
        sa.Column("object_key", sa.String(length=512), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('note', 'letter', 'scan', 'attachment')", name=op.f("ck_documents_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'signed', 'amended', 'entered_in_error')",
            name=op.f("ck_documents_status_known"),
        ),
        sa.CheckConstraint(
            "mongo_id IS NOT NULL OR object_key IS NOT NULL", name=op.f("ck_documents_has_content")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_documents_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_documents_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_documents_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_documents_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_encounter_id"), "documents", ["encounter_id"], unique=False)
    op.create_index(op.f("ix_documents_patient_id"), "documents", ["patient_id"], unique=False)
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("ordered_by", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), server_default="", nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('lab', 'imaging', 'referral', 'procedure', 'other')",
            name=op.f("ck_orders_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'completed', 'cancelled')",
            name=op.f("ck_orders_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_orders_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_orders_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["ordered_by"], ["providers.id"], name=op.f("fk_orders_ordered_by_providers")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_orders_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_orders_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_encounter_id"), "orders", ["encounter_id"], unique=False)
    op.create_index(op.f("ix_orders_ordered_by"), "orders", ["ordered_by"], unique=False)
    op.create_index(op.f("ix_orders_patient_id"), "orders", ["patient_id"], unique=False)
    op.create_table(
        "prescriptions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("prescriber_id", sa.BigInteger(), nullable=False),
        sa.Column("medication", sa.String(length=200), nullable=False),
        sa.Column("dose", sa.String(length=100), nullable=False),
        sa.Column("route", sa.String(length=40), server_default="oral", nullable=False),
        sa.Column("frequency", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.String(length=40), server_default="", nullable=False),
        sa.Column("refills", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status = 'draft' OR signed_at IS NOT NULL",
            name=op.f("ck_prescriptions_signed_unless_draft"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'stopped', 'completed')",
            name=op.f("ck_prescriptions_status_known"),
        ),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on",
            name=op.f("ck_prescriptions_ends_after_start"),
        ),
        sa.CheckConstraint("refills BETWEEN 0 AND 12", name=op.f("ck_prescriptions_refills_range")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_prescriptions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_prescriptions_encounter_id_encounters"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prescriptions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["prescriber_id"],
            ["providers.id"],
            name=op.f("fk_prescriptions_prescriber_id_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_prescriptions_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriptions")),
    )
    op.create_index(
        op.f("ix_prescriptions_encounter_id"), "prescriptions", ["encounter_id"], unique=False
    )
    op.create_index(
        op.f("ix_prescriptions_patient_id"), "prescriptions", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_prescriptions_prescriber_id"), "prescriptions", ["prescriber_id"], unique=False
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("encounter_id", sa.BigInteger(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("object_key", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("transcript_doc_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="uploaded", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('uploaded', 'transcribing', 'transcribed', 'failed')",
            name=op.f("ck_recordings_status_known"),
        ),
        sa.CheckConstraint(
            "size_bytes >= 0 AND duration_ms >= 0", name=op.f("ck_recordings_sizes_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_recordings_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_recordings_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_recordings_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_recordings_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_recordings_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("object_key", name=op.f("uq_recordings_object_key")),
    )
    op.create_index(op.f("ix_recordings_author_id"), "recordings", ["author_id"], unique=False)
    op.create_index(
        op.f("ix_recordings_encounter_id"), "recordings", ["encounter_id"], unique=False
    )
    op.create_index(op.f("ix_recordings_patient_id"), "recordings", ["patient_id"], unique=False)

    # MRNs the clinic assigns: "M" + 7 digits from this sequence (backend_client.patients).
    op.execute("CREATE SEQUENCE patient_mrn_seq START WITH 1000001 MAXVALUE 9999999")

    # One provider cannot be in two places at once: overlapping live appointments are refused
    # by the database. Both elements are ranges, so GiST needs no btree_gist extension.
    op.execute("""
        ALTER TABLE appointments ADD CONSTRAINT ex_appointments_provider_overlap
        EXCLUDE USING gist (
            int8range(provider_id, provider_id, '[]') WITH &&,
            tstzrange(starts_at, ends_at, '[)') WITH &&
        ) WHERE (status NOT IN ('cancelled', 'no_show'))
    """)

    # The audit trail is append-only for everyone but a superuser who disables triggers
    # (issue 4 adds role grants and the hash chain check on top).
    op.execute("""
        CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute("""
        CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """)
    op.execute("""
        CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """)

    roles = sa.table("roles", sa.column("name", sa.String), sa.column("description", sa.String))
    op.bulk_insert(
        roles,
        [
            {"name": "doctor", "description": "Sees patients, writes and signs notes, prescribes"},
            {"name": "nurse", "description": "Sees patients, records observations and tasks"},
            {"name": "receptionist", "description": "Registers patients and manages appointments"},
            {"name": "admin", "description": "Manages accounts, settings and the audit report"},
        ],
    )
    types = sa.table(
        "appointment_types",
        sa.column("name", sa.String),
        sa.column("default_minutes", sa.SmallInteger),
        sa.column("colour", sa.String),
    )
    op.bulk_insert(
        types,
        [
            {"name": "Consultation", "default_minutes": 15, "colour": "#1976d2"},
            {"name": "Long consultation", "default_minutes": 30, "colour": "#6a1b9a"},
            {"name": "Follow-up", "default_minutes": 10, "colour": "#2e7d32"},
            {"name": "New patient", "default_minutes": 40, "colour": "#ef6c00"},
            {"name": "Procedure", "default_minutes": 45, "colour": "#c62828"},
        ],
    )


def downgrade() -> None:
    op.execute("DROP SEQUENCE IF EXISTS patient_mrn_seq")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_index(op.f("ix_recordings_patient_id"), table_name="recordings")
    op.drop_index(op.f("ix_recordings_encounter_id"), table_name="recordings")
    op.drop_index(op.f("ix_recordings_author_id"), table_name="recordings")
    op.drop_table("recordings")
    op.drop_index(op.f("ix_prescriptions_prescriber_id"), table_name="prescriptions")
    op.drop_index(op.f("ix_prescriptions_patient_id"), table_name="prescriptions")
    op.drop_index(op.f("ix_prescriptions_encounter_id"), table_name="prescriptions")
    op.drop_table("prescriptions")
    op.drop_index(op.f("ix_orders_patient_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_ordered_by"), table_name="orders")
    op.drop_index(op.f("ix_orders_encounter_id"), table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_documents_patient_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_encounter_id"), table_name="documents")
    op.drop_table("documents")
    op.drop_index(op.f("ix_encounters_provider_id"), table_name="encounters")
    op.drop_index("ix_encounters_patient_started", table_name="encounters")
    op.drop_table("encounters")
    op.drop_index(op.f("ix_tasks_patient_id"), table_name="tasks")
    op.drop_index(
        "ix_tasks_assignee_open", table_name="tasks", postgresql_where=sa.text("status = 'open'")
    )
    op.drop_table("tasks")
    op.drop_index(
        op.f("ix_provider_working_hours_provider_id"), table_name="provider_working_hours"
    )
    op.drop_table("provider_working_hours")
    op.drop_index(op.f("ix_patient_names_patient_id"), table_name="patient_names")
    op.drop_table("patient_names")
    op.drop_index(op.f("ix_patient_name_pairs_patient_id"), table_name="patient_name_pairs")
    op.drop_table("patient_name_pairs")
    op.drop_index("ix_patient_name_terms_patient", table_name="patient_name_terms")
    op.drop_table("patient_name_terms")
    op.drop_index(
        "uq_patient_identifiers_mrn",
        table_name="patient_identifiers",
        postgresql_where=sa.text("kind = 'MRN'"),
    )
    op.drop_index("ix_patient_identifiers_value", table_name="patient_identifiers")
    op.drop_index(op.f("ix_patient_identifiers_patient_id"), table_name="patient_identifiers")
    op.drop_table("patient_identifiers")
    op.drop_index(op.f("ix_patient_contacts_patient_id"), table_name="patient_contacts")
    op.drop_table("patient_contacts")
    op.drop_index("ix_appointments_provider_starts", table_name="appointments")
    op.drop_index("ix_appointments_patient_starts", table_name="appointments")
    op.drop_index(op.f("ix_appointments_appointment_type_id"), table_name="appointments")
    op.drop_table("appointments")
    op.drop_index(op.f("ix_alerts_patient_id"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index(op.f("ix_user_roles_role_id"), table_name="user_roles")
    op.drop_table("user_roles")
    op.drop_table("role_permissions")
    op.drop_table("providers")
    op.drop_index(
        "ix_patients_phone_digits",
        table_name="patients",
        postgresql_where=sa.text("phone_digits <> ''"),
    )
    op.drop_index("ix_patients_birth_date", table_name="patients")
    op.drop_table("patients")
    op.drop_table("users")
    op.drop_table("roles")
    op.drop_table("name_variants")
    op.drop_index("ix_audit_events_user", table_name="audit_events")
    op.drop_index(
        "ix_audit_events_patient",
        table_name="audit_events",
        postgresql_where=sa.text("patient_id IS NOT NULL"),
    )
    op.drop_table("audit_events")
    op.drop_table("appointment_types")

"""Clinical notes: the documents row that makes a note visible and freezes it when signed.

A note's content lives in MongoDB (``note_revisions``: insert-only for the app's MongoDB
user); its ``documents`` row says which revision is the head, and once signed, which
revision was signed and that revision's content hash. The database guards the row:

- ``author_id`` is the session's person when the app's login inserts it (never what the
  workstation sends); a new row is a draft.
- **Signing** (draft → signed) needs ``note.sign``; the signed revision must be the head;
  ``signed_by``/``signed_at`` are the session's person and the database's clock;
  ``cosign_required`` is true when the signer is a trainee (role "resident").
- **A signed row is frozen**: any change is refused (SQLSTATE ``DRA11``) except the one
  co-signature (``cosigned_by``/``cosigned_at``, once, by a session with ``note.cosign``
  that is not the signer's, stamped by the database). This holds for the app's login and
  for the owner alike (an operator who must repair a row disables the trigger, visibly).
- Other status moves are refused (``DRA12``); corrections are addenda: new rows whose
  ``addendum_of`` names the signed note of the same patient.
- A note's encounter is one of its own patient's (``DRA12``): no note filed under another
  patient's visit.

Grants, row security and the audit trigger on ``documents`` exist since 0007 (a CLINICAL
table: read with chart.open, write with note.write). New permission ``note.cosign``
(doctor) and a trainee role ``resident``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "dra_app"
DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"
INVOKER = "SECURITY INVOKER SET search_path = public, pg_temp"
# A copy, not an import: a migration keeps meaning what it meant when it was written.
RESIDENT = ("patient.search", "patient.demographics.read", "chart.open", "note.read",
            "note.write", "note.sign", "recording.read", "transcript.read",
            "prescription.read")
NEW_PERMISSIONS = (("note.cosign", "doctor"),)
# Columns a co-signature may set on a signed row, and what the stamping triggers move.
COSIGN_COLUMNS = ("cosigned_by", "cosigned_at")
STAMPED = ("version", "updated_at", "updated_by")

def _columns() -> tuple[sa.Column[object], ...]:
    """Fresh Column objects each time (a Column belongs to one table)."""
    return (
        sa.Column("template_id", sa.String(100), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("head_revision", sa.String(32), nullable=True),
        sa.Column("revision_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("signed_by", sa.BigInteger(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_revision", sa.String(32), nullable=True),
        sa.Column("signed_hash", sa.String(64), nullable=True),
        sa.Column("cosign_required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("cosigned_by", sa.BigInteger(), nullable=True),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("addendum_of", sa.Uuid(), nullable=True),
    )


FKS = (("author_id", "users", "id"), ("signed_by", "users", "id"),
       ("cosigned_by", "users", "id"), ("addendum_of", "documents", "id"))
CHECKS = {
    "signed_complete": "status <> 'signed' OR (signed_by IS NOT NULL AND signed_at IS NOT "
                       "NULL AND signed_revision IS NOT NULL AND signed_hash IS NOT NULL)",
    "cosign_complete": "(cosigned_by IS NULL) = (cosigned_at IS NULL)",
    "revision_count_positive": "revision_count >= 0",
}

# A note is linked only to an encounter of its own patient (whoever may see that
# encounter: as the owner, so that row security cannot make the answer "no such row").
SAME_PATIENT = f"""
CREATE FUNCTION dra__same_patient_encounter(p_encounter bigint, p_patient bigint)
RETURNS boolean LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT EXISTS (SELECT 1 FROM encounters e WHERE e.id = p_encounter
                      AND e.patient_id = p_patient)
$$"""

GUARD = f"""
CREATE FUNCTION dra__guard_document() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
DECLARE
    app boolean := dra__is_app();
    who bigint := dra_session_user();
    at timestamptz := clock_timestamp();
    frozen text[] := ARRAY[{', '.join(repr(c) for c in (*COSIGN_COLUMNS, *STAMPED))}];
BEGIN
    IF app AND who IS NULL THEN
        RAISE EXCEPTION 'no signed-in session' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF app OR who IS NOT NULL THEN
            NEW.author_id := who;
        END IF;
        IF app AND (NEW.status <> 'draft' OR NEW.signed_by IS NOT NULL
                    OR NEW.signed_at IS NOT NULL OR NEW.signed_revision IS NOT NULL
                    OR NEW.signed_hash IS NOT NULL OR NEW.cosign_required
                    OR NEW.cosigned_by IS NOT NULL OR NEW.cosigned_at IS NOT NULL) THEN
            RAISE EXCEPTION 'a new document is a draft; signing is its own step'
                USING ERRCODE = 'DRA12';
        END IF;
        IF NEW.encounter_id IS NOT NULL AND NOT dra__same_patient_encounter(
                NEW.encounter_id, NEW.patient_id) THEN
            RAISE EXCEPTION 'the encounter is another patient''s' USING ERRCODE = 'DRA12';
        END IF;
        IF NEW.addendum_of IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM documents d WHERE d.id = NEW.addendum_of
                   AND d.status = 'signed' AND d.patient_id = NEW.patient_id) THEN
            RAISE EXCEPTION 'an addendum corrects a signed note of the same patient'
                USING ERRCODE = 'DRA12';
        END IF;
        RETURN NEW;
    END IF;

    IF OLD.status = 'signed' THEN
        IF (to_jsonb(NEW) - frozen) IS DISTINCT FROM (to_jsonb(OLD) - frozen) THEN
            RAISE EXCEPTION 'a signed note cannot be changed; add an addendum'
                USING ERRCODE = 'DRA11';
        END IF;
        IF NEW.cosigned_by IS DISTINCT FROM OLD.cosigned_by
           OR NEW.cosigned_at IS DISTINCT FROM OLD.cosigned_at THEN
            IF OLD.cosigned_by IS NOT NULL OR NOT OLD.cosign_required THEN
                RAISE EXCEPTION 'this note needs no co-signature, or has one already'
                    USING ERRCODE = 'DRA11';
            END IF;
            IF who IS NOT NULL THEN
                IF NOT dra_can('note.cosign') THEN
                    RAISE EXCEPTION 'this role may not co-sign notes'
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                NEW.cosigned_by := who;
            END IF;
            IF NEW.cosigned_by IS NULL OR NEW.cosigned_by = OLD.signed_by THEN
                RAISE EXCEPTION 'a note is co-signed by someone other than its signer'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            NEW.cosigned_at := at;
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'this document cannot be changed in its state'
            USING ERRCODE = 'DRA11';
    END IF;

    -- A draft: who wrote it, what it corrects and its co-signature are not the writer's
    -- to change.
    IF NEW.author_id IS DISTINCT FROM OLD.author_id
       OR NEW.addendum_of IS DISTINCT FROM OLD.addendum_of
       OR NEW.patient_id IS DISTINCT FROM OLD.patient_id
       OR NEW.cosigned_by IS NOT NULL OR NEW.cosigned_at IS NOT NULL THEN
        RAISE EXCEPTION 'a draft keeps its author, patient and purpose'
            USING ERRCODE = 'DRA12';
    END IF;
    IF NEW.encounter_id IS DISTINCT FROM OLD.encounter_id AND NEW.encounter_id IS NOT NULL
       AND NOT dra__same_patient_encounter(NEW.encounter_id, NEW.patient_id) THEN
        RAISE EXCEPTION 'the encounter is another patient''s' USING ERRCODE = 'DRA12';
    END IF;
    IF NEW.status = 'draft' THEN
        IF NEW.signed_by IS NOT NULL OR NEW.signed_at IS NOT NULL
           OR NEW.signed_revision IS NOT NULL OR NEW.signed_hash IS NOT NULL
           OR NEW.cosign_required THEN
            RAISE EXCEPTION 'a draft is not signed' USING ERRCODE = 'DRA12';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status <> 'signed' THEN
        RAISE EXCEPTION 'a draft can only be signed' USING ERRCODE = 'DRA12';
    END IF;
    -- Signing.
    IF NEW.head_revision IS DISTINCT FROM OLD.head_revision
       OR NEW.signed_revision IS DISTINCT FROM OLD.head_revision
       OR NEW.signed_hash IS NULL THEN
        RAISE EXCEPTION 'only the newest revision can be signed, with its hash'
            USING ERRCODE = 'DRA12';
    END IF;
    IF who IS NOT NULL THEN
        IF NOT dra_can('note.sign') THEN
            RAISE EXCEPTION 'this role may not sign notes'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        NEW.signed_by := who;
        NEW.cosign_required := EXISTS (
            SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             WHERE ur.user_id = who AND r.name = 'resident');
    END IF;
    IF NEW.signed_by IS NULL THEN
        RAISE EXCEPTION 'a signature names its signer' USING ERRCODE = 'DRA12';
    END IF;
    NEW.signed_at := at;
    RETURN NEW;
END $$"""


def upgrade() -> None:
    for new in _columns():
        op.add_column("documents", new)
    for column, table, target in FKS:
        op.create_foreign_key(f"fk_documents_{column}_{table}", "documents", table,
                              [column], [target])
    for name, condition in CHECKS.items():
        op.create_check_constraint(f"ck_documents_{name}", "documents", condition)
    op.create_index("ix_documents_addendum_of", "documents", ["addendum_of"])
    # The chart's note list: a patient's documents, newest first.
    op.create_index("ix_documents_patient_created", "documents",
                    ["patient_id", "created_at"])

    op.execute(SAME_PATIENT)
    op.execute(GUARD)
    for function in ("dra__same_patient_encounter(bigint, bigint)", "dra__guard_document()"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP}")
    # Named to run after documents_actor and before the audit trigger (AFTER anyway).
    op.execute("CREATE TRIGGER documents_guard BEFORE INSERT OR UPDATE ON documents "
               "FOR EACH ROW EXECUTE FUNCTION dra__guard_document()")

    conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO roles (name, description) VALUES ('resident', "
                         "'A doctor in training: signed notes wait for a co-signature') "
                         "ON CONFLICT (name) DO NOTHING"))
    rows = [(p, "resident") for p in RESIDENT] + list(NEW_PERMISSIONS)
    for permission, role in rows:
        conn.execute(sa.text(
            "INSERT INTO role_permissions (role_id, permission) "
            "SELECT id, :p FROM roles WHERE name = :r ON CONFLICT DO NOTHING"),
            {"p": permission, "r": role})


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM role_permissions WHERE permission = ANY(:p)"),
                 {"p": [p for p, _ in NEW_PERMISSIONS]})
    conn.execute(sa.text("DELETE FROM role_permissions WHERE role_id IN "
                         "(SELECT id FROM roles WHERE name = 'resident')"))
    conn.execute(sa.text("DELETE FROM user_roles WHERE role_id IN "
                         "(SELECT id FROM roles WHERE name = 'resident')"))
    conn.execute(sa.text("DELETE FROM roles WHERE name = 'resident'"))
    op.execute("DROP TRIGGER IF EXISTS documents_guard ON documents")
    op.execute("DROP FUNCTION IF EXISTS dra__guard_document()")
    op.execute("DROP FUNCTION IF EXISTS dra__same_patient_encounter(bigint, bigint)")
    op.drop_index("ix_documents_patient_created", table_name="documents")
    op.drop_index("ix_documents_addendum_of", table_name="documents")
    for name in CHECKS:
        op.drop_constraint(f"ck_documents_{name}", "documents", type_="check")
    for column, table, _ in FKS:
        op.drop_constraint(f"fk_documents_{column}_{table}", "documents", type_="foreignkey")
    for old in reversed(_columns()):
        op.drop_column("documents", old.name)

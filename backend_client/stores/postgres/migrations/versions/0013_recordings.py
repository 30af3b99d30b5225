"""Dictation (issue 12): the ``recordings`` row a delivered dictation makes visible.

A recording is registered at stop, with its author's session, as a *pending* row (invisible
to every list); the workstation's upload queue then stores the sealed object in S3 and its
metadata in MongoDB, and only then turns the row *uploaded* through ``recording_delivered``
(docs/dictation.md, "Delivery"). The database guards the row:

- The app's login inserts only pending rows, only for the session's own person as author
  (``recording.create``; a restricted record only for its clinicians), and only the columns
  a registration names (column grants); it updates and deletes no row.
- ``recording_delivered`` (SECURITY DEFINER) is the one way a row becomes uploaded: only
  pending → uploaded, only the columns delivery owns, the object key derived from the id;
  called again with the same values it answers "already", with other values it refuses
  (``DRA23``). It needs no session (a stopped recording uploads after its author signed
  out) but a *proof*: the row keeps ``delivery_check`` = sha256(proof), inserted at
  registration by the workstation that recorded it, which alone can make the proof (an HMAC
  of the id under its workstation key). Whoever learns a pending id (MongoDB's metadata
  documents are written before the row is delivered) cannot deliver it with other values
  and so block the real delivery (``DRA24``).
- ``data_key`` (the 32-byte key the object is sealed under) is not readable by the app's
  login (column grants). ``recording_data_key`` gives it to a session with
  ``recording.read`` that may see the row, and audits "recording.play"; a refusal is
  audited as "access.denied" and answered, not raised (so that the audit row stays).
- Reading needs ``recording.read`` (doctor, nurse, resident and the new role
  ``transcriptionist``, who also sees patients' names for the worklist's captions).
- The row audit trigger (0007) and the created/updated stamping (0006) stay as they were;
  ``created_at`` is when the recording was registered, by the database's clock.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP = "dra_app"
DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"
# A copy, not an import: a migration keeps meaning what it meant when it was written.
TRANSCRIPTIONIST = ("recording.read", "patient.demographics.read")
STATUSES = ("pending", "uploaded", "transcribing", "transcribed", "failed")
OLD_STATUSES = ("uploaded", "transcribing", "transcribed", "failed")
PRIORITIES = ("routine", "urgent", "stat")
WORK_TYPES = ("letter", "note", "report")
# Unknown until delivered: nullable from now on, required once uploaded.
DELIVERED = ("object_key", "sha256", "size_bytes", "duration_ms", "content_type")
INSERTABLE = ("id", "patient_id", "encounter_id", "note_id", "author_id", "priority",
              "work_type", "delivery_check")
READABLE = ("id", "patient_id", "encounter_id", "author_id", "object_key", "sha256",
            "size_bytes", "duration_ms", "content_type", "transcript_doc_id", "status",
            "created_at", "updated_at", "version", "created_by", "updated_by", "note_id",
            "priority", "work_type", "delivered_at")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


CHECKS = {
    "priority_known": _in("priority", PRIORITIES),
    "work_type_known": _in("work_type", WORK_TYPES),
    "note_id_hex": "note_id IS NULL OR note_id ~ '^[0-9a-f]{32}$'",
    "delivered_complete": "status = 'pending' OR (" + " AND ".join(
        f"{c} IS NOT NULL" for c in (*DELIVERED, "data_key", "delivered_at")) + ")",
    "data_key_length": "data_key IS NULL OR octet_length(data_key) = 32",
    "delivery_check_length": "octet_length(delivery_check) = 32",
}

DELIVERED_FN = f"""
CREATE FUNCTION recording_delivered(p_id uuid, p_object_key text, p_sha256 text,
                                    p_size bigint, p_duration integer, p_data_key bytea,
                                    p_proof bytea)
RETURNS text LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    r recordings;
BEGIN
    IF p_object_key IS DISTINCT FROM
           'recordings/' || replace(p_id::text, '-', '') || '.ogg.sealed'
       OR p_sha256 IS NULL OR p_sha256 !~ '^[0-9a-f]{{64}}$'
       OR p_size IS NULL OR p_size <= 0 OR p_duration IS NULL OR p_duration < 0
       OR p_data_key IS NULL OR octet_length(p_data_key) <> 32 THEN
        RAISE EXCEPTION 'a delivery names the object derived from the id, its checksum, '
                        'size, duration and key' USING ERRCODE = 'DRA22';
    END IF;
    SELECT * INTO r FROM recordings WHERE id = p_id FOR UPDATE;
    IF r.id IS NULL THEN
        RAISE EXCEPTION 'no such recording is registered' USING ERRCODE = 'DRA21';
    END IF;
    IF p_proof IS NULL OR sha256(p_proof) IS DISTINCT FROM r.delivery_check THEN
        RAISE EXCEPTION 'this delivery does not come from the workstation that recorded it'
            USING ERRCODE = 'DRA24';
    END IF;
    IF r.status = 'pending' THEN
        UPDATE recordings SET status = 'uploaded', object_key = p_object_key,
               sha256 = p_sha256, size_bytes = p_size, duration_ms = p_duration,
               content_type = 'audio/ogg; codecs=opus', data_key = p_data_key,
               delivered_at = clock_timestamp(), updated_at = clock_timestamp(),
               version = version + 1
         WHERE id = p_id;
        PERFORM dra__audit('recording.delivered', r.author_id,
                           coalesce(dra_session_workstation(), ''), r.patient_id,
                           'recording', replace(p_id::text, '-', ''), NULL);
        RETURN 'delivered';
    END IF;
    IF r.object_key = p_object_key AND r.sha256 = p_sha256 AND r.size_bytes = p_size
       AND r.duration_ms = p_duration AND r.data_key = p_data_key THEN
        RETURN 'already';
    END IF;
    RAISE EXCEPTION 'this recording was delivered already, with other values'
        USING ERRCODE = 'DRA23';
END $$"""

DATA_KEY_FN = f"""
CREATE FUNCTION recording_data_key(p_id uuid, OUT status text, OUT data_key bytea)
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    who bigint := dra_session_user();
    ws text := coalesce(dra_session_workstation(), '');
    r recordings;
BEGIN
    IF who IS NULL THEN
        status := 'signed_out';
        RETURN;
    END IF;
    IF NOT dra_can('recording.read') THEN
        PERFORM dra__audit('access.denied', who, ws, NULL, 'permission', 'recording.read',
                           jsonb_build_object('recording', replace(p_id::text, '-', '')));
        status := 'denied';
        RETURN;
    END IF;
    SELECT * INTO r FROM recordings WHERE id = p_id AND recordings.status <> 'pending';
    IF r.id IS NULL OR NOT dra_may_open(r.patient_id) THEN
        status := 'missing';
        RETURN;
    END IF;
    PERFORM dra__audit('recording.play', who, ws, r.patient_id, 'recording',
                       replace(p_id::text, '-', ''), NULL);
    status := 'ok';
    data_key := r.data_key;
END $$"""

FUNCTIONS = ("recording_delivered(uuid, text, text, bigint, integer, bytea, bytea)",
             "recording_data_key(uuid)")


def _can(permission: str) -> str:
    return f"(SELECT dra_can('{permission}'))"


def upgrade() -> None:
    op.add_column("recordings", sa.Column("note_id", sa.Text(), nullable=True))
    op.add_column("recordings", sa.Column("priority", sa.Text(), nullable=False,
                                          server_default="routine"))
    op.add_column("recordings", sa.Column("work_type", sa.Text(), nullable=False,
                                          server_default="note"))
    op.add_column("recordings", sa.Column("data_key", sa.LargeBinary(), nullable=True))
    op.add_column("recordings", sa.Column("delivered_at", sa.DateTime(timezone=True),
                                          nullable=True))
    op.add_column("recordings", sa.Column("delivery_check", sa.LargeBinary(), nullable=True))
    for column in DELIVERED:
        op.alter_column("recordings", column, nullable=True)
    op.drop_constraint(op.f("ck_recordings_status_known"), "recordings", type_="check")
    op.create_check_constraint(op.f("ck_recordings_status_known"), "recordings",
                               _in("status", STATUSES))
    op.alter_column("recordings", "status", server_default="pending")
    # No version before this one wrote recordings rows, so every row satisfies these.
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_recordings_{name}"), "recordings", condition)
    # The transcription worklist: delivered, by priority, oldest first.
    op.create_index("ix_recordings_worklist", "recordings", ["status", "priority", "created_at"])
    op.create_index("ix_recordings_patient_created", "recordings", ["patient_id", "created_at"])

    # Row security: 0007's clinical policies replaced by the dictation's own.
    for policy in ("read", "insert", "update"):
        op.execute(f'DROP POLICY IF EXISTS "{policy}" ON recordings')
    op.execute(
        'CREATE POLICY "read" ON recordings FOR SELECT TO PUBLIC USING ('
        f"status <> 'pending' AND {_can('recording.read')} AND dra_may_open(patient_id))")
    op.execute(
        'CREATE POLICY "insert" ON recordings FOR INSERT TO PUBLIC WITH CHECK ('
        f"{_can('recording.create')} AND author_id = (SELECT dra_session_user()) "
        "AND status = 'pending' AND delivery_check IS NOT NULL "
        "AND dra_may_open(patient_id))")

    # Column grants: the keys are never readable, and a registration names only its own
    # columns (status stays its default, pending).
    op.execute(f"REVOKE SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON recordings FROM {APP}")
    op.execute(f"GRANT SELECT ({', '.join(READABLE)}) ON recordings TO {APP}")
    op.execute(f"GRANT INSERT ({', '.join(INSERTABLE)}) ON recordings TO {APP}")

    op.execute(DELIVERED_FN)
    op.execute(DATA_KEY_FN)
    for function in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {APP}")

    conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO roles (name, description) VALUES ('transcriptionist', "
                         "'Types dictations: lists and plays recordings, urgent ones first') "
                         "ON CONFLICT (name) DO NOTHING"))
    for permission in TRANSCRIPTIONIST:
        conn.execute(sa.text(
            "INSERT INTO role_permissions (role_id, permission) "
            "SELECT id, :p FROM roles WHERE name = 'transcriptionist' ON CONFLICT DO NOTHING"),
            {"p": permission})


def downgrade() -> None:
    conn = op.get_bind()
    for table in ("role_permissions", "user_roles"):
        conn.execute(sa.text(f"DELETE FROM {table} WHERE role_id IN "
                             "(SELECT id FROM roles WHERE name = 'transcriptionist')"))
    conn.execute(sa.text("DELETE FROM roles WHERE name = 'transcriptionist'"))
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    for policy in ("read", "insert"):
        op.execute(f'DROP POLICY IF EXISTS "{policy}" ON recordings')
    # 0007's clinical policies and table grants.
    may = "(SELECT dra_can('chart.open')) AND dra_may_open(patient_id)"
    write = f"{_can('recording.create')} AND dra_may_open(patient_id)"
    op.execute(f'CREATE POLICY "read" ON recordings FOR SELECT TO PUBLIC USING ({may})')
    op.execute(f'CREATE POLICY "insert" ON recordings FOR INSERT TO PUBLIC WITH CHECK ({write})')
    op.execute(f'CREATE POLICY "update" ON recordings FOR UPDATE TO PUBLIC USING ({write}) '
               f"WITH CHECK ({write})")
    op.execute(f"REVOKE ALL ON recordings FROM {APP}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON recordings TO {APP}")
    # Pending rows cannot be kept (nothing was delivered for them): the workstations'
    # queues register them again after an upgrade.
    op.execute("DELETE FROM recordings WHERE status = 'pending' OR object_key IS NULL")
    op.drop_index("ix_recordings_patient_created", table_name="recordings")
    op.drop_index("ix_recordings_worklist", table_name="recordings")
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_recordings_{name}"), "recordings", type_="check")
    op.drop_constraint(op.f("ck_recordings_status_known"), "recordings", type_="check")
    op.create_check_constraint(op.f("ck_recordings_status_known"), "recordings",
                               _in("status", OLD_STATUSES))
    op.alter_column("recordings", "status", server_default="uploaded")
    for column in DELIVERED:
        op.alter_column("recordings", column, nullable=False)
    for column in ("delivery_check", "delivered_at", "data_key", "work_type", "priority",
                   "note_id"):
        op.drop_column("recordings", column)

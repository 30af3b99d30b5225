"""The role permission matrix as data (backend_client.accounts.permissions.MATRIX).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy, not an import: a migration must keep meaning what it meant when it was written.
ROWS = [
    ("patient.search", ("doctor", "nurse", "receptionist")),
    ("patient.demographics.read", ("doctor", "nurse", "receptionist")),
    ("patient.demographics.write", ("doctor", "nurse", "receptionist")),
    ("appointment.manage", ("doctor", "nurse", "receptionist")),
    ("chart.open", ("doctor", "nurse")),
    ("note.read", ("doctor", "nurse")),
    ("note.write", ("doctor", "nurse")),
    ("note.sign", ("doctor",)),
    ("recording.create", ("doctor",)),
    ("recording.read", ("doctor", "nurse")),
    ("transcript.read", ("doctor", "nurse")),
    ("prescription.read", ("doctor", "nurse")),
    ("prescription.write", ("doctor",)),
    ("order.write", ("doctor",)),
    ("alert.write", ("doctor", "nurse")),
    ("task.manage", ("doctor", "nurse", "receptionist")),
    ("chart.break_glass", ("doctor", "nurse")),
    ("user.manage", ("admin",)),
    ("session.revoke", ("admin",)),
    ("audit.report", ("admin",)),
]


def upgrade() -> None:
    conn = op.get_bind()
    for permission, roles in ROWS:
        for role in roles:
            conn.execute(sa.text(
                "INSERT INTO role_permissions (role_id, permission) "
                "SELECT id, :p FROM roles WHERE name = :r ON CONFLICT DO NOTHING"),
                {"p": permission, "r": role})


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM role_permissions WHERE permission = ANY(:p)"),
                          {"p": [p for p, _ in ROWS]})

"""Restricted records and the break-the-glass report; the app role keeps its grants on
tables created by later migrations.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "dra_app"
ROWS = [("patient.restrict", ("doctor",))]


def upgrade() -> None:
    op.add_column("patients", sa.Column("restricted", sa.Boolean(),
                                        server_default=sa.text("false"), nullable=False))
    conn = op.get_bind()
    for permission, roles in ROWS:
        for role in roles:
            conn.execute(sa.text(
                "INSERT INTO role_permissions (role_id, permission) "
                "SELECT id, :p FROM roles WHERE name = :r ON CONFLICT DO NOTHING"),
                {"p": permission, "r": role})
    # Tables and sequences that the migrating role creates from now on are the app's to
    # use as well (an audit-like table must REVOKE explicitly, as 0003 does).
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")
    op.execute("CREATE INDEX ix_audit_events_break_glass ON audit_events (occurred_at) "
               "WHERE action = 'chart.break_glass'")
    # PostgreSQL 14 and older let every role create tables in public; the app's login
    # must not (PostgreSQL 15+ already revokes it).
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP INDEX ix_audit_events_break_glass")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
               f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}")
    op.get_bind().execute(sa.text("DELETE FROM role_permissions WHERE permission = ANY(:p)"),
                          {"p": [p for p, _ in ROWS]})
    op.drop_column("patients", "restricted")

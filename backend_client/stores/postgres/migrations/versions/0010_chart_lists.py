"""The chart's lists: problems, medications, allergies and alerts retired with a reason, encounters closed with a summary.

(Placeholder: filled in by the helper that owns it; no-op until then.)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

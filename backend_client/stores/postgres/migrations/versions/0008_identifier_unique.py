"""An insurance or national number belongs to one patient per issuer.

Two front desks registering one person at the same moment could both save a chart with the
same national ID: the service's duplicate check is a read, and nothing in the database said
that a number identifies one person. From here a unique index does, per kind and issuer:
the issuer's spelling in another case ("TK", "tk") and the number's case or surrounding
blanks do not make another number. MRNs were unique already (0002); OTHER identifiers
(a library card, an employee number) stay free.

A database that already holds one number on two patients is not changed: the upgrade stops
with a sentence naming the patients (by id only) and what to do, and since the whole
upgrade is one transaction nothing of it is applied. The same number twice on one patient
(only possible by hand in SQL) is reduced to its first row, which loses nothing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend_client.errors import DraError

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_patient_identifiers_issued"
# A copy, not an import of the models' constants: a migration keeps meaning what it meant.
KINDS = "kind IN ('INSURANCE', 'NATIONAL_ID')"
KEY = "kind, lower(btrim(issuer)), upper(btrim(value))"
SHOWN = 10  # groups of patients named in the error; the rest are counted


class SharedIdentifiers(DraError):
    """The database holds an insurance or national number on more than one patient."""


def _shared_error(groups: list[list[int]]) -> SharedIdentifiers:
    def names(ids: list[int]) -> str:  # "12 and 57", "44, 45 and 46"
        return f"{', '.join(map(str, ids[:-1]))} and {ids[-1]}"

    n = len(groups)
    listed = "; ".join(names(g) for g in groups[:SHOWN])
    more = f"; and {n - SHOWN} more" if n > SHOWN else ""
    return SharedIdentifiers(
        f"The database was not upgraded: {n} insurance or national ID number"
        f"{'s are' if n != 1 else ' is'} recorded on more than one patient "
        f"(patient ids {listed}{more}), and from this version a number belongs to one "
        "patient per issuer. Merge the duplicate charts or correct the numbers, then run "
        "'dr-assistant-admin migrate' again; nothing was changed.")


def upgrade() -> None:
    conn = op.get_bind()
    # Writers wait from here to the commit, so no registration slips a duplicate in between
    # the check and the index (CREATE INDEX would take this lock anyway); readers go on.
    op.execute("LOCK TABLE patient_identifiers IN SHARE MODE")
    groups = [list(r[0]) for r in conn.execute(sa.text(f"""
        SELECT array_agg(DISTINCT patient_id ORDER BY patient_id)
          FROM patient_identifiers WHERE {KINDS}
         GROUP BY {KEY}
        HAVING count(DISTINCT patient_id) > 1
         ORDER BY min(patient_id)"""))]
    if groups:
        raise _shared_error(groups)
    conn.execute(sa.text("""
        DELETE FROM patient_identifiers d
         USING patient_identifiers k
         WHERE d.kind IN ('INSURANCE', 'NATIONAL_ID') AND k.kind = d.kind
           AND k.patient_id = d.patient_id AND k.id < d.id
           AND lower(btrim(k.issuer)) = lower(btrim(d.issuer))
           AND upper(btrim(k.value)) = upper(btrim(d.value))"""))
    op.execute(f"CREATE UNIQUE INDEX {INDEX} ON patient_identifiers ({KEY}) WHERE {KINDS}")


def downgrade() -> None:
    op.execute(f"DROP INDEX {INDEX}")

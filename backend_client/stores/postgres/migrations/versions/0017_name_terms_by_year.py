"""The name index knows each patient's year of birth (issue 13, search speed).

"john 1963" asked for every term starting "john" (33,000 rows at 1,000,000 patients) and
every birth of 1963 (12,800) and hashed one against the other: 20–40 ms, the slowest
class of the hard mix. ``patient_name_terms.birth_year`` and the index
``ix_patient_name_terms_year`` (birth_year, term) INCLUDE (patient_id, sort_name, source)
make a year and a word's prefix one narrow range of one index, read from the index alone
with what a match is scored and ordered by: the few hundred Johns born in 1963.

The year is the database's, never the workstation's:
- ``patient_name_terms_year`` (BEFORE INSERT) sets it from the patient's row, whatever
  the inserting statement said, so a workstation that writes a term with another year (or
  none) cannot hide a patient from, or slip one into, a search by year.
- ``patients_birth_year`` (AFTER UPDATE OF birth_date) writes the new year into the
  patient's terms. The app's login may not update the name index (0007 grants it INSERT
  and DELETE only), so both functions are SECURITY DEFINER, owned by the schema's owner,
  and do only this.
Existing rows are written again with their patients' years (copied aside, the table
emptied, copied back, then its indexes built): an UPDATE of every row left each of the
table's indexes with a dead entry per row, 1.7 times their size at 1,000,000 patients until
a REINDEX.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"

FUNCTIONS = [
    f"""
    CREATE FUNCTION dra__term_birth_year() RETURNS trigger
    LANGUAGE plpgsql {DEFINER} AS $$
    BEGIN
        NEW.birth_year := (SELECT extract(year FROM p.birth_date)::smallint
                             FROM patients p WHERE p.id = NEW.patient_id);
        RETURN NEW;
    END $$""",
    f"""
    CREATE FUNCTION dra__patient_birth_year() RETURNS trigger
    LANGUAGE plpgsql {DEFINER} AS $$
    BEGIN
        UPDATE patient_name_terms
           SET birth_year = extract(year FROM NEW.birth_date)::smallint
         WHERE patient_id = NEW.id
           AND birth_year IS DISTINCT FROM extract(year FROM NEW.birth_date)::smallint;
        RETURN NULL;
    END $$""",
]


TERM_KEY = ["term", "sort_name", "patient_id", "source"]


def upgrade() -> None:
    op.add_column("patient_name_terms", sa.Column("birth_year", sa.SmallInteger(),
                                                  nullable=True))
    op.execute("""
        CREATE TEMPORARY TABLE terms_with_years ON COMMIT DROP AS
        SELECT t.term, t.sort_name, t.patient_id, t.source,
               extract(year FROM p.birth_date)::smallint AS birth_year
          FROM patient_name_terms t JOIN patients p ON p.id = t.patient_id""")
    op.drop_index("ix_patient_name_terms_patient", table_name="patient_name_terms")
    op.drop_constraint("pk_patient_name_terms", "patient_name_terms", type_="primary")
    op.execute("TRUNCATE patient_name_terms")
    op.execute("""
        INSERT INTO patient_name_terms (term, sort_name, patient_id, source, birth_year)
        SELECT term, sort_name, patient_id, source, birth_year FROM terms_with_years""")
    op.create_primary_key("pk_patient_name_terms", "patient_name_terms", TERM_KEY)
    op.create_index("ix_patient_name_terms_patient", "patient_name_terms",
                    ["patient_id", "term", "source"])
    op.create_index("ix_patient_name_terms_year", "patient_name_terms",
                    ["birth_year", "term"],
                    postgresql_include=["patient_id", "sort_name", "source"])
    op.execute("ANALYZE patient_name_terms")
    for sql in FUNCTIONS:
        op.execute(sql)
    for name in ("dra__term_birth_year", "dra__patient_birth_year"):
        op.execute(f"REVOKE ALL ON FUNCTION {name}() FROM PUBLIC")
    op.execute("CREATE TRIGGER patient_name_terms_year BEFORE INSERT ON patient_name_terms "
               "FOR EACH ROW EXECUTE FUNCTION dra__term_birth_year()")
    op.execute("CREATE TRIGGER patients_birth_year AFTER UPDATE OF birth_date ON patients "
               "FOR EACH ROW WHEN (OLD.birth_date IS DISTINCT FROM NEW.birth_date) "
               "EXECUTE FUNCTION dra__patient_birth_year()")


def downgrade() -> None:
    op.execute("DROP TRIGGER patients_birth_year ON patients")
    op.execute("DROP TRIGGER patient_name_terms_year ON patient_name_terms")
    op.execute("DROP FUNCTION dra__patient_birth_year()")
    op.execute("DROP FUNCTION dra__term_birth_year()")
    op.drop_index("ix_patient_name_terms_year", table_name="patient_name_terms")
    op.drop_column("patient_name_terms", "birth_year")

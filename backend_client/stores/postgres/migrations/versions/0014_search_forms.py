"""Patient search finds the forms clinics type (issue 13): phone numbers by their last
digits, names typed joined, unspaced CJK names, and the Mac/Mc/M' family.

- ``patients.phone_tail``, the last seven digits of ``phone_digits`` (a generated column),
  and its index. Search finds a number by any format and by its last 7+ digits ("206-5843"
  for (917) 206-5843, "020 7946 0958" for +44 20 7946 0958): an index lookup of the tail,
  then a suffix check. The numbers themselves are not changed. A column rather than an
  index on ``right(phone_digits, 7)``: under row-level security (the app's login) only
  leakproof conditions may use an index, and ``right()`` is not leakproof, so the
  expression index was passed over for a scan of every patient.
- ``ix_patients_birth_date`` carries the patient id: "anna 1984" reads that year's births
  from the index alone and meets the name's matches there, instead of visiting each
  birth's row.
- The name index gains the forms ``names.patient_terms`` now makes: a name of several words
  joined ("van Dam" → vandam), family + given of a CJK name ("李 娜" → 李娜), and the other
  Mac/Mc forms and the stem ("MacLeod" → mcleod, leod). Only the patients whose names can
  have them are re-indexed (a space in a name, a CJK name, a name starting Mac/Mc/M'); their
  rows are written again from their names, as the service writes them on every save.

Written beside 0013 (recordings) and chained after it when both were merged; nothing here
depends on 0013.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 08:10:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from backend_client.patients import names

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Names that can have a form the old index did not hold (see names._typed_forms).
_CANDIDATES = r"""
    SELECT p.id, p.given_name, p.family_name, p.middle_name, p.preferred_name
    FROM patients p
    WHERE p.family_name ~ '\s' OR p.given_name ~ '\s' OR p.family_name ~* '^m(ac|c|'')'
       OR p.family_name ~ '[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]'
       OR EXISTS (SELECT 1 FROM patient_names n WHERE n.patient_id = p.id AND n.kind = 'previous'
                  AND (n.family_name ~ '\s' OR n.family_name ~* '^m(ac|c|'')'
                       OR n.family_name ~ '[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]'))
    ORDER BY p.id
"""
BATCH = 2000


def upgrade() -> None:
    op.add_column("patients", sa.Column(
        "phone_tail", sa.String(7), sa.Computed("right(phone_digits, 7)", persisted=True)))
    op.create_index("ix_patients_phone_tail", "patients", ["phone_tail"],
                    postgresql_where=sa.text("phone_tail <> ''"))
    op.drop_index("ix_patients_birth_date", table_name="patients")
    op.create_index("ix_patients_birth_date", "patients", ["birth_date", "id"])
    _reindex()


def downgrade() -> None:
    op.drop_index("ix_patients_birth_date", table_name="patients")
    op.create_index("ix_patients_birth_date", "patients", ["birth_date"])
    op.drop_index("ix_patients_phone_tail", table_name="patients")
    op.drop_column("patients", "phone_tail")
    # The extra terms only ever add matches; leaving them is harmless, and a re-index with
    # the older code is what the older version would do on each save anyway.


def _reindex() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(_CANDIDATES)).all()
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        ids = [r.id for r in batch]
        previous: dict[int, list[tuple[str, str]]] = {}
        for pid, given, family in conn.execute(sa.text(
                "SELECT patient_id, given_name, family_name FROM patient_names "
                "WHERE kind = 'previous' AND patient_id = ANY(:ids) ORDER BY id"), {"ids": ids}):
            previous.setdefault(pid, []).append((given, family))
        terms: dict[str, list[Any]] = {"t": [], "k": [], "p": [], "s": []}
        pairs: dict[str, list[Any]] = {"a": [], "b": [], "k": [], "p": [], "n": [], "v": []}
        variants: set[tuple[str, str, int]] = set()
        for r in batch:
            person = names.patient_terms(names.PersonNames(
                r.given_name, r.family_name, r.middle_name, r.preferred_name,
                tuple(previous.get(r.id, ()))))
            key = names.sort_name(r.family_name, r.given_name)
            for t, src in person:
                for col, value in zip("tkps", (t, key, r.id, src), strict=True):
                    terms[col].append(value)
            for a, b, n, v in names.patient_pairs(person):
                for col, value in zip("abkpnv", (a, b, key, r.id, n, v), strict=True):
                    pairs[col].append(value)
            variants |= names.dictionary_for(t for t, _ in person)
        conn.execute(sa.text("DELETE FROM patient_name_terms WHERE patient_id = ANY(:ids)"),
                     {"ids": ids})
        conn.execute(sa.text("DELETE FROM patient_name_pairs WHERE patient_id = ANY(:ids)"),
                     {"ids": ids})
        # One statement per table and batch (arrays, unnested by the server).
        conn.execute(sa.text(
            "INSERT INTO patient_name_terms (term, sort_name, patient_id, source) "
            "SELECT * FROM unnest(CAST(:t AS text[]), CAST(:k AS text[]), "
            "CAST(:p AS bigint[]), CAST(:s AS smallint[]))"), terms)
        conn.execute(sa.text(
            'INSERT INTO patient_name_pairs ("first", "second", sort_name, patient_id, '
            "penalty, previous) SELECT * FROM unnest(CAST(:a AS text[]), CAST(:b AS text[]), "
            "CAST(:k AS text[]), CAST(:p AS bigint[]), CAST(:n AS smallint[]), "
            "CAST(:v AS boolean[]))"), pairs)
        dictionary = sorted(variants)
        conn.execute(sa.text(
            "INSERT INTO name_variants (variant, term, kind) SELECT * FROM unnest("
            "CAST(:v AS text[]), CAST(:t AS text[]), CAST(:k AS smallint[])) "
            "ON CONFLICT DO NOTHING"),
            {"v": [v for v, _, _ in dictionary], "t": [t for _, t, _ in dictionary],
             "k": [k for _, _, k in dictionary]})

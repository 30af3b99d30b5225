"""Phone numbers in E.164 (issue 13): the patients' and their emergency contacts' numbers
as the app now stores them, read with the clinic's phone country (``clinic_settings``
"locale.phone_region", else the locale of the computer running the migration).

``patients.phone_digits`` becomes the E.164 digits (the country code first), so its
generated ``phone_tail`` (0014, the last seven digits) is unchanged for a number typed
with its area code, and search by any format and by the last 7+ digits keeps working. A
number that cannot be read (a note such as "ask daughter", seven digits with no area
code) is left as it was: search still finds it by its digits, and the form says what is
wrong with it when the patient is next edited.

Downgrade writes each E.164 number as the older version showed numbers best: national
format for the clinic's country, international otherwise (the punctuation first typed is
not kept), with ``phone_digits`` as the older version computed them from that text.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:40:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from backend_client.clinic import clinic_locale
from backend_client.patients import names, phones

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _region(conn: sa.Connection) -> str:
    return clinic_locale(conn).phone_region


def _e164(region: str) -> Callable[[str], str | None]:
    def convert(phone: str) -> str | None:
        try:
            return phones.to_e164(phone, region)
        except phones.PhoneProblem:
            return None
    return convert


def _shown(region: str) -> Callable[[str], str | None]:
    def convert(phone: str) -> str | None:
        return phones.display(phone, region) if phone.startswith("+") else None
    return convert


def _rewrite(conn: sa.Connection, convert: Callable[[str], str | None]) -> None:
    """Every patient's and contact's number through ``convert`` (None: left alone), one
    statement per table and batch (arrays, unnested by the server)."""
    for table, digits in (("patients", True), ("patient_contacts", False)):
        last = 0
        while True:
            rows = conn.execute(sa.text(
                f"SELECT id, phone FROM {table} WHERE phone <> '' AND id > :last "
                "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
            if not rows:
                break
            last = rows[-1].id
            ids: list[int] = []
            values: list[str] = []
            for row in rows:
                new = convert(row.phone)
                if new is not None and new != row.phone:
                    ids.append(row.id)
                    values.append(new)
            if not ids:
                continue
            extra = ", phone_digits = u.digits" if digits else ""
            conn.execute(sa.text(
                f"UPDATE {table} t SET phone = u.phone{extra} FROM unnest("
                "CAST(:ids AS bigint[]), CAST(:phones AS text[]), CAST(:digits AS text[])) "
                "AS u(id, phone, digits) WHERE t.id = u.id"),
                {"ids": ids, "phones": values,
                 "digits": [names.phone_digits(v) for v in values]})


def upgrade() -> None:
    conn = op.get_bind()
    _rewrite(conn, _e164(_region(conn)))


def downgrade() -> None:
    conn = op.get_bind()
    _rewrite(conn, _shown(_region(conn)))

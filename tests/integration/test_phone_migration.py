"""Migration 0016 on a database holding patients whose numbers were typed in mixed formats:
up, they are E.164 and still found by any format and their last digits; down, they are
written as the older version showed them (real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, text

from backend_client.accounts.access import SystemAccess
from backend_client.backend import Backend
from backend_client.dto import ClinicLocale
from backend_client.patients.service import PatientService
from backend_client.stores.postgres import migrate
from tests.integration.conftest import scratch_database

# family name: (phone as typed years ago, E.164 after the migration, shown after downgrade)
BEFORE = {
    "Okafor": ("(917) 206-5843", "+19172065843", "(917) 206-5843"),
    "Reyes": ("1-917-206-5844", "+19172065844", "(917) 206-5844"),
    "Hughes": ("+44 20 7946 0958", "+442079460958", "+44 20 7946 0958"),
    "Meyer": ("0049 30 1234567", "+49301234567", "+49 30 1234567"),
    "Sharma": ("+91 98765 43210", "+919876543210", "+91 98765 43210"),
    "Wang": ("+86 138 0013 8000", "+8613800138000", "+86 138 0013 8000"),
    "Note": ("ask daughter", "ask daughter", "ask daughter"),    # not a number: left
    "Local": ("555-0199", "555-0199", "555-0199"),               # no area code: left
    "None": ("", "", ""),
}


@pytest.fixture
def db_at_0014(backend: Backend) -> Iterator[Engine]:
    with scratch_database(backend, "mig16", "0014") as engine:
        yield engine


def test_up_and_down_on_patients_with_mixed_formats(db_at_0014: Engine) -> None:
    ids: dict[str, int] = {}
    with db_at_0014.begin() as c:
        c.execute(text("INSERT INTO clinic_settings (key, value) "
                       "VALUES ('locale.phone_region', '\"US\"')"))
        for family, (typed, _, _) in BEFORE.items():
            ids[family] = c.execute(text(
                "INSERT INTO patients (given_name, family_name, birth_date, sex, phone, "
                "phone_digits, sort_name) VALUES ('Ada', :f, :b, 'unknown', :p, :d, :s) "
                "RETURNING id"), {"f": family, "b": date(1980, 1, 1), "p": typed,
                                  "d": "".join(ch for ch in typed if ch.isdigit()),
                                  "s": f"{family.lower()}\x1fada"}).scalar_one()
        c.execute(text("INSERT INTO patient_contacts (patient_id, name, phone) "
                       "VALUES (:p, 'Ben', '020 7946 0958')"), {"p": ids["Okafor"]})

    def rows() -> dict[str, tuple[str, str, str]]:
        with db_at_0014.connect() as c:
            return {r.family_name: (r.phone, r.phone_digits, r.phone_tail) for r in c.execute(
                text("SELECT family_name, phone, phone_digits, phone_tail FROM patients"))}

    migrate.upgrade(db_at_0014)
    after = rows()
    for family, (_, e164, _) in BEFORE.items():
        digits = "".join(ch for ch in e164 if ch.isdigit())
        assert after[family] == (e164, digits, digits[-7:]), family
    with db_at_0014.connect() as c:
        # A US clinic's British contact: read as a US number it has an impossible length.
        assert c.execute(text("SELECT phone FROM patient_contacts")).scalar_one() == \
            "020 7946 0958"

    service = PatientService(db_at_0014, SystemAccess("test-ws"),
                             today=lambda: date(2026, 11, 27), locale=ClinicLocale())
    for query, family in (("+1 917 206 5843", "Okafor"), ("1-917-206-5843", "Okafor"),
                          ("206-5843", "Okafor"), ("2065843", "Okafor"),
                          ("(917) 206-5844", "Reyes"), ("020 7946 0958", "Hughes"),
                          ("7946 0958", "Hughes"), ("030 1234567", "Meyer"),
                          ("98765 43210", "Sharma"), ("138 0013 8000", "Wang"),
                          ("555-0199", "Local")):
        assert ids[family] in [p.id for p in service.search(query).items], query
    assert service.get(ids["Okafor"]).draft.phone == "(917) 206-5843"
    assert service.get(ids["Hughes"]).draft.phone == "+44 20 7946 0958"

    migrate.downgrade(db_at_0014, "0014")
    before = rows()
    for family, (_, _, shown) in BEFORE.items():
        digits = "".join(ch for ch in shown if ch.isdigit())
        assert before[family] == (shown, digits, digits[-7:]), family

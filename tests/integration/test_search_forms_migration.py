"""Migration 0014 on a database that already holds patients: the names it re-indexes gain
the forms search now finds them by, and every phone gets its tail (real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, text

from backend_client.backend import Backend
from backend_client.stores.postgres import migrate
from tests.integration.conftest import scratch_database

# (given, family, phone, the terms a 0012 database holds for them)
BEFORE = [
    ("Anna", "van Dam", "", ["anna", "van", "dam"]),
    ("Ian", "MacLeod", "(917) 206-5843", ["ian", "macleod"]),
    ("娜", "李", "+44 20 7946 0958", ["娜", "na", "李", "li"]),
    ("John", "Smith", "", ["john", "smith"]),
]


@pytest.fixture
def db_at_0012(backend: Backend) -> Iterator[Engine]:
    with scratch_database(backend, "mig14", "0012") as engine:
        yield engine


def test_upgrade_indexes_the_new_forms_of_existing_names(db_at_0012: Engine) -> None:
    ids = {}
    with db_at_0012.begin() as c:
        for given, family, phone, terms in BEFORE:
            pid = c.execute(text(
                "INSERT INTO patients (given_name, family_name, birth_date, sex, phone, "
                "phone_digits, sort_name) VALUES (:g, :f, :b, 'unknown', :p, :d, :s) "
                "RETURNING id"), {"g": given, "f": family, "b": date(1980, 1, 1), "p": phone,
                                  "d": "".join(ch for ch in phone if ch.isdigit()),
                                  "s": f"{family.lower()}\x1f{given.lower()}"}).scalar_one()
            c.execute(text("INSERT INTO patient_name_terms (term, sort_name, patient_id, source) "
                           "SELECT t, 'x', :p, 1 FROM unnest(CAST(:t AS text[])) t"),
                      {"p": pid, "t": terms})
            ids[family] = pid
    migrate.upgrade(db_at_0012)
    with db_at_0012.connect() as c:
        def terms(family: str) -> set[str]:
            return set(c.execute(text("SELECT term FROM patient_name_terms WHERE patient_id = :p"),
                                 {"p": ids[family]}).scalars())

        assert {"vandam", "van", "dam", "anna"} <= terms("van Dam")
        assert {"macleod", "mcleod", "leod"} <= terms("MacLeod")
        assert "李娜" in terms("李")
        assert terms("Smith") == {"john", "smith"}  # not a candidate: left as it was
        pairs = c.execute(text("SELECT count(*) FROM patient_name_pairs WHERE patient_id = :p "
                               "AND first = 'anna' AND second = 'vandam'"),
                          {"p": ids["van Dam"]}).scalar_one()
        assert pairs == 1
        tails = dict(c.execute(text("SELECT family_name, phone_tail FROM patients")).all())
        assert tails == {"van Dam": "", "MacLeod": "2065843", "李": "9460958", "Smith": ""}

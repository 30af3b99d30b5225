"""The synthetic-data loader against real PostgreSQL: each test seeds fresh databases of
its own (created on the session's server, migrated with Alembic, dropped afterwards)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text

from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.local_stack import StackEndpoints
from backend_client.patients import names
from backend_client.seed import seed, seed_demo_if_empty
from backend_client.seed.generator import DEMO_PATIENTS
from tests.integration.conftest import scratch_database, set_clinic_env

TODAY = date(2026, 3, 2)   # a Monday
PATIENTS, WEEKS = 1500, 2


def _seed_small(engine: Engine, seed_value: int) -> None:
    seed(engine, patients=PATIENTS, providers=4, weeks=WEEKS, seed=seed_value, today=TODAY,
         tz=UTC)


@pytest.fixture(scope="module")
def new_db(backend: Backend) -> Iterator[Callable[[], Engine]]:
    """Makes fresh migrated databases on the real server (engines as their owner, as the
    seed loader runs); drops them after the module."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(scratch_database(backend, "seed"))


@pytest.fixture(scope="module")
def seeded(new_db: Callable[[], Engine]) -> Engine:
    engine = new_db()
    _seed_small(engine, 11)
    return engine


_DUMPS = {
    "patients": "SELECT id, given_name, middle_name, family_name, preferred_name, birth_date, "
                "sex, gender_identity, phone, phone_digits, email, address_line1, "
                "address_line2, city, region, postal_code, country, language, deceased_at, "
                "sort_name FROM patients ORDER BY id",
    "identifiers": "SELECT patient_id, kind, value, issuer FROM patient_identifiers "
                   "ORDER BY patient_id, kind, value",
    "previous": "SELECT patient_id, given_name, family_name, valid_to FROM patient_names "
                "ORDER BY patient_id, id",
    "contacts": "SELECT patient_id, name, relationship, phone FROM patient_contacts "
                "ORDER BY patient_id, id",
    "terms": "SELECT term, sort_name, patient_id, source FROM patient_name_terms "
             "ORDER BY 1, 2, 3, 4",
    "variants": "SELECT variant, term, kind FROM name_variants ORDER BY 1, 2, 3",
    "providers": "SELECT id, title, given_name, family_name, specialty, license_number "
                 "FROM providers ORDER BY id",
    "hours": "SELECT provider_id, weekday, starts_at, ends_at FROM provider_working_hours "
             "ORDER BY 1, 2, 3",
    "appointments": "SELECT provider_id, patient_id, appointment_type_id, starts_at, ends_at, "
                    "status, reason FROM appointments ORDER BY provider_id, starts_at, id",
}


def _dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as c:
        return {k: [tuple(r) for r in c.execute(text(q))] for k, q in _DUMPS.items()}


def _scalar(engine: Engine, sql: str) -> object:
    with engine.connect() as c:
        return c.execute(text(sql)).scalar_one()


def test_same_seed_gives_identical_rows_and_another_seed_different_ones(
        seeded: Engine, new_db: Callable[[], Engine]) -> None:
    again = new_db()
    _seed_small(again, 11)
    first, second = _dump(seeded), _dump(again)
    for table in _DUMPS:
        assert first[table] == second[table], table
        assert first[table], f"{table} is empty"

    other = new_db()
    _seed_small(other, 12)
    third = _dump(other)
    names_of = [(r[1], r[3]) for r in third["patients"]]
    assert names_of != [(r[1], r[3]) for r in first["patients"]]


def test_every_patient_has_one_mrn_and_exactly_its_search_terms(seeded: Engine) -> None:
    with seeded.connect() as c:
        mrns = Counter(pid for pid, in c.execute(text(
            "SELECT patient_id FROM patient_identifiers WHERE kind = 'MRN'")))
        patients = c.execute(text(
            "SELECT id, given_name, family_name, middle_name, preferred_name, sort_name, "
            "phone, phone_digits FROM patients")).all()
        previous: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for pid, given, family in c.execute(text(
                "SELECT patient_id, given_name, family_name FROM patient_names ORDER BY id")):
            previous[pid].append((given, family))
        terms: dict[int, set[tuple[str, str, int]]] = defaultdict(set)
        for term, sort_name, pid, source in c.execute(text(
                "SELECT term, sort_name, patient_id, source FROM patient_name_terms")):
            terms[pid].add((term, sort_name, source))
        insured = _scalar(seeded, "SELECT count(DISTINCT patient_id) FROM patient_identifiers "
                                  "WHERE kind = 'INSURANCE'")
        mrn_seq = c.execute(text("SELECT last_value FROM patient_mrn_seq")).scalar_one()
        issuers = {i for i, in c.execute(text(
            "SELECT DISTINCT issuer FROM patient_identifiers WHERE kind = 'MRN'"))}
        max_mrn = c.execute(text("SELECT max(substr(value, 2)::int) FROM patient_identifiers "
                                 "WHERE kind = 'MRN'")).scalar_one()

    assert len(patients) == PATIENTS
    assert set(mrns) == {p.id for p in patients} and set(mrns.values()) == {1}
    assert mrn_seq >= max_mrn and issuers == {"clinic"}
    assert 0.2 < int(str(insured)) / len(patients) < 0.4
    assert len(previous) > 0
    for p in patients:
        person = names.PersonNames(p.given_name, p.family_name, p.middle_name,
                                   p.preferred_name, tuple(previous[p.id]))
        sort_name = names.sort_name(p.family_name, p.given_name)
        assert p.sort_name == sort_name
        assert p.phone_digits == names.phone_digits(p.phone)
        expected = {(t, sort_name, s) for t, s in names.patient_terms(person)}
        assert terms[p.id] == expected, p.id


def test_the_spelling_dictionary_covers_every_seeded_term(seeded: Engine) -> None:
    with seeded.connect() as c:
        seeded_terms = {t for t, in c.execute(text(
            "SELECT DISTINCT term FROM patient_name_terms"))}
        variants = {tuple(r) for r in c.execute(text(
            "SELECT variant, term, kind FROM name_variants"))}
    assert variants == names.dictionary_for(seeded_terms)


def test_appointments_fit_working_hours_and_never_overlap(seeded: Engine) -> None:
    with seeded.connect() as c:
        hours: dict[tuple[int, int], list[tuple[object, object]]] = defaultdict(list)
        for pid, weekday, start, end in c.execute(text(
                "SELECT provider_id, weekday, starts_at, ends_at FROM provider_working_hours")):
            hours[(pid, weekday)].append((start, end))
        rows = c.execute(text(
            "SELECT provider_id, starts_at, ends_at, status, p.deceased_at "
            "FROM appointments a JOIN patients p ON p.id = a.patient_id")).all()
        types = {n: m for n, m in c.execute(text(
            "SELECT id, default_minutes FROM appointment_types"))}
        typed = c.execute(text("SELECT count(*) FROM appointments "
                               "WHERE appointment_type_id IS NULL")).scalar_one()
    assert rows and typed == 0 and types
    statuses = Counter(r.status for r in rows)
    assert statuses["booked"] / len(rows) > 0.85
    last_day = date.fromordinal(TODAY.toordinal() + 7 * WEEKS - 1)
    live: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for r in rows:
        start, end = r.starts_at.astimezone(UTC), r.ends_at.astimezone(UTC)
        assert TODAY <= start.date() <= last_day
        assert r.deceased_at is None
        blocks = hours[(r.provider_id, start.isoweekday())]
        assert any(b0 <= start.time() and end.time() <= b1 and end.date() == start.date()
                   for b0, b1 in blocks), (r.provider_id, start, end)
        if r.status not in ("cancelled", "no_show"):
            live[r.provider_id].append((start, end))
    for slots in live.values():
        slots.sort()
        for (_, end), (start, _) in zip(slots, slots[1:], strict=False):
            assert end <= start


def test_seeding_twice_into_one_database_allocates_new_ids_and_mrns(
        new_db: Callable[[], Engine]) -> None:
    engine = new_db()
    first = seed(engine, patients=300, providers=2, seed=5, weeks=1, today=TODAY, tz=UTC)
    # Someone typed in, by hand, an MRN the sequence has not handed out yet.
    with engine.begin() as c:
        next_mrn = int(c.execute(text("SELECT last_value FROM patient_mrn_seq")).scalar_one())
        hand_typed = names.format_mrn(next_mrn + 3)
        pid = c.execute(text(
            "INSERT INTO patients (given_name, family_name, birth_date, sex) "
            "VALUES ('Hand', 'Typed', DATE '1970-01-01', 'unknown') RETURNING id")).scalar_one()
        c.execute(text("INSERT INTO patient_identifiers (patient_id, kind, value) "
                       "VALUES (:p, 'MRN', :v)"), {"p": pid, "v": hand_typed})
    second = seed(engine, patients=300, providers=2, seed=5, weeks=1, today=TODAY, tz=UTC)
    assert first.first_patient_id is not None and first.last_patient_id is not None
    assert second.first_patient_id is not None
    assert second.first_patient_id > first.last_patient_id
    assert second.name_variants_added == 0    # same names: the dictionary had them already
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM patients")).scalar_one() == 601
        assert c.execute(text(
            "SELECT count(DISTINCT value) FROM patient_identifiers WHERE kind = 'MRN'"
        )).scalar_one() == 601
        assert c.execute(text(
            "SELECT count(*) FROM patient_identifiers WHERE kind = 'MRN' AND value = :v "
            "AND issuer = 'clinic'"), {"v": hand_typed}).scalar_one() == 0
        max_mrn = c.execute(text("SELECT max(substr(value, 2)::int) FROM patient_identifiers "
                                 "WHERE kind = 'MRN'")).scalar_one()
        max_id = c.execute(text("SELECT max(id) FROM patients")).scalar_one()
        # What the service will get next does not collide with anything seeded.
        assert c.execute(text("SELECT nextval('patient_mrn_seq')")).scalar_one() > max_mrn
        assert c.execute(text(
            "SELECT nextval(pg_get_serial_sequence('patients', 'id'))")).scalar_one() > max_id


def test_demo_clinic_is_seeded_once_with_its_fixed_patients(
        new_db: Callable[[], Engine]) -> None:
    engine = new_db()
    assert seed_demo_if_empty(engine, today=TODAY, tz=UTC) is True
    count = _scalar(engine, "SELECT count(*) FROM patients")
    assert seed_demo_if_empty(engine, today=TODAY, tz=UTC) is False
    assert _scalar(engine, "SELECT count(*) FROM patients") == count
    assert count == 300 + len(DEMO_PATIENTS)
    assert _scalar(engine, "SELECT count(*) FROM providers") == 6
    assert int(str(_scalar(engine, "SELECT count(*) FROM appointments"))) > 0
    # One restricted record, so that breaking the glass can be tried in the demo.
    with engine.connect() as c:
        assert c.execute(text("SELECT given_name, family_name FROM patients "
                              "WHERE restricted")).all() == [("Seán", "O'Brien")]
        # A first chart has something in it: Anna Müller's allergies, problems, medicines
        # and past visits (backend_client/seed/chart_demo.py), seeded once.
        anna = c.execute(text("SELECT id FROM patients WHERE given_name = 'Anna' "
                              "AND family_name = 'Müller'")).scalar_one()
        counts = {table: c.execute(text(f"SELECT count(*) FROM {table} WHERE patient_id = :p"),
                                   {"p": anna}).scalar_one()
                  for table in ("alerts", "problems", "medications", "encounters")}
        assert counts == {"alerts": 3, "problems": 2, "medications": 2, "encounters": 2}
        assert c.execute(text("SELECT description FROM alerts WHERE patient_id = :p AND "
                              "kind = 'allergy' ORDER BY severity = 'high' DESC"),
                         {"p": anna}).scalars().first() == "Penicillin"

    with engine.connect() as c:
        for d in DEMO_PATIENTS:
            row = c.execute(text(
                "SELECT id, birth_date, deceased_at FROM patients "
                "WHERE given_name = :g AND family_name = :f"),
                {"g": d.given_name, "f": d.family_name}).one()
            assert row.birth_date == d.birth_date and row.deceased_at == d.deceased_at

        def found_by(term: str) -> set[tuple[str, str]]:
            return {tuple(r) for r in c.execute(text(
                "SELECT p.given_name, p.family_name FROM patient_name_terms t "
                "JOIN patients p ON p.id = t.patient_id WHERE t.term = :t"), {"t": term})}

        # Hard names are found by their folded and transliterated spellings.
        assert ("Anna", "Müller") in found_by("muller")
        assert ("Seán", "O'Brien") in found_by("obrien")
        assert ("Иван", "Иванов") in found_by("ivanov")
        assert ("芳", "王") in found_by("wang")
        assert ("Lan", "Nguyễn") in found_by("nguyen")
        assert ("María José", "García-López") in found_by("lopez")
        assert ("Emily", "Clarke") in found_by("thompson")      # previous name


def test_cli_seed_prints_counts_but_no_names(
        new_db: Callable[[], Engine], servers: StackEndpoints, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], backend: Backend, settings: Settings) -> None:
    from backend_client.admin.cli import main

    engine = new_db()
    mongo_db = f"seedcli_{uuid.uuid4().hex[:8]}"
    # As a clinic configures it (the loader moves sequences: the owner's URL).
    set_clinic_env(monkeypatch, settings, servers, backend, engine, mongo_db)
    try:
        assert main(["seed", "--patients", "200", "--providers", "2", "--weeks", "1"]) == 0
    finally:
        backend.owner_mongo.drop_database(mongo_db)
    out, err = capsys.readouterr()
    assert out.startswith("seeded 200 patients, 2 providers, ")
    assert "patients" in err
    with engine.connect() as c:
        family_names = {f for f, in c.execute(text("SELECT family_name FROM patients"))}
    assert not [f for f in family_names if len(f) >= 4 and f in out + err]

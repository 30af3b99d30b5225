"""Front desks registering one person at the same moment, against real PostgreSQL.

Every "workstation" is a thread with its own PatientService on the app's own login
(``backend.engine``, so its own pooled connection) and its own committed transactions; a
barrier lets them all register at once. Each round registers a person nobody registered
before (unique names), and the rows are removed at the end.
"""

from __future__ import annotations

import random
import string
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from backend_client.accounts.access import SessionAccess
from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.dto import Identifier, PatientDraft, PatientRecord
from backend_client.errors import DraError, PossibleDuplicate, ValidationError
from backend_client.local_stack import StackEndpoints
from backend_client.patients.service import PatientService
from backend_client.stores.postgres import migrate
from tests.integration.conftest import TODAY, add_user, scratch_database, set_clinic_env, signed_in

DESKS, ROUNDS = 8, 6


def _letters(n: int = 8) -> str:
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


def _person(family: str, *, given: str = "Johanna", born: date = date(1961, 7, 14),
            identifiers: tuple[Identifier, ...] = ()) -> PatientDraft:
    return PatientDraft(given_name=given, family_name=family, birth_date=born, sex="female",
                        identifiers=identifiers)


@pytest.fixture
def receptionists(backend: Backend) -> Iterator[list[SessionAccess]]:
    """Eight receptionists, each signed in at a desk of her own (the app's login, row-level
    security and all)."""
    tag = uuid.uuid4().hex[:6]
    ids = [add_user(backend.owner_engine, ("receptionist",), username=f"rr{k}{tag}")
           for k in range(DESKS)]
    yield [signed_in(backend, backend.owner_engine, uid, workstation=f"desk-{k}")
           for k, uid in enumerate(ids)]
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"), {"u": ids})


@pytest.fixture
def desks(backend: Backend, receptionists: list[SessionAccess]
          ) -> Iterator[list[PatientService]]:
    """Eight workstations; every patient they register is deleted afterwards."""
    made = [PatientService(backend.engine, access, today=lambda: TODAY)
            for access in receptionists]
    started = _max_patient_id(backend.owner_engine)
    yield made
    # As the schema's owner: tidying up is not something the app's login is for.
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM patients WHERE id > :id AND family_name LIKE 'Zz%'"),
                     {"id": started})


def _max_patient_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM patients")).scalar_one())


def _all_at_once(calls: list[Callable[[], PatientRecord]]) -> list[PatientRecord | Exception]:
    """Run every call on its own thread, released together; each one's result or error."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(k: int) -> None:
        barrier.wait(30)
        try:
            outcomes[k] = calls[k]()
        except Exception as exc:  # noqa: BLE001 - every outcome is asserted below
            outcomes[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a registration never finished"
    return outcomes


def _charts(engine: Engine, family_prefix: str) -> list[int]:
    with engine.connect() as conn:
        return [int(i) for i in conn.execute(text(
            "SELECT id FROM patients WHERE family_name LIKE :f ORDER BY id"),
            {"f": family_prefix + "%"}).scalars()]


def _sorted_out(outcomes: list[PatientRecord | Exception]
                ) -> tuple[list[PatientRecord], list[PossibleDuplicate],
                           list[ValidationError], list[Exception]]:
    saved = [o for o in outcomes if isinstance(o, PatientRecord)]
    dups = [o for o in outcomes if isinstance(o, PossibleDuplicate)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    other = [o for o in outcomes if isinstance(o, Exception)
             and not isinstance(o, PossibleDuplicate | ValidationError)]
    return saved, dups, refused, other


# ------------------------------------------------------------------ name and birth date


def test_eight_desks_registering_one_new_patient_make_one_chart(
        desks: list[PatientService], backend: Backend) -> None:
    for _ in range(ROUNDS):
        family = f"Zz{_letters()}".capitalize()
        form = _person(family)
        outcomes = _all_at_once([lambda d=desk, f=form: d.register(f) for desk in desks])
        saved, dups, _, other = _sorted_out(outcomes)
        assert not other, other
        assert _charts(backend.owner_engine, family) == [r.id for r in saved]
        assert len(saved) == 1, f"{len(saved)} charts for one person"
        # Every other desk was shown the chart that was just saved, as a likely duplicate.
        assert len(dups) == DESKS - 1
        for dup in dups:
            assert [(c.patient.id, c.reasons) for c in dup.candidates] == [
                (saved[0].id, ("same date of birth and the same name",))]


def test_desks_typing_one_person_slightly_differently_make_one_chart(
        desks: list[PatientService], backend: Backend) -> None:
    """"Jon Smyth" at one desk and "John Smith" at another are one person too: the turns
    are per birth date, not per spelling."""
    for _ in range(ROUNDS):
        base = f"Zz{_letters()}"
        spellings = [base.capitalize()] + [(base + v).capitalize() for v in "aeiouyr"]
        outcomes = _all_at_once([
            lambda d=desk, f=f: d.register(_person(f, born=date(1958, 2, 3)))
            for desk, f in zip(desks, spellings, strict=True)])
        saved, dups, _, other = _sorted_out(outcomes)
        assert not other, other
        assert len(saved) == 1 and len(_charts(backend.owner_engine, base.capitalize())) == 1
        assert len(dups) == DESKS - 1
        assert all(d.candidates[0].patient.id == saved[0].id for d in dups)


def test_registering_anyway_still_registers_a_different_person(
        desks: list[PatientService], backend: Backend) -> None:
    """Two people with one name and birthday exist: the user's explicit "this is someone
    else" registers the second, at once or from two desks."""
    family = f"Zz{_letters()}".capitalize()
    first = desks[0].register(_person(family))
    with pytest.raises(PossibleDuplicate):
        desks[1].register(_person(family))
    outcomes = _all_at_once([lambda d=desk: d.register(_person(family), allow_duplicates=True)
                             for desk in desks[:2]])
    saved, _, _, other = _sorted_out(outcomes)
    assert not other and len(saved) == 2
    assert len({first.id, *(r.id for r in saved)}) == 3
    assert len(_charts(backend.owner_engine, family)) == 3


# ------------------------------------------------------------------ identifiers


def test_two_desks_with_one_national_id_make_one_chart(
        desks: list[PatientService], backend: Backend) -> None:
    """Whatever else the two forms say, one national number gives one chart; the second
    desk is shown it as a likely duplicate, and registering anyway is refused on the
    number's field with a sentence (the form keeps what was typed: nothing is saved)."""
    for n in range(ROUNDS):
        number = f"ZZ{uuid.uuid4().hex[:10].upper()}"
        a, b = f"Zz{_letters()}".capitalize(), f"Zz{_letters()}".capitalize()
        forms = [
            _person(a, born=date(1970, 1, 1 + n),
                    identifiers=(Identifier("NATIONAL_ID", number, "DE"),)),
            _person(b, given="Marta", born=date(1985, 5, 1 + n),
                    identifiers=(Identifier("NATIONAL_ID", number.lower(), "de"),))]
        outcomes = _all_at_once([lambda d=desk, f=form: d.register(f)
                                 for desk, form in zip(desks[:2], forms, strict=True)])
        saved, dups, _, other = _sorted_out(outcomes)
        assert not other, other
        assert len(saved) == 1 and len(dups) == 1
        assert [(c.patient.id, c.reasons) for c in dups[0].candidates] == [
            (saved[0].id, ("same national id",))]
        loser = forms[1] if saved[0].draft.family_name == a else forms[0]
        with pytest.raises(ValidationError) as refused:
            desks[2].register(loser, allow_duplicates=True)
        assert refused.value.errors == {"identifiers.0.value": (
            f"national ID {number} from {loser.identifiers[0].issuer} already belongs to "
            f"another patient (MRN {saved[0].mrn}); if this is that patient, open their "
            "record instead, otherwise check the number")}
        assert len(_charts(backend.owner_engine, a)) + len(_charts(backend.owner_engine, b)) == 1


def test_eight_desks_registering_anyway_with_one_insurance_number_make_one_chart(
        desks: list[PatientService], backend: Backend) -> None:
    for _ in range(ROUNDS):
        number = f"ZZ{uuid.uuid4().hex[:10].upper()}"
        family = f"Zz{_letters()}"
        forms = [_person(f"{family}{k}".capitalize(), born=date(1940 + k, 3, 3),
                         identifiers=(Identifier("INSURANCE", number, "Aok Bayern"),))
                 for k in range(DESKS)]
        outcomes = _all_at_once([
            lambda d=desk, f=form: d.register(f, allow_duplicates=True)
            for desk, form in zip(desks, forms, strict=True)])
        saved, _, refused, other = _sorted_out(outcomes)
        assert not other, other
        assert len(saved) == 1 and len(refused) == DESKS - 1
        for r in refused:
            (field, sentence), = r.errors.items()
            assert field == "identifiers.0.value"
            assert sentence.startswith(f"insurance number {number} from Aok Bayern already "
                                       f"belongs to another patient (MRN {saved[0].mrn})")
        assert len(_charts(backend.owner_engine, family.capitalize())) == 1


def test_the_same_number_from_another_issuer_is_only_a_likely_duplicate(
        desks: list[PatientService], backend: Backend) -> None:
    number = f"ZZ{uuid.uuid4().hex[:10].upper()}"
    a, b = f"Zz{_letters()}".capitalize(), f"Zz{_letters()}".capitalize()
    first = desks[0].register(_person(a, identifiers=(Identifier("INSURANCE", number, "TK"),)))
    other = _person(b, born=date(1990, 9, 9),
                    identifiers=(Identifier("INSURANCE", number, "Barmer"),))
    with pytest.raises(PossibleDuplicate) as dup:
        desks[1].register(other)
    assert [c.patient.id for c in dup.value.candidates] == [first.id]
    second = desks[1].register(other, allow_duplicates=True)
    assert second.id != first.id


# ------------------------------------------------------------------ the database itself


def test_the_database_refuses_a_second_owner_of_a_number(
        backend: Backend, receptionists: list[SessionAccess]) -> None:
    """Through the app's own login and a receptionist's session, no service in the way."""
    number = f"ZZ{uuid.uuid4().hex[:10].upper()}"
    actor = receptionists[0].actor
    assert actor is not None
    with backend.engine.connect() as conn:
        # One transaction (begun by this first statement), rolled back at the end.
        assert conn.execute(text("SELECT current_user")).scalar_one() == "dr_assistant_app"
        conn.execute(text("SELECT set_config('dra.token', :t, true)"), {"t": actor.token})
        ids = [conn.execute(text(
            "INSERT INTO patients (given_name, family_name, birth_date, sex) "
            "VALUES ('Direct', :f, DATE '1975-04-04', 'unknown') RETURNING id"),
            {"f": f"Zz{k}"}).scalar_one() for k in range(2)]
        insert = text("INSERT INTO patient_identifiers (patient_id, kind, value, issuer) "
                      "VALUES (:p, :k, :v, :i)")
        conn.execute(insert, {"p": ids[0], "k": "NATIONAL_ID", "v": number, "i": "DE"})
        conn.execute(insert, {"p": ids[0], "k": "INSURANCE", "v": number, "i": "TK"})
        for kind, value, issuer in (("NATIONAL_ID", number, "DE"),
                                    ("NATIONAL_ID", f" {number.lower()} ", "de "),
                                    ("INSURANCE", number, "tk")):
            with pytest.raises(IntegrityError, match="uq_patient_identifiers_issued"), \
                    conn.begin_nested():
                conn.execute(insert, {"p": ids[1], "k": kind, "v": value, "i": issuer})
        # Another issuer's number, and OTHER identifiers, may repeat.
        for kind, issuer in (("INSURANCE", "Barmer"), ("OTHER", "DE"), ("OTHER", "DE")):
            conn.execute(insert, {"p": ids[1], "k": kind, "v": number, "i": issuer})
        conn.rollback()


@pytest.fixture
def database_at_0006(backend: Backend) -> Iterator[Engine]:
    """A fresh database on the real server, migrated to 0006, as its owner."""
    with scratch_database(backend, "uq", "0006") as engine:
        yield engine


def _patients_with(engine: Engine, numbers: list[tuple[str, str, str]]) -> list[int]:
    """One patient per (kind, value, issuer), inserted as before 0007 allowed it."""
    with engine.begin() as conn:
        ids = []
        for kind, value, issuer in numbers:
            pid = conn.execute(text(
                "INSERT INTO patients (given_name, family_name, birth_date, sex) "
                "VALUES ('Old', 'Data', DATE '1960-01-01', 'unknown') RETURNING id")
            ).scalar_one()
            conn.execute(text("INSERT INTO patient_identifiers (patient_id, kind, value, issuer)"
                              " VALUES (:p, :k, :v, :i)"),
                         {"p": pid, "k": kind, "v": value, "i": issuer})
            ids.append(int(pid))
        return ids


def _has_index(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'uq_patient_identifiers_issued'"
        )).scalar_one())


def test_migrating_a_database_with_shared_numbers_says_which_and_changes_nothing(
        database_at_0006: Engine) -> None:
    engine = database_at_0006
    a, b, c, d, _ = _patients_with(engine, [
        ("NATIONAL_ID", "AB123", "DE"), ("NATIONAL_ID", "ab123 ", "de"),
        ("INSURANCE", "X-1", ""), ("INSURANCE", "X-1", ""), ("INSURANCE", "X-1", "TK")])
    with pytest.raises(DraError) as failed:
        migrate.upgrade(engine)
    assert str(failed.value) == (
        "The database was not upgraded: 2 insurance or national ID numbers are recorded on "
        f"more than one patient (patient ids {a} and {b}; {c} and {d}), and from this version "
        "a number belongs to one patient per issuer. Merge the duplicate charts or correct "
        "the numbers, then run 'dr-assistant-admin migrate' again; nothing was changed.")
    assert "AB123" not in str(failed.value)   # no identifier in a message that may be logged
    assert migrate.current_revision(engine) == "0006"
    assert not _has_index(engine)

    # Corrected: it migrates, and the same number twice on one patient is kept once.
    with engine.begin() as conn:
        conn.execute(text("UPDATE patient_identifiers SET value = 'AB124' WHERE patient_id = :b"),
                     {"b": b})
        conn.execute(text("DELETE FROM patient_identifiers WHERE patient_id = :d"), {"d": d})
        conn.execute(text("INSERT INTO patient_identifiers (patient_id, kind, value, issuer) "
                          "VALUES (:c, 'INSURANCE', 'x-1', '')"), {"c": c})
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert _has_index(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patient_identifiers WHERE patient_id = :c"),
                            {"c": c}).scalar_one() == 1


def test_admin_migrate_on_shared_numbers_prints_the_sentence(
        database_at_0006: Engine, backend: Backend, servers: StackEndpoints,
        settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from backend_client.admin.cli import main

    a, b = _patients_with(database_at_0006, [("NATIONAL_ID", "Q9", "FR")] * 2)
    mongo_db = f"uq_{uuid.uuid4().hex[:8]}"
    set_clinic_env(monkeypatch, settings, servers, backend, database_at_0006, mongo_db)
    try:
        assert main(["migrate"]) == 2
    finally:
        backend.owner_mongo.drop_database(mongo_db)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("dr-assistant-admin: The database was not upgraded: 1 insurance or "
                          f"national ID number is recorded on more than one patient "
                          f"(patient ids {a} and {b})")
    assert "Traceback" not in err and err.count("\n") == 1
    assert migrate.current_revision(database_at_0006) == "0006"

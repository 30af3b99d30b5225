"""Registering and editing patients against real PostgreSQL: validation, duplicates,
identifiers, previous names, optimistic conflicts."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Connection, text

from backend_client.accounts.access import SystemAccess
from backend_client.backend import Backend
from backend_client.dto import ClinicLocale, Contact, Identifier, PatientDraft, PreviousName
from backend_client.errors import Conflict, NotFound, PossibleDuplicate, ValidationError
from backend_client.patients.service import PatientService
from tests.integration.conftest import TODAY, add_user, signed_in


def draft(**kw: object) -> PatientDraft:
    base = dict(given_name="Anna", family_name="Müller", birth_date=date(1980, 3, 12),
                sex="female", phone="+49 30 1234567", email="anna@example.org")
    base.update(kw)
    return PatientDraft(**base)  # type: ignore[arg-type]


def test_register_and_read_back_everything(patients: PatientService) -> None:
    rec = patients.register(draft(
        middle_name="Maria", preferred_name="Anni", city="Berlin", country="de",
        identifiers=(Identifier("INSURANCE", "A123456789", "TK"),),
        emergency_contact=Contact("Jonas Müller", "husband", "+49 30 7654321"),
        previous_names=(PreviousName("Anna", "Schmidt"),),
    ))
    again = patients.get(rec.id)
    assert again == rec
    assert rec.version == 1
    assert rec.mrn.startswith("M") and len(rec.mrn) == 8
    assert rec.draft.country == "DE"
    assert rec.draft.emergency_contact == Contact("Jonas Müller", "husband", "+49 30 7654321")
    assert Identifier("INSURANCE", "A123456789", "TK") in rec.draft.identifiers
    assert rec.draft.previous_names == (PreviousName("Anna", "Schmidt"),)
    assert rec.age(TODAY) == 46


def test_typed_dates_are_parsed(patients: PatientService) -> None:
    rec = patients.register(draft(birth_date="12 Mar 1980", family_name="Typed"))
    assert rec.draft.birth_date == date(1980, 3, 12)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"birth_date": date(2027, 1, 1)}, "birth_date", "is in the future"),
    ({"birth_date": "31/02/1980"}, "birth_date", "31 February 1980 does not exist"),
    ({"birth_date": "1980-13-01"}, "birth_date", "there is no month 13"),
    ({"birth_date": "31/04/1980"}, "birth_date", "31 April 1980 does not exist"),
    ({"birth_date": None}, "birth_date", "is required"),
    ({"birth_date": date(1870, 1, 1)}, "birth_date", "is before 1880"),
    ({"given_name": "  "}, "given_name", "is required"),
    ({"family_name": "X" * 101}, "family_name", "at most 100 characters long (this one has 101)"),
    ({"phone": "12ab"}, "phone", "'12ab' is not a phone number"),  # E.164 (issue 13)
    ({"phone": "123"}, "phone", "'123' is too short for a phone number"),
    ({"email": "anna@example"}, "email", "is not an e-mail address"),
    ({"sex": "f"}, "sex", "choose female, male, other or unknown"),
    ({"country": "Germany"}, "country", "two-letter country code"),
    ({"identifiers": (Identifier("MRN", ""),)}, "identifiers.0.value", "is required"),
    ({"emergency_contact": Contact("", phone="+1 555 123 4567")}, "emergency_contact.name",
     "is required"),
])
def test_validation_says_which_field_and_why(patients: PatientService, changes: dict[str, object],
                                             field: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        patients.register(draft(**changes))
    assert message in info.value.errors[field]


def test_all_problems_are_reported_at_once(patients: PatientService) -> None:
    with pytest.raises(ValidationError) as info:
        patients.register(draft(given_name="", phone="x", email="y"))
    assert set(info.value.errors) == {"given_name", "phone", "email"}


def test_same_name_and_birth_date_is_a_likely_duplicate(patients: PatientService) -> None:
    first = patients.register(draft(family_name="Duplicheck"))
    with pytest.raises(PossibleDuplicate) as info:
        patients.register(draft(family_name="DUPLICHECK", given_name="anna"))
    (cand,) = info.value.candidates
    assert cand.patient.id == first.id
    assert cand.reasons == ("same date of birth and the same name",)


def test_sound_alike_name_with_same_birth_date_is_a_likely_duplicate(
        patients: PatientService) -> None:
    first = patients.register(draft(given_name="John", family_name="Smithfield",
                                    birth_date=date(1971, 5, 2), sex="male"))
    found = patients.find_duplicates(draft(given_name="Jon", family_name="Smithfeld",
                                           birth_date=date(1971, 5, 2), sex="male"))
    assert [c.patient.id for c in found] == [first.id]
    assert found[0].reasons == ("same date of birth and a similar name",)
    # Same name, another birthday: not a duplicate.
    assert patients.find_duplicates(draft(given_name="John", family_name="Smithfield",
                                          birth_date=date(1971, 5, 3), sex="male")) == []


def test_same_identifier_is_a_likely_duplicate(patients: PatientService) -> None:
    first = patients.register(draft(family_name="Insured",
                                    identifiers=(Identifier("INSURANCE", "INS-77"),)))
    found = patients.find_duplicates(draft(given_name="Other", family_name="Person",
                                           birth_date=date(1990, 1, 1),
                                           identifiers=(Identifier("INSURANCE", "INS-77"),)))
    assert [(c.patient.id, c.reasons) for c in found] == [(first.id, ("same insurance",))]


def test_registering_anyway_creates_a_second_patient(patients: PatientService) -> None:
    a = patients.register(draft(family_name="Twin"))
    b = patients.register(draft(family_name="Twin"), allow_duplicates=True)
    assert a.id != b.id and a.mrn != b.mrn


def test_an_mrn_belongs_to_one_patient(patients: PatientService) -> None:
    a = patients.register(draft(family_name="Mrnowner"))
    other = draft(family_name="Other", birth_date=date(1990, 1, 1),
                  identifiers=(Identifier("MRN", a.mrn.lower()),))
    with pytest.raises(PossibleDuplicate) as dup:
        patients.register(other)
    assert dup.value.candidates[0].reasons == ("same MRN",)
    with pytest.raises(ValidationError) as info:
        patients.register(other, allow_duplicates=True)
    assert info.value.errors == {
        "identifiers.0.value": f"MRN {a.mrn} already belongs to another patient"}


def test_registering_anyway_never_gives_a_national_id_a_second_owner(
        patients: PatientService) -> None:
    """"It is someone else" registers a second person with one name and birthday, but a
    number from one issuer is one person's: refused on its field, whatever its case."""
    first = patients.register(draft(family_name="Samenumber", identifiers=(
        Identifier("NATIONAL_ID", "DE-4711-X", "Bundesamt"),)))
    twin = draft(family_name="Samenumber", identifiers=(
        Identifier("INSURANCE", "K-1", "TK"), Identifier("NATIONAL_ID", "de-4711-x", "bundesamt")))
    with pytest.raises(PossibleDuplicate) as dup:
        patients.register(twin)
    assert dup.value.candidates[0].reasons == ("same national id",
                                               "same date of birth and the same name")
    with pytest.raises(ValidationError) as info:
        patients.register(twin, allow_duplicates=True)
    assert info.value.errors == {"identifiers.1.value": (
        f"national ID DE-4711-X from bundesamt already belongs to another patient "
        f"(MRN {first.mrn}); if this is that patient, open their record instead, otherwise "
        "check the number")}
    # Without the number it is the user's call: a second patient.
    second = patients.register(replace(twin, identifiers=twin.identifiers[:1]),
                               allow_duplicates=True)
    assert second.id != first.id


def test_an_edit_giving_a_patient_someone_elses_number_is_refused_on_its_field(
        patients: PatientService) -> None:
    patients.register(draft(family_name="Holder", identifiers=(
        Identifier("INSURANCE", "AOK-991", "AOK"),)))
    other = patients.register(draft(family_name="Editee", birth_date=date(1991, 1, 1)))
    with pytest.raises(ValidationError) as info:
        patients.update(other.id, other.version, replace(other.draft, identifiers=(
            *other.draft.identifiers, Identifier("NATIONAL_ID", "AOK-991", "AOK"),
            Identifier("INSURANCE", "aok-991", "aok"))))
    assert info.value.errors == {"identifiers.2.value": (
        "insurance number AOK-991 from aok already belongs to another patient; if this is "
        "that patient, open their record instead, otherwise check the number")}
    assert patients.get(other.id).version == other.version


def test_edit_keeps_the_old_name_findable(patients: PatientService) -> None:
    rec = patients.register(draft(given_name="Greta", family_name="Oldname"))
    new = patients.update(rec.id, rec.version, replace(rec.draft, family_name="Newname"))
    assert new.version == 2
    assert PreviousName("Greta", "Oldname") in new.draft.previous_names
    assert [p.id for p in patients.search("greta oldname").items] == [rec.id]
    assert patients.search("greta oldname").items[0].matched_on == "previous name"
    assert [p.id for p in patients.search("greta newname").items] == [rec.id]


def test_stale_edit_is_a_conflict_and_writes_nothing(patients: PatientService) -> None:
    rec = patients.register(draft(family_name="Stale"))
    patients.update(rec.id, rec.version, replace(rec.draft, phone="+49 30 1111111"))
    with pytest.raises(Conflict) as info:
        patients.update(rec.id, rec.version, replace(rec.draft, phone="+49 30 2222222"))
    assert info.value.current_version == 2
    assert "another user saved changes to this patient at" in info.value.message
    assert "What you typed is still in the form" in info.value.message
    assert patients.get(rec.id).draft.phone == "+49 30 1111111"


def test_two_people_saving_at_once_one_gets_a_conflict_naming_the_other(
        backend: Backend) -> None:
    # The operator's tool on the owner's engine against a receptionist signed in on a
    # workstation (the app's login, held by the database to her session).
    service = PatientService(backend.owner_engine, SystemAccess("ws-2"), today=lambda: TODAY,
                             locale=ClinicLocale())
    tag = uuid.uuid4().hex[:8]
    uid = add_user(backend.owner_engine, ("receptionist",), display_name="Dr. Rivera")
    as_rivera = PatientService(backend.engine, signed_in(backend, backend.owner_engine, uid),
                               today=lambda: TODAY, locale=ClinicLocale())
    rec = service.register(draft(family_name=f"Race{tag}"))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(who: str, phone: str, svc: PatientService) -> None:
        barrier.wait()
        try:
            outcomes[who] = svc.update(rec.id, rec.version, replace(rec.draft, phone=phone))
        except Conflict as exc:
            outcomes[who] = exc

    threads = [threading.Thread(target=save, args=("rivera", "+1 555 000 0001", as_rivera)),
               threading.Thread(target=save, args=("other", "+1 555 000 0002", service))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    conflicts = [o for o in outcomes.values() if isinstance(o, Conflict)]
    saved = [o for o in outcomes.values() if not isinstance(o, Conflict)]
    assert len(conflicts) == 1 and len(saved) == 1
    winner = "rivera" if not isinstance(outcomes["rivera"], Conflict) else "other"
    expected_name = "Dr. Rivera" if winner == "rivera" else "another user"
    assert conflicts[0].changed_by == expected_name
    assert conflicts[0].message.startswith(f"{expected_name} saved changes")
    final = service.get(rec.id)
    assert final.version == 2
    # Stored in E.164, shown in the clinic's national format (issue 13).
    assert final.draft.phone == ("(555) 000-0001" if winner == "rivera" else "(555) 000-0002")


def test_mark_deceased(patients: PatientService) -> None:
    rec = patients.register(draft(family_name="Late", birth_date=date(1930, 1, 1)))
    with pytest.raises(ValidationError, match="cannot be before the date of birth"):
        patients.mark_deceased(rec.id, rec.version, date(1920, 1, 1))
    with pytest.raises(ValidationError, match="cannot be in the future"):
        patients.mark_deceased(rec.id, rec.version, date(2030, 1, 1))
    done = patients.mark_deceased(rec.id, rec.version, date(2020, 6, 1))
    assert done.deceased_at == date(2020, 6, 1) and done.version == 2
    assert done.age(TODAY) == 90
    assert patients.search("late 1930-01-01").items[0].deceased


def test_unknown_patient_is_not_found(patients: PatientService) -> None:
    with pytest.raises(NotFound):
        patients.get(987654321)


def test_an_edit_that_leaves_the_mrn_out_keeps_it(patients: PatientService,
                                                  db: object) -> None:
    rec = patients.register(draft(family_name="Keepmrn",
                                  previous_names=(PreviousName("Anna", "Before"),)))
    from sqlalchemy import Connection
    assert isinstance(db, Connection)
    db.execute(text("UPDATE patient_names SET valid_to = '2001-01-01', kind = 'alias' "
                    "WHERE patient_id = :p"), {"p": rec.id})
    without = replace(rec.draft, identifiers=tuple(
        i for i in rec.draft.identifiers if i.kind != "MRN"), phone="+49 30 9999999")
    new = patients.update(rec.id, rec.version, without)
    assert new.mrn == rec.mrn
    kept = db.execute(text("SELECT kind, valid_to FROM patient_names WHERE patient_id = :p"),
                      {"p": rec.id}).one()
    assert (kept.kind, kept.valid_to) == ("alias", date(2001, 1, 1))


def test_registering_opening_and_editing_are_audited(db: object, backend: Backend) -> None:
    from sqlalchemy import Connection

    from backend_client.audit.service import AuditService

    assert isinstance(db, Connection)
    uid = add_user(db, ("doctor",), display_name="Dr. Audit")
    service = PatientService(db, signed_in(backend, db, uid, workstation="reception-2"),
                             today=lambda: TODAY)
    system = PatientService(db, SystemAccess("admin-cli"), today=lambda: TODAY)
    rec = service.register(draft(family_name="Audited"))
    service.get(rec.id)
    system.update(rec.id, rec.version, replace(rec.draft, phone="+49 30 5555555"))
    service.mark_deceased(rec.id, 2, date(2020, 1, 1))
    report = AuditService(db).report_for_patient(rec.id)
    assert [(e.action, e.user_name, e.workstation) for e in report] == [
        ("patient.register", "Dr. Audit", "reception-2"),
        ("chart.open", "Dr. Audit", "reception-2"),
        ("patient.update", "", "admin-cli"),
        ("patient.deceased", "Dr. Audit", "reception-2"),
    ]
    assert AuditService(db).verify().ok


def test_mark_deceased_keeps_where_the_news_came_from(db: Connection,
                                                      patients: PatientService) -> None:
    """Issue 11: recording a death names its source (a code; nothing else about the
    patient goes into the audit trail); an unknown code is refused and nothing changes."""
    rec = patients.register(draft(family_name="Sourced", birth_date=date(1940, 1, 1)))
    with pytest.raises(ValidationError, match="where the news of the death comes from"):
        patients.mark_deceased(rec.id, rec.version, date(2020, 6, 1), source="rumour")
    assert patients.get(rec.id).deceased_at is None
    patients.mark_deceased(rec.id, rec.version, date(2020, 6, 1), source="certificate")
    details = db.execute(text("SELECT details FROM audit_events WHERE action = "
                              "'patient.deceased' AND object_id = :id"),
                         {"id": str(rec.id)}).scalar_one()
    assert details == {"source": "certificate"}

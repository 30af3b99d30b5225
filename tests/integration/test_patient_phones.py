"""Phone numbers stored in E.164 and found by any format; the clinic's date order read the
same way by the register form's validation and by search (issue 13; real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Connection, text

from backend_client.accounts.access import SystemAccess
from backend_client.clinic import DATE_ORDER, PHONE_REGION, set_setting
from backend_client.dto import ClinicLocale, Contact, PatientDraft
from backend_client.errors import ValidationError
from backend_client.patients.service import PatientService

from .conftest import TODAY


def clinic(db: Connection, **settings: str) -> PatientService:
    """A service of a clinic with these clinic_settings (the locale's default is pinned to
    one that differs, so a setting that is not read shows)."""
    keys = {"region": PHONE_REGION, "order": DATE_ORDER}
    for name, value in settings.items():
        set_setting(db, keys[name], value)
    return PatientService(db, SystemAccess("test-ws"), today=lambda: TODAY,
                          locale=ClinicLocale("DE", True))


def register(service: PatientService, family: str, phone: str, *,
             born: date | str = date(1984, 3, 12), contact_phone: str = "") -> int:
    return service.register(PatientDraft(
        given_name="Ada", family_name=family, birth_date=born, sex="female", phone=phone,
        emergency_contact=Contact("Ben", "brother", contact_phone) if contact_phone else None,
    ), allow_duplicates=True).id


def stored(db: Connection, pid: int) -> tuple[str, str, str]:
    row = db.execute(text("SELECT phone, phone_digits, phone_tail FROM patients WHERE id = :p"),
                     {"p": pid}).one()
    return row.phone, row.phone_digits, row.phone_tail


@pytest.fixture
def us(db: Connection) -> Iterator[tuple[PatientService, int]]:
    service = clinic(db, region="US")
    yield service, register(service, "Okafor", "917.206.5843", contact_phone="+44 20 7946 0958")


def test_a_number_typed_in_a_national_format_is_stored_in_e164(
        db: Connection, us: tuple[PatientService, int]) -> None:
    service, pid = us
    assert stored(db, pid) == ("+19172065843", "19172065843", "2065843")
    contact = db.execute(text("SELECT phone FROM patient_contacts WHERE patient_id = :p"),
                         {"p": pid}).scalar_one()
    assert contact == "+442079460958"


@pytest.mark.parametrize("query", ["(917) 206-5843", "+1 917 206 5843", "1-917-206-5843",
                                   "917.206.5843", "206-5843", "2065843", "okafor 206 5843"])
def test_found_by_every_format_and_by_its_last_seven_digits(
        us: tuple[PatientService, int], query: str) -> None:
    service, pid = us
    assert pid in [p.id for p in service.search(query).items]


def test_shown_in_one_national_format_and_foreign_numbers_internationally(
        us: tuple[PatientService, int]) -> None:
    service, pid = us
    record = service.get(pid)
    assert record.draft.phone == "(917) 206-5843"
    assert record.draft.emergency_contact is not None
    assert record.draft.emergency_contact.phone == "+44 20 7946 0958"
    row = next(p for p in service.search("2065843").items if p.id == pid)
    assert row.phone == "(917) 206-5843"
    # The form saves back what it shows: nothing changes.
    again = service.update(pid, record.version, record.draft)
    assert again.draft.phone == "(917) 206-5843"


def test_a_british_clinic_finds_its_numbers_by_the_trunk_zero_and_by_the_local_part(
        db: Connection) -> None:
    service = clinic(db, region="GB")
    pid = register(service, "Hughes", "+44 20 7946 0958")
    other = register(service, "Meyer", "+49 30 1234567")
    assert stored(db, pid)[0] == "+442079460958"
    for query in ("020 7946 0958", "7946 0958", "+44 20 7946 0958", "0044 20 7946 0958",
                  "+44 (0)20 7946 0958", "hughes +44 (0)20 7946 0958"):
        assert pid in [p.id for p in service.search(query).items], query
    assert service.get(pid).draft.phone == "020 7946 0958"
    assert service.get(other).draft.phone == "+49 30 1234567"
    assert other in [p.id for p in service.search("meyer +49 (0)30 1234567").items]
    assert register(service, "Evans", "020 7946 0001") != pid  # typed nationally: GB's


def test_a_number_that_cannot_be_read_is_refused_naming_the_field(db: Connection) -> None:
    service = clinic(db, region="US")
    with pytest.raises(ValidationError) as caught:
        register(service, "Okafor", "call the daughter", contact_phone="555-0199")
    assert "not a phone number" in caught.value.errors["phone"]
    assert "area code" in caught.value.errors["emergency_contact.phone"]


def test_the_clinics_date_order_decides_in_the_form_and_in_search(db: Connection) -> None:
    month_first = clinic(db, region="US", order="month-first")
    pid = register(month_first, "Okafor", "", born="12.03.1984")
    assert month_first.get(pid).draft.birth_date == date(1984, 12, 3)
    assert pid in [p.id for p in month_first.search("okafor 12.03.1984").items]
    assert [p.id for p in month_first.search("okafor 03/12/1984").items] == []
    # A reading that is no date leaves the only one it can be.
    assert month_first.get(register(month_first, "Li", "", born="13/03/1984")
                           ).draft.birth_date == date(1984, 3, 13)


def test_a_day_first_clinic_reads_the_same_text_as_12_march(db: Connection) -> None:
    day_first = clinic(db, order="day-first")
    pid = register(day_first, "Okafor", "", born="12.03.1984")
    assert day_first.get(pid).draft.birth_date == date(1984, 3, 12)
    assert pid in [p.id for p in day_first.search("okafor 12/03/1984").items]
    assert [p.id for p in day_first.search("okafor 03/12/1984").items] == []

"""Phone numbers read in many formats and countries, shown in one format; the clinic's
locale defaults; a date like 12.03.1984 read as the clinic says (issue 13). No servers."""

from __future__ import annotations

from datetime import date

import pytest

from backend_client.clinic import (
    DATE_ORDER,
    PHONE_REGION,
    SettingProblem,
    locale_default,
    parse_setting,
)
from backend_client.dto import ClinicLocale, Contact, PatientDraft
from backend_client.errors import ValidationError
from backend_client.patients.dates import DateProblem, parse_birth_date
from backend_client.patients.phones import PhoneProblem, display, to_e164
from backend_client.patients.query import parse_query
from backend_client.patients.validation import validate

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(("typed", "region", "e164"), [
    ("(917) 206-5843", "US", "+19172065843"),
    ("917.206.5843", "US", "+19172065843"),
    ("1-917-206-5843", "US", "+19172065843"),
    ("+1 917 206 5843", "GB", "+19172065843"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+44 20 7946 0958", "US", "+442079460958"),
    ("0044 20 7946 0958", "DE", "+442079460958"),
    ("030 1234567", "DE", "+49301234567"),
    ("+49 (0)30 1234567", "US", "+49301234567"),
    ("098765 43210", "IN", "+919876543210"),
    ("+91 98765 43210", "GB", "+919876543210"),
    ("138 0013 8000", "CN", "+8613800138000"),
    ("+86 138-0013-8000", "US", "+8613800138000"),
])
def test_numbers_in_many_formats_and_countries_become_e164(
        typed: str, region: str, e164: str) -> None:
    assert to_e164(typed, region) == e164


@pytest.mark.parametrize(("typed", "region", "why"), [
    ("call the daughter", "US", "'call the daughter' is not a phone number; write it like "
                                "(201) 555-0123, or with + and the country code"),
    ("555-0199", "US", "'555-0199' has no area code; write it with the area code"),
    ("12", "GB", "'12' is too short for a phone number in the United Kingdom"),
    ("+49 30 123456789012345", "US", "is too long for a phone number in Germany"),
])
def test_a_bad_number_gets_a_sentence(typed: str, region: str, why: str) -> None:
    with pytest.raises(PhoneProblem) as caught:
        to_e164(typed, region)
    assert why in str(caught.value)


@pytest.mark.parametrize(("stored", "region", "shown"), [
    ("+19172065843", "US", "(917) 206-5843"),
    ("+14165550123", "US", "(416) 555-0123"),       # Canada shares +1: dialled nationally
    ("+19172065843", "GB", "+1 917-206-5843"),
    ("+442079460958", "GB", "020 7946 0958"),
    ("+442079460958", "US", "+44 20 7946 0958"),
    ("+49301234567", "DE", "030 1234567"),
    ("+919876543210", "US", "+91 98765 43210"),
    ("+8613800138000", "CN", "138 0013 8000"),
    ("+390612345678", "IT", "06 1234 5678"),       # Italy's leading zero is the number's
    ("+390612345678", "US", "+39 06 1234 5678"),
    ("+5491123456789", "AR", "011 15-2345-6789"),   # Argentina's mobile 9 and 15
    ("+79161234567", "RU", "8 (916) 123-45-67"),
    ("ask daughter", "US", "ask daughter"),         # left by an older version: as it is
    ("", "US", ""),
])
def test_shown_national_at_home_and_international_otherwise(
        stored: str, region: str, shown: str) -> None:
    assert display(stored, region) == shown
    if stored.startswith("+"):
        assert to_e164(shown, region) == stored  # what the form shows saves back the same


@pytest.mark.parametrize(("env", "expected"), [
    ({"LANG": "en_US.UTF-8"}, ClinicLocale("US", False)),
    ({"LANG": "en_GB.UTF-8"}, ClinicLocale("GB", True)),
    ({"LANG": "de_DE.UTF-8", "LC_TELEPHONE": "en_IN"}, ClinicLocale("IN", True)),
    ({"LC_ALL": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}, ClinicLocale("FR", True)),
    ({"LANG": "C.UTF-8"}, ClinicLocale("US", True)),
    ({}, ClinicLocale("US", True)),
])
def test_the_default_follows_the_locale(env: dict[str, str], expected: ClinicLocale) -> None:
    assert locale_default(env) == expected


def test_settings_an_administrator_types() -> None:
    assert parse_setting("phone-region", "gb") == (PHONE_REGION, "GB")
    assert parse_setting("date-order", "Month-First") == (DATE_ORDER, "month-first")
    for name, value in (("phone-region", "XX"), ("date-order", "iso"), ("colour", "red")):
        with pytest.raises(SettingProblem):
            parse_setting(name, value)


@pytest.mark.parametrize(("typed", "day_first", "read"), [
    ("12.03.1984", True, date(1984, 3, 12)),
    ("12.03.1984", False, date(1984, 12, 3)),
    ("12/3/84", False, date(1984, 12, 3)),
    ("13/03/1984", False, date(1984, 3, 13)),   # month 13 does not exist: one reading left
    ("03/13/1984", True, date(1984, 3, 13)),
    ("12031984", False, date(1984, 12, 3)),     # eight digits, mmddyyyy in such a clinic
    ("1984-03-12", False, date(1984, 3, 12)),   # ISO is never ambiguous
])
def test_the_clinics_date_order_reads_an_ambiguous_date(
        typed: str, day_first: bool, read: date) -> None:
    assert parse_birth_date(typed, TODAY, day_first=day_first) == read
    assert parse_query(typed, TODAY, day_first=day_first).dates == (read,)


def test_without_an_order_an_ambiguous_date_is_refused_and_search_tries_both() -> None:
    with pytest.raises(DateProblem, match="could be 12 March or 3 December"):
        parse_birth_date("12.03.1984", TODAY)
    assert set(parse_query("12.03.1984", TODAY).dates) == {date(1984, 3, 12),
                                                           date(1984, 12, 3)}


def test_validation_stores_e164_and_names_the_phone_fields() -> None:
    us = ClinicLocale("US", False)
    draft = PatientDraft("Ada", "Okafor", "12.03.1984", "female", phone="(917) 206-5843",
                         emergency_contact=Contact("Ben", phone="020 7946 0958"))
    with pytest.raises(ValidationError) as caught:
        validate(draft, TODAY, us)
    assert set(caught.value.errors) == {"emergency_contact.phone"}
    assert "'020 7946 0958'" in caught.value.errors["emergency_contact.phone"]
    fixed = validate(PatientDraft("Ada", "Okafor", "12.03.1984", "female",
                                  phone="(917) 206-5843",
                                  emergency_contact=Contact("Ben", phone="+44 20 7946 0958")),
                     TODAY, us)
    assert fixed.draft.phone == "+19172065843"
    assert fixed.draft.emergency_contact == Contact("Ben", phone="+442079460958")
    assert fixed.birth_date == date(1984, 12, 3)


@pytest.mark.parametrize(("typed", "region", "stored"), [
    ("+44 (0)20 7946 0958", "US", "442079460958"),   # the trunk zero in brackets
    ("hughes +49 (0)30 1234567", "GB", "49301234567"),
    ("020 7946 0958", "GB", "442079460958"),
    ("(917) 206-5843", "US", "19172065843"),
])
def test_search_also_looks_for_a_typed_number_as_it_is_stored(
        typed: str, region: str, stored: str) -> None:
    assert stored in parse_query(typed, TODAY, region=region).phones

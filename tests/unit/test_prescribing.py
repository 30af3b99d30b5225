"""Checking a prescription as typed: frequencies understood, quantities worked out, and
every wrong field named at once in a sentence."""

from __future__ import annotations

import pytest

from backend_client.chart.dto import PrescriptionDraft
from backend_client.chart.prescribing import check, parse_frequency
from backend_client.errors import ValidationError


def rx(**kw: object) -> PrescriptionDraft:
    values: dict[str, object] = {"drug": "Amoxicillin", "strength": "500", "unit": "mg"}
    values.update(kw)
    return PrescriptionDraft(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "canonical", "per_day"), [
    ("once daily", "once daily", 1), ("OD", "once daily", 1), ("daily", "once daily", 1),
    ("twice daily", "twice daily", 2), ("bd", "twice daily", 2), ("BID", "twice daily", 2),
    ("twice a day", "twice daily", 2), ("three times daily", "three times daily", 3),
    ("tds", "three times daily", 3), ("tid", "three times daily", 3),
    ("four times daily", "four times daily", 4), ("qds", "four times daily", 4),
    ("qid", "four times daily", 4), ("5 times a day", "5 times daily", 5),
    ("every 8 hours", "every 8 hours", 3), ("every 6 hrs", "every 6 hours", 4),
    ("q4h", "every 4 hours", 6), ("every 24 hours", "once daily", 1),
    ("at night", "at night", 1), ("nocte", "at night", 1),
    ("in the morning", "in the morning", 1), ("mane", "in the morning", 1),
    ("  Twice   Daily ", "twice daily", 2),
])
def test_regular_frequencies_are_understood(typed: str, canonical: str,
                                            per_day: float) -> None:
    frequency = parse_frequency(typed)
    assert frequency is not None
    assert frequency.text == canonical
    assert frequency.per_day == pytest.approx(per_day)


def test_weekly_is_a_seventh_of_a_dose_a_day() -> None:
    frequency = parse_frequency("once weekly")
    assert frequency is not None and frequency.text == "weekly"
    assert frequency.per_day == pytest.approx(1 / 7)


@pytest.mark.parametrize(("typed", "canonical"), [
    ("as needed", "as needed"), ("PRN", "as needed"), ("when required", "as needed"),
    ("every 4 hours as needed", "every 4 hours as needed"),
    ("qds prn", "four times daily as needed"),
])
def test_as_needed_has_no_fixed_doses_a_day(typed: str, canonical: str) -> None:
    frequency = parse_frequency(typed)
    assert frequency is not None and frequency.as_needed
    assert frequency.text == canonical


@pytest.mark.parametrize("typed", ["", "sometimes", "every 0 hours", "bd tds", "99 times daily",
                                   "every fortnight"])
def test_what_is_not_a_frequency_is_not_guessed(typed: str) -> None:
    assert parse_frequency(typed) is None


def test_a_good_draft_is_normalised_and_its_quantity_worked_out() -> None:
    checked = check(rx(drug="  amoxicillin  ", strength="500", unit="MG", route="Oral",
                       frequency="tds", duration_days=7, dose="1"))
    assert checked.unit == "mg" and checked.route == "oral"
    assert checked.frequency == "three times daily"
    assert checked.quantity == "21"
    assert checked.drug == "amoxicillin"


def test_quantity_is_rounded_up_to_whole_units() -> None:
    checked = check(rx(dose="1/2", frequency="every 8 hours", duration_days=5))
    assert checked.quantity == "8"   # 0.5 × 3 × 5 = 7.5 → 8 tablets
    weekly = check(rx(frequency="weekly", duration_days=28))
    assert weekly.quantity == "4"


def test_a_quantity_typed_is_kept() -> None:
    assert check(rx(quantity="30")).quantity == "30"
    assert check(rx(form="solution", unit="mg/5ml", strength="250", dose="5 ml",
                    quantity="100 ml")).quantity == "100 ml"


def test_a_decimal_strength_is_written_plainly() -> None:
    assert check(rx(strength="0.50", unit="mcg")).strength == "0.5"
    assert check(rx(strength="2,5")).strength == "2.5"


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        check(PrescriptionDraft(drug="123", strength="-5", unit="kg", route="by mouth",
                                frequency="sometimes", duration_days=400, refills=13,
                                dose="a few"))
    errors = caught.value.errors
    assert set(errors) == {"drug", "strength", "unit", "route", "frequency", "duration_days",
                           "refills", "dose"}
    assert "letters" in errors["drug"]
    assert "positive number" in errors["strength"] and "'-5'" in errors["strength"]
    assert "'kg' is not a unit" in errors["unit"]
    assert "'by mouth' is not a route" in errors["route"]
    assert "'sometimes' is not a frequency" in errors["frequency"]
    assert "1 to 365 days" in errors["duration_days"] and "400" in errors["duration_days"]
    assert "0 to 12" in errors["refills"]
    assert caught.value.message.startswith("8 fields need attention")


def test_empty_fields_say_what_to_give() -> None:
    with pytest.raises(ValidationError) as caught:
        check(PrescriptionDraft(drug=" ", strength="", unit="", route="", frequency=""))
    errors = caught.value.errors
    assert errors["drug"] == "Say which drug to prescribe."
    assert errors["strength"].startswith("Give the strength")
    assert errors["unit"].startswith("Choose the strength's unit")
    assert errors["frequency"].startswith("Say how often")


def test_zero_duration_and_a_zero_quantity_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        check(rx(duration_days=0, quantity="0"))
    assert set(caught.value.errors) == {"duration_days", "quantity"}


def test_as_needed_needs_a_quantity() -> None:
    with pytest.raises(ValidationError) as caught:
        check(rx(frequency="prn"))
    assert "as needed" in caught.value.errors["quantity"]
    assert check(rx(frequency="prn", quantity="20")).frequency == "as needed"


def test_a_liquid_needs_a_quantity() -> None:
    with pytest.raises(ValidationError) as caught:
        check(rx(form="solution", unit="mg/5ml", strength="250", dose="5 ml"))
    assert "how much to supply" in caught.value.errors["quantity"]


def test_refills_bounds() -> None:
    assert check(rx(refills=0)).refills == 0
    assert check(rx(refills=12)).refills == 12
    with pytest.raises(ValidationError) as caught:
        check(rx(refills=-1))
    assert set(caught.value.errors) == {"refills"}

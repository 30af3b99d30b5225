"""How patient facts are written: ages, dates as typed and as shown, alerts in words."""

from __future__ import annotations

from datetime import date

import pytest

from backend_client.dto import AlertSummary
from ui.patients.formatting import (
    DateFormatError,
    age_text,
    alert_text,
    format_date,
    read_date,
    sorted_alerts,
)


@pytest.mark.parametrize(("born", "on", "expected"), [
    (date(1948, 6, 24), date(2026, 11, 27), "78 y"),
    (date(1948, 11, 28), date(2026, 11, 27), "77 y"),   # the day before the birthday
    (date(2024, 11, 27), date(2026, 11, 27), "2 y"),
    (date(2024, 11, 28), date(2026, 11, 27), "23 mo"),  # under two: months
    (date(2026, 10, 27), date(2026, 11, 27), "1 mo"),
    (date(2026, 11, 20), date(2026, 11, 27), "7 d"),    # under a month: days
    (date(2026, 11, 27), date(2026, 11, 27), "0 d"),
    (date(2027, 1, 1), date(2026, 11, 27), ""),         # not born yet: no age
])
def test_age_as_clinicians_write_it(born: date, on: date, expected: str) -> None:
    assert age_text(born, on) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("1984-06-24", date(1984, 6, 24)),
    ("24/06/1984", date(1984, 6, 24)),     # only one reading is a date
    ("06/24/1984", date(1984, 6, 24)),
    ("24 Jun 1984", date(1984, 6, 24)),
    ("24 june 1984", date(1984, 6, 24)),
    ("June 24, 1984", date(1984, 6, 24)),
    ("05/05/1990", date(1990, 5, 5)),      # both readings are the same day
    ("", None),
    ("   ", None),
])
def test_dates_read_as_typed(typed: str, expected: date | None) -> None:
    assert read_date(typed) == expected


@pytest.mark.parametrize(("typed", "message"), [
    ("03/04/1980", "Could be 3 April or 4 March: write it like 3 Apr 1980."),
    ("31/02/1980", "31 February 1980 does not exist."),
    ("1980-13-01", "There is no month 13."),
    ("12 Smarch 1980", "“Smarch” is not a month."),
    ("next tuesday", "Write the date like 24 Jun 1984 or 1984-06-24."),
])
def test_dates_that_are_not_one_clear_day_say_why(typed: str, message: str) -> None:
    with pytest.raises(DateFormatError) as caught:
        read_date(typed)
    assert str(caught.value) == message


def test_dates_are_shown_with_the_month_in_words() -> None:
    assert format_date(date(1984, 6, 4)) == "4 Jun 1984"
    assert format_date(date(1984, 6, 4), long=True) == "4 June 1984"


def test_alerts_say_their_severity_in_words_most_severe_first() -> None:
    alerts = (AlertSummary("clinical", "low", "Hard of hearing"),
              AlertSummary("clinical", "high", "Difficult airway"),
              AlertSummary("allergy", "high", "Penicillin"),
              AlertSummary("infection", "moderate", "MRSA"))
    assert [alert_text(a) for a in sorted_alerts(alerts)] == [
        "Allergy: Penicillin (HIGH)", "Clinical: Difficult airway (HIGH)",
        "Infection: MRSA (moderate)", "Clinical: Hard of hearing (low)"]

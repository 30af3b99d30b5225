"""How patient facts are written on screen: dates, ages, sex, alerts. Qt-free.

Dates are shown as ``12 Mar 1984``: day, month name and year, so no reader can take the
day for the month.
"""

from __future__ import annotations

import re
from datetime import date

from backend_client.dto import IDENTIFIER_KIND_CHOICES, SEX_CHOICES, AlertSummary

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_LONG = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
SEX_LABELS = dict(SEX_CHOICES)
IDENTIFIER_KIND_LABELS = dict(IDENTIFIER_KIND_CHOICES)
SEVERITY_ORDER = {"high": 0, "moderate": 1, "low": 2}
KIND_LABELS = {"allergy": "Allergy", "clinical": "Clinical", "infection": "Infection",
               "other": "Alert"}
DATE_FORMAT_HINT = "24 Jun 1984 or 1984-06-24"


def format_date(value: date, *, long: bool = False) -> str:
    month = (MONTHS_LONG if long else MONTHS)[value.month - 1]
    return f"{value.day} {month} {value.year}"


def age_text(born: date, on: date) -> str:
    """Age as clinicians write it: years from two, months under two, days under a month."""
    if on < born:
        return ""
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    if months >= 24:
        return f"{months // 12} y"
    if months >= 1:
        return f"{months} mo"
    return f"{(on - born).days} d"


def sex_label(code: str) -> str:
    return SEX_LABELS.get(code, code.capitalize() if code else "Not recorded")


class DateFormatError(ValueError):
    """What was typed is not one clear date; the message says why, in a sentence."""


_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s.\-]+([A-Za-z]+)\.?,?[\s.\-]+(\d{4})$")
_MONTH_DAY = re.compile(r"^([A-Za-z]+)\.?[\s.\-]+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def _month(word: str) -> int:
    folded = word.casefold()
    for i, name in enumerate(MONTHS_LONG):
        if len(folded) >= 3 and name.casefold().startswith(folded):
            return i + 1
    raise DateFormatError(f"“{word}” is not a month.")


def _make(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise DateFormatError(f"There is no month {month}.")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateFormatError(f"{day} {MONTHS_LONG[month - 1]} {year} does not exist.") from None


def read_date(text: str, day_first: bool | None = None) -> date | None:
    """Read a typed date the way the patient service does, for echoing it back in words.

    ``None`` for blank. ``day_first``: the clinic's order for numbers like 03/04/1980
    (``ClinicLocale.day_first``; when its reading is no date, the other one is taken).
    Without it, raises :class:`DateFormatError` for ``03/04/1980``, which could be
    3 April or 4 March — and for any text that is not one clear date. The service is the
    authority (the form submits the text as typed); this only lets the user see at once
    how it will be read.
    """
    text = text.strip()
    if not text:
        return None
    if m := _ISO.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    if m := _DAY_MONTH.match(text):
        return _make(int(m[3]), _month(m[2]), int(m[1]))
    if m := _MONTH_DAY.match(text):
        return _make(int(m[3]), _month(m[1]), int(m[2]))
    if m := _NUMERIC.match(text):
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        readings: list[date] = []
        problems: list[str] = []
        for day, month in ((a, b), (b, a)):
            try:
                readings.append(_make(year, month, day))
            except DateFormatError as exc:
                problems.append(str(exc))
        readings = list(dict.fromkeys(readings))
        if day_first is not None and len(readings) == 2:
            return readings[0] if day_first else readings[1]
        if len(readings) == 1:
            return readings[0]
        if not readings:
            raise DateFormatError(sorted(problems, key=lambda p: p.startswith("There"))[0])
        first, second = readings
        raise DateFormatError(
            f"Could be {first.day} {MONTHS_LONG[first.month - 1]} or {second.day} "
            f"{MONTHS_LONG[second.month - 1]}: write it like {format_date(first)}.")
    raise DateFormatError(f"Write the date like {DATE_FORMAT_HINT}.")


def is_ambiguous(text: str) -> bool:
    """Whether ``text`` is a date of numbers both of whose readings are dates (03/04/1980),
    so that only the clinic's date order tells which."""
    m = _NUMERIC.match(text.strip())
    if not m:
        return False
    a, b = int(m[1]), int(m[2])
    return a != b and 1 <= a <= 12 and 1 <= b <= 12


def alert_text(alert: AlertSummary) -> str:
    """An alert in words, so its severity never rests on colour alone."""
    kind = KIND_LABELS.get(alert.kind, alert.kind.capitalize() or "Alert")
    severity = "HIGH" if alert.severity == "high" else alert.severity
    return f"{kind}: {alert.description} ({severity})"


def sorted_alerts(alerts: tuple[AlertSummary, ...]) -> list[AlertSummary]:
    """Most severe first; allergies before other alerts of the same severity."""
    return sorted(alerts, key=lambda a: (SEVERITY_ORDER.get(a.severity, 3),
                                         a.kind != "allergy", a.description.casefold()))

"""Recurring appointments: checking a rule, listing its occurrences, saying it in words.

Pure functions, no I/O. A series keeps its wall-clock time in the clinic's zone: a
09:00 appointment is at 09:00 local time in winter and in summer, so its UTC instant
moves when the clocks change. Each occurrence lasts as long as the first (elapsed time).

How the rules read (``Recurrence`` in backend_client/dto.py):

- daily / weekly: every ``interval`` days / weeks from the first occurrence (weekly is on
  the first occurrence's weekday).
- monthly_date: the first occurrence's day of the month, every ``interval`` months. A
  month without that day (the 31st in April, 29 February outside leap years) is skipped,
  not moved to the month's end, and each skipped month is a sentence in ``expand``'s
  second list.
- monthly_weekday: the same weekday in the same week of the month as the first
  occurrence: days 1-7 are the 1st, 8-14 the 2nd, ... 29-31 the 5th ("5th Monday"). A
  month without a 5th one is skipped, with a sentence, like a missing date.
  *Decision:* there is no "last Monday of the month" rule. The rule is derived from the
  first date alone, and a date in the month's last week is also the 4th (or 5th) weekday,
  so guessing "last" would move a "4th Tuesday" series to the 5th Tuesday in months that
  have one, unasked. Someone who wants "last" books the 5th and sees every skipped month
  named before saving; a "last" option would need a field in ``Recurrence``.
- ``count``: how many appointments (skipped months do not count, as in RFC 5545), or
  ``until``: the last day an occurrence may start on (inclusive, in the clinic's zone).
  Exactly one of the two; at most ``MAX_OCCURRENCES`` appointments either way.

Times that do not exist or happen twice (the clocks changing):

- A wall-clock time that does not exist that day (02:30 when the clocks go forward from
  02:00 to 03:00) is moved forward by the gap (to 03:30, as RFC 5545 says) and
  ``expand`` says so in its second list.
- A wall-clock time that happens twice (01:30 when the clocks go back) is the earlier
  one, unless the first occurrence was itself the later one (``fold=1``); the clock shows
  the same time either way, so nothing is said.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from backend_client.dto import RECURRENCE_FREQUENCIES, Recurrence
from backend_client.errors import ValidationError

MAX_OCCURRENCES = 200
MAX_INTERVAL = 52

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNITS = {"daily": "days", "weekly": "weeks", "monthly_date": "months",
          "monthly_weekday": "months"}
_FREQUENCY_WORDS = "daily, weekly, monthly by date or monthly by weekday"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd, 31st."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return str(n) + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def short_date(d: date) -> str:
    """'30 Jun 2027': English month names whatever the machine's locale."""
    return f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}"


def long_date(d: date) -> str:
    """'8 March 2026'."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


# ------------------------------------------------------------------ validation


def validate(rule: Recurrence, first_day: date | None = None) -> None:
    """Raise ``ValidationError`` naming every field that is wrong (``errors`` holds them
    all: frequency, interval, count, until), each with a sentence.

    Args:
        rule: the rule as the booking dialog filled it in.
        first_day: the first occurrence's date in the clinic's zone. Given, ``until`` is
            also checked against it (not before it) and the series' length is counted
            (at most ``MAX_OCCURRENCES``); ``expand`` always gives it.
    """
    errors: dict[str, str] = {}
    if rule.frequency not in RECURRENCE_FREQUENCIES:
        errors["frequency"] = f"Choose how often it repeats: {_FREQUENCY_WORDS}."
    unit = _UNITS.get(rule.frequency, "days, weeks or months")
    if not _is_int(rule.interval) or not 1 <= rule.interval <= MAX_INTERVAL:
        errors["interval"] = (f"It can repeat every 1 to {MAX_INTERVAL} {unit}, "
                              f"not every {rule.interval}.")
    if rule.count is not None and rule.until is not None:
        errors["count"] = "Give either a number of times or an end date, not both."
    elif rule.count is None and rule.until is None:
        errors["count"] = "Say how many times it repeats, or until when."
    elif rule.count is not None and (
            not _is_int(rule.count) or not 1 <= rule.count <= MAX_OCCURRENCES):
        errors["count"] = (f"A series has 1 to {MAX_OCCURRENCES} appointments, "
                           f"not {rule.count}.")
    elif rule.until is not None and (
            not isinstance(rule.until, date) or isinstance(rule.until, datetime)):
        errors["until"] = "Give the end date as a day, without a time."
    elif rule.until is not None and first_day is not None and rule.until < first_day:
        errors["until"] = (f"The end date {short_date(rule.until)} is before the first "
                           f"appointment ({short_date(first_day)}).")
    if not errors and first_day is not None:
        # Count the series (dates only, cheap), stopping as soon as there are too many.
        n = sum(1 for _ in zip(_dates(rule, first_day), range(MAX_OCCURRENCES + 1),
                               strict=False))
        if n > MAX_OCCURRENCES:
            errors["until"] = (
                f"That end date gives more than {MAX_OCCURRENCES} appointments; a series "
                f"has at most {MAX_OCCURRENCES}. Choose an earlier end date or a number "
                "of times.")
        elif rule.count is not None and n < rule.count:
            # Only a rule that skips most months and starts near the calendar's end
            # (29 February yearly from 9600 on) runs out of dates.
            errors["count"] = (f"Only {n} of those dates come before the year "
                               f"{date.max.year + 1}; choose fewer times.")
    if errors:
        raise ValidationError.of(errors)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ------------------------------------------------------------------ the dates


@dataclass(frozen=True)
class _Skip:
    """A month the rule has no day in (yielded by ``_dates`` instead of a date)."""

    sentence: str
    month_end: date


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def _candidates(rule: Recurrence, first: date) -> Iterator[date | _Skip]:
    """Every date the rule gives from ``first`` on (``first`` included), and a ``_Skip``
    for every month it has none in; endless (the caller stops)."""
    step = rule.interval
    if rule.frequency in ("daily", "weekly"):
        days = step if rule.frequency == "daily" else 7 * step
        d = first
        while True:
            yield d
            if (date.max - d).days < days:
                return
            d += timedelta(days=days)
    week = (first.day - 1) // 7 + 1          # the "2nd" of "2nd Tuesday"
    k = 0
    while True:
        year, month = _add_months(first.year, first.month, k * step)
        if year > date.max.year:
            return
        length = calendar.monthrange(year, month)[1]
        month_end = date(year, month, length)
        if rule.frequency == "monthly_date":
            if first.day <= length:
                yield date(year, month, first.day)
            else:
                yield _Skip(f"No {first.day} {MONTHS[month - 1]} {year}: "
                            "that month is skipped.", month_end)
        else:
            offset = (first.weekday() - date(year, month, 1).weekday()) % 7
            day = 1 + offset + 7 * (week - 1)
            if day <= length:
                yield date(year, month, day)
            else:
                yield _Skip(f"No {ordinal(week)} {WEEKDAYS[first.weekday()]} in "
                            f"{MONTHS[month - 1]} {year}: that month is skipped.", month_end)
        k += 1


def _dates(rule: Recurrence, first: date, skipped: list[str] | None = None) -> Iterator[date]:
    """The series' dates, count or until applied. Skipped months inside the series go to
    ``skipped`` as sentences: with an end date, every month up to it; with a count, only
    those before the last appointment (the months after it are not part of the series)."""
    made = 0
    pending: list[str] = []
    for c in _candidates(rule, first):
        if isinstance(c, _Skip):
            if rule.until is not None:
                if c.month_end > rule.until:
                    return
                if skipped is not None:
                    skipped.append(c.sentence)
            else:
                pending.append(c.sentence)
            continue
        if rule.until is not None and c > rule.until:
            return
        if rule.count is not None and made >= rule.count:
            return
        if skipped is not None:
            skipped.extend(pending)
        pending.clear()
        made += 1
        yield c


# ------------------------------------------------------------------ occurrences


def expand(rule: Recurrence, starts_at: datetime, ends_at: datetime,
           tz: tzinfo) -> tuple[list[tuple[datetime, datetime]], list[str]]:
    """Every occurrence of the series, the first (``starts_at``..``ends_at``) included.

    Args:
        rule: checked here first (``ValidationError``).
        starts_at, ends_at: the first appointment, aware datetimes.
        tz: the clinic's zone (a ``zoneinfo.ZoneInfo``): occurrences keep the first one's
            wall-clock time in it.

    Returns:
        The occurrences as (start, end) aware datetimes in ``tz``, in order; and sentences
        for the desk: months the rule skips ("No 31 February 2027: that month is
        skipped.") and occurrences moved because their time does not exist that day
        ("8 March 2026: 02:30 does not exist (the clocks go forward), so it is at 03:30.").
        Beware: Python subtracts and compares two datetimes of the same zone on the wall
        clock (fold and offset ignored), so convert to UTC before measuring or comparing
        across a clock change.
    """
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise ValidationError("starts_at", "The start needs a time zone.")
    if ends_at.tzinfo is None or ends_at.utcoffset() is None:
        raise ValidationError("ends_at", "The end needs a time zone.")
    length = ends_at - starts_at
    if length <= timedelta(0):
        raise ValidationError("ends_at", "The end must be after the start.")
    first = starts_at.astimezone(tz)
    validate(rule, first.date())
    wall, fold = first.timetz().replace(tzinfo=None), first.fold
    sentences: list[str] = []
    out: list[tuple[datetime, datetime]] = []
    for d in _dates(rule, first.date(), sentences):
        if d == first.date():
            start = first
        else:
            start, note = _local(d, wall, fold, tz)
            if note:
                sentences.append(note)
        out.append((start, (start.astimezone(UTC) + length).astimezone(tz)))
    return out, sentences


def _local(d: date, wall: time, fold: int, tz: tzinfo) -> tuple[datetime, str]:
    """``wall`` on ``d`` in ``tz`` as an aware datetime, and a sentence if that time does
    not exist on that day (it is then moved forward by the gap)."""
    naive = datetime.combine(d, wall)
    # fold=0 in a gap takes the offset from before the change: 02:30 "winter time" is
    # 03:30 summer time, i.e. the time moves forward by the gap.
    early = naive.replace(tzinfo=tz, fold=0)
    real = early.astimezone(UTC).astimezone(tz)
    if real.replace(tzinfo=None) != naive:
        return real, (f"{long_date(d)}: {wall:%H:%M} does not exist (the clocks go "
                      f"forward), so it is at {real:%H:%M}.")
    chosen = naive.replace(tzinfo=tz, fold=fold)
    # Normalised: an aware datetime whose fold picks the instant, printed with its offset.
    return chosen.astimezone(UTC).astimezone(tz), ""


# ------------------------------------------------------------------ words


def describe(rule: Recurrence, starts_at: datetime, tz: tzinfo) -> str:
    """The rule as the booking dialog says it: "Every 2 weeks on Tuesday, 6 times",
    "Monthly on the 2nd Tuesday until 30 Jun 2027", "Daily, 5 times". Does not
    validate (the dialog shows it while the user types); an unknown frequency reads
    "Repeats"."""
    first = starts_at.astimezone(tz).date()
    n = rule.interval
    weekday = WEEKDAYS[first.weekday()]
    if rule.frequency == "daily":
        text = "Daily" if n == 1 else f"Every {n} days"
    elif rule.frequency == "weekly":
        text = ("Weekly" if n == 1 else f"Every {n} weeks") + f" on {weekday}"
    elif rule.frequency == "monthly_date":
        text = ("Monthly" if n == 1 else f"Every {n} months") + f" on the {ordinal(first.day)}"
    elif rule.frequency == "monthly_weekday":
        week = (first.day - 1) // 7 + 1
        text = (("Monthly" if n == 1 else f"Every {n} months")
                + f" on the {ordinal(week)} {weekday}")
    else:
        text = "Repeats"
    if rule.count is not None:
        text += ", once" if rule.count == 1 else f", {rule.count} times"
    elif rule.until is not None:
        text += f" until {short_date(rule.until)}"
    return text

"""How booking facts are written on screen: local times, spans, repeat rules. Qt-free.

Appointment times arrive aware (UTC from the database); the desk reads them in the
workstation's zone. ``zone`` None means the system's local zone (DST-aware), which is what
the app uses; tests pass a fixed ZoneInfo so no test depends on the machine's zone.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from backend_client.dto import APPOINTMENT_STATUS_LABELS, AppointmentInfo, Recurrence
from ui.patients.formatting import format_date

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th")

# What each status button says: the target status's desk name, except going back.
TRANSITION_LABELS = {
    "checked_in": "Arrived",
    "in_progress": "In room",
    "completed": "Completed",
    "no_show": "No-show",
    "cancelled": "Cancel appointment…",
    "booked": "Undo arrival",
}


def local(value: datetime, zone: tzinfo | None) -> datetime:
    return value.astimezone(zone) if zone is not None else value.astimezone()


def aware(naive: datetime, zone: tzinfo | None) -> datetime:
    """A wall-clock time typed at the desk as an aware time in the desk's zone."""
    return naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()


def hhmm(value: datetime, zone: tzinfo | None) -> str:
    return f"{local(value, zone):%H:%M}"


def span(start: datetime, end: datetime, zone: tzinfo | None) -> str:
    return f"{hhmm(start, zone)}–{hhmm(end, zone)}"


def day_text(value: datetime, zone: tzinfo | None) -> str:
    when = local(value, zone)
    return f"{WEEKDAYS[when.weekday()][:3]} {format_date(when.date())}"


def person_name(patient_name: str) -> str:
    """"Müller, Anna" as it is said: "Anna Müller"."""
    family, sep, given = patient_name.partition(", ")
    return f"{given} {family}".strip() if sep else patient_name


def status_label(status: str) -> str:
    return APPOINTMENT_STATUS_LABELS.get(status, status)


def appointment_line(appt: AppointmentInfo, provider: str, zone: tzinfo | None) -> str:
    """"Tue 1 Dec 2026, 09:40–10:00 with Dr Demo"."""
    return (f"{day_text(appt.starts_at, zone)}, {span(appt.starts_at, appt.ends_at, zone)}"
            + (f" with {provider}" if provider else ""))


def _ordinal_day(day: int) -> str:
    if 10 <= day % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def week_of_month(day: date) -> int:
    return (day.day - 1) // 7 + 1


def describe_recurrence(rule: Recurrence | None, first: datetime) -> str:
    """One line a receptionist can read back to the patient, e.g. "Every 2 weeks on
    Tuesday at 09:40, from 1 Dec 2026, 6 times". ``first`` is the first occurrence, in
    local time."""
    if rule is None:
        return "Does not repeat."
    n = max(rule.interval, 1)
    weekday = WEEKDAYS[first.weekday()]
    if rule.frequency == "daily":
        what = "Every day" if n == 1 else f"Every {n} days"
    elif rule.frequency == "weekly":
        what = (f"Every week on {weekday}" if n == 1
                else f"Every {n} weeks on {weekday}")
    elif rule.frequency == "monthly_date":
        what = ("Every month" if n == 1 else f"Every {n} months") + \
            f" on the {_ordinal_day(first.day)}"
    elif rule.frequency == "monthly_weekday":
        nth = ORDINALS[week_of_month(first.date()) - 1]
        what = ("Every month" if n == 1 else f"Every {n} months") + f" on the {nth} {weekday}"
    else:
        what = f"Repeats ({rule.frequency})"
    text = f"{what} at {first:%H:%M}, from {format_date(first.date())}"
    if rule.count:
        text += f", {rule.count} times"
    elif rule.until:
        text += f", until {format_date(rule.until)}"
    return text + "."

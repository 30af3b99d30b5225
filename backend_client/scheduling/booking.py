"""Checks and sentences of booking: bad input (``ValidationError`` with field names), the
warnings a person may override (patient booked elsewhere, outside working hours or in a
break, in the past), what a clash says, and what an illegal status change says."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from backend_client.dto import APPOINTMENT_STATUS_LABELS, AppointmentInfo, BookingWarning
from backend_client.errors import ValidationError
from backend_client.scheduling import queries as q
from backend_client.stores.postgres.models import (
    AppointmentType,
    Patient,
    PatientIdentifier,
    Provider,
)

MAX_REASON = 500
MIN_MINUTES, MAX_MINUTES = 5, 480
WEEKDAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
            "Sundays")
_VERBS = {"booked": "put back to booked (arrival undone)", "checked_in": "marked arrived",
          "in_progress": "taken into the room", "completed": "completed",
          "cancelled": "cancelled", "no_show": "marked as a no-show"}


def sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def local_zone() -> tzinfo:
    """This computer's IANA zone (TZ, /etc/timezone, /etc/localtime), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)


def hhmm(t: datetime, tz: tzinfo) -> str:
    return t.astimezone(tz).strftime("%H:%M")


def span(start: datetime, end: datetime, tz: tzinfo) -> str:
    return f"{hhmm(start, tz)}–{hhmm(end, tz)}"


def day_text(t: datetime, tz: tzinfo) -> str:
    local = t.astimezone(tz)
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b %Y')}"


@dataclass(frozen=True)
class Facts:
    """What a booking's checks looked up (one round trip), for its sentences and for the
    appointments it returns without reading them back."""

    provider_name: str
    patient_name: str
    patient_mrn: str
    patient_birth_date: date | None
    type_name: str
    colour: str
    now: datetime   # PostgreSQL's now(): this transaction's time, the rows' updated_at


def check_request(s: Session, *, provider_id: int, patient_id: int, type_id: int | None,
                  starts_at: datetime, ends_at: datetime, reason: str,
                  override_reason: str) -> Facts:
    """Every problem of a booking or move at once (``ValidationError.of``)."""
    errors: dict[str, str] = {}
    aware = True
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime) or value.tzinfo is None \
                or value.utcoffset() is None:
            errors[name] = "The time needs a date and a time zone."
            aware = False
    if aware:
        minutes = (ends_at - starts_at).total_seconds() / 60
        if minutes <= 0:
            errors["ends_at"] = "The end must be after the start."
        elif not MIN_MINUTES <= minutes <= MAX_MINUTES:
            errors["ends_at"] = (f"An appointment lasts {MIN_MINUTES} to {MAX_MINUTES} "
                                 f"minutes; this one would last {minutes:g}.")
    if len(reason or "") > MAX_REASON:
        errors["reason"] = f"The reason is longer than {MAX_REASON} characters."
    if len(override_reason or "") > MAX_REASON:
        errors["override_reason"] = f"The reason is longer than {MAX_REASON} characters."
    f = s.execute(_facts_query(), {"provider": provider_id, "patient": patient_id,
                                   "type": type_id}).one()
    if f.active is None:
        errors["provider_id"] = "There is no such provider."
    elif not f.active:
        errors["provider_id"] = "This provider is no longer bookable."
    if f.family is None:
        errors["patient_id"] = "There is no such patient."
    elif f.deceased is not None:
        errors["patient_id"] = "The patient is recorded as deceased."
    if type_id is not None and f.type_name is None:
        errors["type_id"] = "There is no such appointment type."
    if errors:
        raise ValidationError.of(errors)
    return Facts(q.provider_name(f.title, f.given_p, f.family_p), f"{f.family}, {f.given}",
                 f.mrn or "", f.birth_date, f.type_name or "", f.colour or "#607d8b", f.now)


@functools.cache
def _facts_query() -> Any:
    """Everything a booking looks up, in one statement (built once)."""
    def one(column: Any, *where: Any) -> Any:
        return select(column).where(*where).limit(1).scalar_subquery()

    pv: Any = bindparam("provider")
    pa: Any = bindparam("patient")
    ty: Any = bindparam("type")
    return select(
        one(Provider.is_active, Provider.id == pv).label("active"),
        one(Provider.title, Provider.id == pv).label("title"),
        one(Provider.given_name, Provider.id == pv).label("given_p"),
        one(Provider.family_name, Provider.id == pv).label("family_p"),
        one(Patient.given_name, Patient.id == pa).label("given"),
        one(Patient.family_name, Patient.id == pa).label("family"),
        one(Patient.birth_date, Patient.id == pa).label("birth_date"),
        one(Patient.deceased_at, Patient.id == pa).label("deceased"),
        one(PatientIdentifier.value, PatientIdentifier.patient_id == pa,
            PatientIdentifier.kind == "MRN").label("mrn"),
        one(AppointmentType.name, AppointmentType.id == ty).label("type_name"),
        one(AppointmentType.colour, AppointmentType.id == ty).label("colour"),
        func.now().label("now"),
    )


def provider_label(s: Session, provider_id: int) -> str:
    row = s.execute(select(Provider.title, Provider.given_name, Provider.family_name)
                    .where(Provider.id == provider_id)).first()
    return q.provider_name(*row) if row is not None else "The provider"


def clash_sentence(s: Session, other: AppointmentInfo, tz: tzinfo) -> str:
    """"Dr Anna Demo is already booked 09:40–09:55 on Tue 3 Dec 2026 with Müller, Anna
    (Consultation)."""
    kind = f" ({other.type_name})" if other.type_name else ""
    return (f"{provider_label(s, other.provider_id)} is already booked "
            f"{span(other.starts_at, other.ends_at, tz)} on {day_text(other.starts_at, tz)} "
            f"with {other.patient_name}{kind}.")


def transition_sentence(old: str, new: str) -> str:
    if old in ("completed", "cancelled", "no_show"):
        return (f"This appointment is {APPOINTMENT_STATUS_LABELS[old].lower()}: it cannot be "
                f"{_VERBS.get(new, new)} any more.")
    return (f"An appointment that is {APPOINTMENT_STATUS_LABELS.get(old, old).lower()} "
            f"cannot be {_VERBS.get(new, new)}.")


def warnings_for(s: Session, tz: tzinfo, now: datetime, provider_id: int, patient_id: int,
                 occurrences: Sequence[tuple[datetime, datetime]], *,
                 exclude: Sequence[int] = (), series: bool = False,
                 provider_name: str = "") -> tuple[BookingWarning, ...]:
    """What a person should see before booking these times (each may be overridden)."""
    if not occurrences:
        return ()
    out: list[BookingWarning] = []
    first = min(a for a, _ in occurrences)
    last = max(b for _, b in occurrences)
    who = provider_name or provider_label(s, provider_id)
    theirs = q.overlapping(s, start=first, end=last, patient_id=patient_id, exclude=exclude)
    hours, breaks = q.hours_and_breaks(s, [provider_id], first.astimezone(tz).date(),
                                       last.astimezone(tz).date())
    for start, end in occurrences:
        at = start if series else None
        when = f"{day_text(start, tz)} {span(start, end, tz)}"
        if start < now:
            out.append(BookingWarning("in_past", f"{when} is in the past.", at))
        for other in theirs:
            if other.starts_at < end and other.ends_at > start \
                    and other.provider_id != provider_id:
                out.append(BookingWarning(
                    "patient_elsewhere",
                    f"{other.patient_name} is already booked with "
                    f"{provider_label(s, other.provider_id)} "
                    f"{span(other.starts_at, other.ends_at, tz)} that day.", at))
                break
        sentence = _hours_sentence(hours, breaks, provider_id, who, start, end, tz)
        if sentence:
            out.append(BookingWarning("outside_hours", f"{when}: {sentence}", at))
    return tuple(out)


def _hours_sentence(hours: list[Any], breaks: list[Any], provider_id: int, who: str,
                    start: datetime, end: datetime, tz: tzinfo) -> str:
    """'' when [start, end) lies in one working period of the provider; else why not."""
    day = start.astimezone(tz).date()
    periods = q.working_periods(hours, breaks, [provider_id], day, tz)
    if any(p.starts_at <= start and end <= p.ends_at for p in periods):
        return ""
    for a, b in q.breaks_on(breaks, provider_id, day, tz):
        if a < end and b > start:
            return f"that is in {who}'s break ({span(a, b, tz)})."
    if not periods:
        return f"{who} does not work on {WEEKDAYS[day.weekday()]}."
    listed = ", ".join(span(p.starts_at, p.ends_at, tz) for p in periods)
    return f"that is outside {who}'s working hours ({listed})."


def utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


ONE_DAY = timedelta(days=1)

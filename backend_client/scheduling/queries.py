"""Reads of the schedule: rows to DTOs. Every function takes the caller's Session (its
transaction names the signed-in session, so row security applies) and returns frozen DTOs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from backend_client.dto import (
    AppointmentInfo,
    AppointmentTypeInfo,
    ProviderInfo,
    WorkingPeriod,
)
from backend_client.stores.postgres.models import (
    Appointment,
    AppointmentType,
    Patient,
    PatientIdentifier,
    Provider,
    ProviderBreak,
    ProviderWorkingHours,
    User,
)


def provider_name(title: str, given: str, family: str) -> str:
    """"Dr. Anna Demo" (the title as the clinic typed it)."""
    return " ".join(p for p in (title.strip(), given.strip(), family.strip()) if p)


def providers(s: Session, *, include_inactive: bool = False) -> tuple[ProviderInfo, ...]:
    q = select(Provider.id, Provider.title, Provider.given_name, Provider.family_name,
               Provider.specialty, Provider.user_id)
    if not include_inactive:
        q = q.where(Provider.is_active)
    rows = s.execute(q.order_by(Provider.family_name, Provider.given_name, Provider.id))
    return tuple(ProviderInfo(r.id, provider_name(r.title, r.given_name, r.family_name),
                              r.specialty, r.user_id) for r in rows)


def appointment_types(s: Session) -> tuple[AppointmentTypeInfo, ...]:
    rows = s.execute(select(AppointmentType).order_by(AppointmentType.name))
    return tuple(AppointmentTypeInfo(t.id, t.name, t.default_minutes, t.colour)
                 for t in rows.scalars())


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The local day as aware instants [start, end) (23, 24 or 25 hours long)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def utc_dates(start: datetime, end: datetime) -> list[date]:
    """Every UTC date [start, end) touches (as the database's cache scopes count them)."""
    first = start.astimezone(UTC).date()
    last = max(start, end - timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _local(day: date, t: time, tz: tzinfo) -> datetime:
    # A wall-clock time that does not exist that day moves forward (fold=0 then UTC).
    return datetime.combine(day, t, tzinfo=tz).astimezone(UTC).astimezone(tz)


def _valid(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


Weekly = list[tuple[int, int, time, time, date | None, date | None]]


def hours_and_breaks(s: Session, provider_ids: Sequence[int], first: date, last: date
                     ) -> tuple[Weekly, Weekly]:
    """Raw weekly hours and breaks of these providers that may apply between the days
    (one round trip)."""
    parts = []
    for kind, model in ((0, ProviderWorkingHours), (1, ProviderBreak)):
        parts.append(select(literal(kind).label("kind"), model.provider_id, model.weekday,
                            model.starts_at, model.ends_at, model.valid_from, model.valid_to)
                     .where(model.provider_id.in_(list(provider_ids)),
                            or_(model.valid_from.is_(None), model.valid_from <= last),
                            or_(model.valid_to.is_(None), model.valid_to >= first)))
    hours: Weekly = []
    breaks: Weekly = []
    for r in s.execute(union_all(*parts)):
        (breaks if r[0] else hours).append(tuple(r[1:]))  # type: ignore[arg-type]
    return hours, breaks


def working_periods(hours: list[tuple[int, int, time, time, date | None, date | None]],
                    breaks: list[tuple[int, int, time, time, date | None, date | None]],
                    provider_ids: Sequence[int], day: date, tz: tzinfo
                    ) -> tuple[WorkingPeriod, ...]:
    """Each provider's hours on ``day`` minus their breaks, merged, in time order."""
    out: list[WorkingPeriod] = []
    weekday = day.isoweekday()
    for pid in provider_ids:
        spans = sorted((_local(day, a, tz), _local(day, b, tz))
                       for p, w, a, b, f, t in hours
                       if p == pid and w == weekday and _valid(f, t, day))
        merged: list[list[datetime]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        cuts = sorted((_local(day, a, tz), _local(day, b, tz))
                      for p, w, a, b, f, t in breaks
                      if p == pid and w == weekday and _valid(f, t, day))
        for a, b in merged:
            pieces = [(a, b)]
            for ca, cb in cuts:
                nxt = []
                for pa, pb in pieces:
                    if cb <= pa or ca >= pb:
                        nxt.append((pa, pb))
                        continue
                    if pa < ca:
                        nxt.append((pa, ca))
                    if cb < pb:
                        nxt.append((cb, pb))
                pieces = nxt
            out.extend(WorkingPeriod(pid, pa, pb) for pa, pb in pieces)
    return tuple(out)


def breaks_on(breaks: list[tuple[int, int, time, time, date | None, date | None]],
              provider_id: int, day: date, tz: tzinfo) -> list[tuple[datetime, datetime]]:
    weekday = day.isoweekday()
    return sorted((_local(day, a, tz), _local(day, b, tz))
                  for p, w, a, b, f, t in breaks
                  if p == provider_id and w == weekday and _valid(f, t, day))


# The longest an appointment may last (ck_appointments_at_most_a_day): what began more
# than this before a range cannot reach into it, which bounds every index range scan.
AT_MOST = timedelta(days=1)
_COLUMNS = ("id", "version", "provider_id", "patient_id", "appointment_type_id", "starts_at",
            "ends_at", "status", "reason", "series_id", "cancel_reason", "override_reason",
            "updated_at")


@functools.cache
def _appointment_query() -> Any:  # a Select of the appointment's columns and its labels
    """Built once: building it (aliases, joins) costs more than running it. Columns, not
    ORM objects: nothing stale from a session's identity map, and 1,500 rows load fast."""
    mrn = aliased(PatientIdentifier)
    updater = aliased(User)
    return (
        select(*(getattr(Appointment, c) for c in _COLUMNS), Patient.given_name,
               Patient.family_name, Patient.birth_date, mrn.value.label("mrn"),
               AppointmentType.name.label("type_name"), AppointmentType.colour,
               updater.display_name.label("updater"))
        .join(Patient, Patient.id == Appointment.patient_id)
        .outerjoin(mrn, and_(mrn.patient_id == Appointment.patient_id, mrn.kind == "MRN"))
        .outerjoin(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .outerjoin(updater, updater.id == Appointment.updated_by)
    )


def _info(r: Any) -> AppointmentInfo:
    # Positional: a day sheet makes 1,500 of these, and names cost as much as the rest.
    (id_, version, provider, patient, type_id, starts, ends, status, reason, series,
     cancel_reason, override_reason, updated_at, given, family, born, mrn, type_name,
     colour, updater) = r
    return AppointmentInfo(id_, version, provider, patient, f"{family}, {given}", mrn or "",
                           born, type_id, type_name or "", colour or "#607d8b", starts, ends,
                           status, reason, series, cancel_reason, override_reason,
                           updated_at, updater or "")


def appointments_between(s: Session, start: datetime, end: datetime,
                         provider_ids: Sequence[int] | None) -> tuple[AppointmentInfo, ...]:
    """Every appointment overlapping [start, end), cancelled ones included, in time
    order (then provider, then id)."""
    q = _appointment_query().where(Appointment.starts_at < end, Appointment.ends_at > start,
                                   Appointment.starts_at > start - AT_MOST)
    if provider_ids is not None:
        q = q.where(Appointment.provider_id.in_(list(provider_ids)))
    q = q.order_by(Appointment.starts_at, Appointment.provider_id, Appointment.id)
    return tuple(_info(r) for r in s.execute(q))


def appointment(s: Session, appointment_id: int) -> AppointmentInfo | None:
    row = s.execute(_appointment_query().where(Appointment.id == appointment_id)).first()
    return _info(row) if row is not None else None


def appointments_by_id(s: Session, ids: Sequence[int]) -> tuple[AppointmentInfo, ...]:
    if not ids:
        return ()
    q = _appointment_query().where(Appointment.id.in_(list(ids))).order_by(
        Appointment.starts_at, Appointment.id)
    return tuple(_info(r) for r in s.execute(q))


def patient_appointments(s: Session, patient_id: int, now: datetime
                         ) -> tuple[AppointmentInfo, ...]:
    rows = [_info(r) for r in s.execute(
        _appointment_query().where(Appointment.patient_id == patient_id))]
    upcoming = sorted((a for a in rows if a.ends_at > now), key=lambda a: a.starts_at)
    past = sorted((a for a in rows if a.ends_at <= now), key=lambda a: a.starts_at,
                  reverse=True)
    return tuple(upcoming + past)


def overlapping(s: Session, *, start: datetime, end: datetime,
                provider_id: int | None = None, patient_id: int | None = None,
                exclude: Sequence[int] = ()) -> tuple[AppointmentInfo, ...]:
    """Live appointments overlapping [start, end) for this provider or patient. For a
    provider it is the no-overlap constraint's own question, answered by its GiST index."""
    q = _appointment_query().where(Appointment.status.notin_(("cancelled", "no_show")))
    if provider_id is not None:
        q = q.where(
            func.int8range(Appointment.provider_id, Appointment.provider_id, "[]").op("&&")(
                func.int8range(provider_id, provider_id, "[]")),
            func.tstzrange(Appointment.starts_at, Appointment.ends_at, "[)").op("&&")(
                func.tstzrange(start, end, "[)")))
    else:
        q = q.where(Appointment.starts_at < end, Appointment.ends_at > start,
                    Appointment.starts_at > start - AT_MOST)
    if patient_id is not None:
        q = q.where(Appointment.patient_id == patient_id)
    if exclude:
        q = q.where(Appointment.id.notin_(list(exclude)))
    return tuple(_info(r) for r in s.execute(q.order_by(Appointment.starts_at)))


def database_now(s: Session) -> datetime:
    value: datetime = s.execute(select(func.now())).scalar_one()
    return value

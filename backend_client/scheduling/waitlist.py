"""The waitlist: people who want a slot (sooner, or any), and which free slots they fit.

Two halves:

- Data access on a SQLAlchemy ``Session`` (``add``, ``remove``, ``entries``, ``entry``,
  ``mark_booked``), called inside the service's unit of work: they never commit. The
  table is ``waitlist_entries`` (migration 0009): the database stamps who and when, row
  security lets only ``appointment.manage`` write it.
- Pure matching (``free_slots``, ``offers``) over a ``DaySheet``: no I/O, so the service
  can run it on a cached sheet.

How an entry fits a free slot (``offers``):

- the provider is the entry's, or the entry takes any provider;
- the slot's day (in the clinic's zone) is within ``earliest``..``latest`` (no latest: any
  day from earliest on);
- the entry's length fits in the part of the slot in its part of the day: morning is
  before 12:00 local time, afternoon from 12:00 on (a slot 11:00-13:00 fits a 60-minute
  morning entry and a 60-minute afternoon one, not a 90-minute morning one).

Best first: the entry that has waited longest first (a waitlist is a queue; fairness beats
a tidier fit), then the one whose length is closest to the slot's (less of it left
unused), then by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from backend_client.dto import LIVE_APPOINTMENT_STATUSES, DaySheet, SlotOffer, WaitlistEntry
from backend_client.errors import Conflict, NotFound, ValidationError
from backend_client.scheduling.recurrence import short_date
from backend_client.stores.postgres.models import (
    PARTS_OF_DAY,
    AppointmentType,
    Patient,
    Provider,
    User,
    WaitlistItem,
)

MIN_MINUTES = 5
MAX_MINUTES = 480
MAX_TEXT = 500
NOON = time(12)
# Free time starts at the next whole five minutes after "now": nobody books 10:03:27.
_GRID = 300


# ------------------------------------------------------------------ validation


def check(*, minutes: int, earliest: date, latest: date | None, part_of_day: str,
          note: str) -> None:
    """Raise ``ValidationError`` naming every bad field (minutes, latest, part_of_day,
    note) with a sentence; ``add`` calls it, a form may call it before saving."""
    errors: dict[str, str] = {}
    if (not isinstance(minutes, int) or isinstance(minutes, bool)
            or not MIN_MINUTES <= minutes <= MAX_MINUTES):
        errors["minutes"] = (f"The length must be {MIN_MINUTES} to {MAX_MINUTES} minutes, "
                             f"not {minutes}.")
    if not isinstance(earliest, date) or isinstance(earliest, datetime):
        errors["earliest"] = "Give the earliest date the patient can come."
    elif latest is not None and latest < earliest:
        errors["latest"] = (f"The latest date ({short_date(latest)}) cannot be before the "
                            f"earliest ({short_date(earliest)}).")
    if part_of_day not in PARTS_OF_DAY:
        errors["part_of_day"] = "Choose any time, morning or afternoon."
    if len(note) > MAX_TEXT:
        errors["note"] = f"The note can have at most {MAX_TEXT} characters; it has {len(note)}."
    if errors:
        raise ValidationError.of(errors)


# ------------------------------------------------------------------ data access


def add(s: Session, *, patient_id: int, provider_id: int | None, type_id: int | None,
        minutes: int, earliest: date, latest: date | None, part_of_day: str = "any",
        note: str = "") -> int:
    """Put a patient on the waitlist; returns the new entry's id. Checks the input
    (``ValidationError``) and that the patient (``NotFound``), provider and appointment
    type (``ValidationError`` on provider_id / type_id) exist. Does not commit."""
    note = note.strip()
    check(minutes=minutes, earliest=earliest, latest=latest, part_of_day=part_of_day,
          note=note)
    if s.execute(select(Patient.id).where(Patient.id == patient_id)).first() is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    if provider_id is not None and s.execute(
            select(Provider.id).where(Provider.id == provider_id, Provider.is_active)
    ).first() is None:
        raise ValidationError("provider_id", f"There is no active provider with id "
                                             f"{provider_id}.")
    if type_id is not None and s.execute(
            select(AppointmentType.id).where(AppointmentType.id == type_id)).first() is None:
        raise ValidationError("type_id", f"There is no appointment type with id {type_id}.")
    return int(s.execute(
        insert(WaitlistItem).values(
            patient_id=patient_id, provider_id=provider_id, appointment_type_id=type_id,
            minutes=minutes, earliest=earliest, latest=latest, part_of_day=part_of_day,
            note=note, status="waiting")
        .returning(WaitlistItem.id)
    ).scalar_one())


def remove(s: Session, entry_id: int, expected_version: int, reason: str = "") -> None:
    """Take an entry off the waitlist (status 'removed', with the reason). ``NotFound``
    if there is none; ``Conflict`` if it changed since ``expected_version`` or is no
    longer waiting (booked or removed meanwhile). Does not commit."""
    reason = reason.strip()
    if len(reason) > MAX_TEXT:
        raise ValidationError("reason", f"The reason can have at most {MAX_TEXT} characters; "
                                        f"it has {len(reason)}.")
    changed = s.execute(
        update(WaitlistItem)
        .where(WaitlistItem.id == entry_id, WaitlistItem.version == expected_version,
               WaitlistItem.status == "waiting")
        .values(status="removed", removed_reason=reason, updated_at=func.now(),
                version=WaitlistItem.version + 1)
        .returning(WaitlistItem.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if changed is None:
        raise _refusal(s, entry_id)


def mark_booked(s: Session, entry_id: int, appointment_id: int) -> None:
    """The entry got ``appointment_id`` (booked from an offer): it leaves the waitlist.
    ``NotFound`` if there is none; ``Conflict`` if it is no longer waiting (someone booked
    or removed it first: the caller's booking should then roll back with it, or go ahead
    without the entry, as the service decides). Does not commit."""
    changed = s.execute(
        update(WaitlistItem)
        .where(WaitlistItem.id == entry_id, WaitlistItem.status == "waiting")
        .values(status="booked", booked_appointment_id=appointment_id,
                updated_at=func.now(), version=WaitlistItem.version + 1)
        .returning(WaitlistItem.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if changed is None:
        raise _refusal(s, entry_id)


def _refusal(s: Session, entry_id: int) -> NotFound | Conflict:
    row = s.execute(
        select(WaitlistItem.version, WaitlistItem.status, WaitlistItem.updated_at,
               User.display_name)
        .outerjoin(User, User.id == WaitlistItem.updated_by)
        .where(WaitlistItem.id == entry_id)).one_or_none()
    if row is None:
        return NotFound(f"There is no waitlist entry with id {entry_id}.")
    who = row.display_name or "another user"
    at = row.updated_at.astimezone().strftime("%H:%M on %d %b %Y")
    if row.status == "booked":
        what = f"{who} booked an appointment for this waitlist entry at {at}"
    elif row.status == "removed":
        what = f"{who} took this entry off the waitlist at {at}"
    else:
        what = f"{who} changed this waitlist entry at {at}"
    return Conflict(f"{what}; look at the waitlist again.", current_version=row.version,
                    changed_by=who)


_COLUMNS = (WaitlistItem.id, WaitlistItem.version, WaitlistItem.patient_id,
            Patient.family_name, Patient.given_name, WaitlistItem.provider_id,
            WaitlistItem.appointment_type_id, WaitlistItem.minutes, WaitlistItem.earliest,
            WaitlistItem.latest, WaitlistItem.part_of_day, WaitlistItem.note,
            WaitlistItem.created_at)


def _entry(r: Any) -> WaitlistEntry:
    return WaitlistEntry(
        id=r.id, version=r.version, patient_id=r.patient_id,
        patient_name=f"{r.family_name}, {r.given_name}", provider_id=r.provider_id,
        type_id=r.appointment_type_id, minutes=r.minutes, earliest=r.earliest,
        latest=r.latest, part_of_day=r.part_of_day, note=r.note, created_at=r.created_at)


def entries(s: Session) -> tuple[WaitlistEntry, ...]:
    """The entries still waiting, the one waiting longest first."""
    rows = s.execute(
        select(*_COLUMNS).join(Patient, Patient.id == WaitlistItem.patient_id)
        .where(WaitlistItem.status == "waiting")
        .order_by(WaitlistItem.created_at, WaitlistItem.id)).all()
    return tuple(_entry(r) for r in rows)


def entry(s: Session, entry_id: int) -> WaitlistEntry:
    """One entry, whatever its status (the service returns it after ``add``)."""
    row = s.execute(select(*_COLUMNS).join(Patient, Patient.id == WaitlistItem.patient_id)
                    .where(WaitlistItem.id == entry_id)).one_or_none()
    if row is None:
        raise NotFound(f"There is no waitlist entry with id {entry_id}.")
    return _entry(row)


# ------------------------------------------------------------------ matching (pure)


def _utc(moment: datetime) -> datetime:
    # Python compares and subtracts two datetimes of the same zone on the wall clock;
    # in UTC every comparison is of instants.
    return moment.astimezone(UTC)


def _next_grid(moment: datetime) -> datetime:
    seconds = moment.timestamp()
    return datetime.fromtimestamp(-(-seconds // _GRID) * _GRID, UTC)


def free_slots(sheet: DaySheet, now: datetime,
               minimum_minutes: int = MIN_MINUTES) -> list[tuple[int, datetime, datetime]]:
    """The sheet's free time from ``now`` on: each provider's working periods minus their
    live appointments (cancelled and no-show ones free their time), as (provider_id,
    start, end) in UTC, at least ``minimum_minutes`` long, in time order (then the
    sheet's provider order). Free time starts at the next whole five minutes after
    ``now``."""
    start_from = _next_grid(_utc(now))
    least = timedelta(minutes=minimum_minutes)
    order = {p.id: i for i, p in enumerate(sheet.providers)}
    periods: dict[int, list[tuple[datetime, datetime]]] = {}
    for w in sheet.working:
        periods.setdefault(w.provider_id, []).append((_utc(w.starts_at), _utc(w.ends_at)))
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    for a in sheet.appointments:
        if a.status in LIVE_APPOINTMENT_STATUSES:
            busy.setdefault(a.provider_id, []).append((_utc(a.starts_at), _utc(a.ends_at)))
    slots: list[tuple[int, datetime, datetime]] = []
    for provider, spans in periods.items():
        taken = sorted(busy.get(provider, []))
        for start, end in _merged(spans):
            start = max(start, start_from)
            for b_start, b_end in taken:
                if b_end <= start or b_start >= end:
                    continue
                if b_start - start >= least:
                    slots.append((provider, start, b_start))
                start = max(start, b_end)
            if end - start >= least:
                slots.append((provider, start, end))
    slots.sort(key=lambda slot: (slot[1], order.get(slot[0], len(order)), slot[0]))
    return slots


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching periods as one (hours given twice are not two slots)."""
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif end > start:
            out.append((start, end))
    return out


@dataclass(frozen=True)
class _Room:
    """A free slot as the matching sees it: its day in the clinic's zone and how many
    minutes of it lie in each part of the day."""

    day: date
    minutes: dict[str, float]


def _room(start: datetime, end: datetime, tz: tzinfo) -> _Room:
    start, end = _utc(start), _utc(end)
    day = start.astimezone(tz).date()
    noon = _utc(datetime.combine(day, NOON, tzinfo=tz))

    def span(a: datetime, b: datetime) -> float:
        return max(0.0, (b - a).total_seconds() / 60)

    return _Room(day, {"any": span(start, end), "morning": span(start, min(end, noon)),
                       "afternoon": span(max(start, noon), end)})


def _fits(entry: WaitlistEntry, provider_id: int, room: _Room) -> bool:
    return ((entry.provider_id is None or entry.provider_id == provider_id)
            and entry.minutes <= room.minutes.get(entry.part_of_day, 0.0)
            and entry.earliest <= room.day
            and (entry.latest is None or room.day <= entry.latest))


def fits(entry: WaitlistEntry, provider_id: int, start: datetime, end: datetime,
         tz: tzinfo) -> bool:
    """Whether ``entry`` fits the free slot (see the module's docstring; the slot's day
    is the day it starts on, in ``tz``)."""
    return _fits(entry, provider_id, _room(start, end, tz))


def offers(sheet: DaySheet, entries: Sequence[WaitlistEntry], now: datetime,
           tz: tzinfo) -> tuple[SlotOffer, ...]:
    """Free slots of ``sheet`` from ``now`` on that waiting ``entries`` fit, each with the
    entries that fit it, best first (see the module's docstring); slots nobody fits are
    left out. Times in UTC, slots in time order."""
    if not entries:
        return ()
    shortest = min(e.minutes for e in entries)
    # Each entry's place in the queue once, not once per slot.
    queue = [(_utc(e.created_at), e.id, e) for e in entries]
    out: list[SlotOffer] = []
    for provider, start, end in free_slots(sheet, now, max(MIN_MINUTES, shortest)):
        room = _room(start, end, tz)
        length = room.minutes["any"]
        fitting = sorted((waited, length - e.minutes, eid, e) for waited, eid, e in queue
                         if _fits(e, provider, room))
        if fitting:
            out.append(SlotOffer(provider, start, end, tuple(f[3] for f in fitting)))
    return tuple(out)

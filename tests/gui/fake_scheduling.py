"""A fake ``SchedulingApi`` for the schedule's view and presenter tests (our own seam).

It behaves like the service where the screen can tell: providers with working hours and
breaks, appointment types with colours, appointments in every status, a weekly series,
versions (a stale move raises ``Conflict``), clashes, illegal status changes, and a
day sheet ``stamp`` that changes only when something on that sheet changed. Times are
built on the workstation's wall clock and stored in UTC, as the database returns them.
An optional ``latency`` makes every call sleep, as a network round trip would.
"""

from __future__ import annotations

import random
import threading
import time as _time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from backend_client.dto import (
    APPOINTMENT_TRANSITIONS,
    AppointmentInfo,
    AppointmentTypeInfo,
    BookingRequest,
    BookingResult,
    BookingWarning,
    Changes,
    DaySheet,
    ProviderInfo,
    SlotOffer,
    WaitlistEntry,
    WorkingPeriod,
)
from backend_client.errors import Clash, Conflict, IllegalTransition, NeedsOverride, NotFound

TYPES = (
    AppointmentTypeInfo(1, "Consultation", 15, "#1976d2"),
    AppointmentTypeInfo(2, "Long consultation", 30, "#6a1b9a"),
    AppointmentTypeInfo(3, "Follow-up", 10, "#00897b"),
    AppointmentTypeInfo(4, "Vaccination", 10, "#f9a825"),
    AppointmentTypeInfo(5, "Procedure", 45, "#d84315"),
    AppointmentTypeInfo(6, "Telephone", 10, "#5d4037"),
)
PROVIDERS = (
    ProviderInfo(1, "Dr Anna Demo", "General practice", 11),
    ProviderInfo(2, "Dr Amara Okafor", "Paediatrics", 12),
    ProviderInfo(3, "Dr Jonathan Fitzgerald-Hawthorne", "Cardiology and vascular medicine", 13),
    ProviderInfo(4, "Nurse Li Wei", "Practice nurse", 14),
    ProviderInfo(5, "Dr Sofia Rossi", "Dermatology", None),
    ProviderInfo(6, "Dr Kwame Mensah", "Physiotherapy", 16),
)
# Weekday (0 = Monday) → provider → working periods as ("HH:MM", "HH:MM"): hours minus breaks.
_WEEKDAY_HOURS = {
    1: (("08:00", "12:30"), ("13:30", "17:00")),
    2: (("09:00", "13:00"), ("14:00", "18:00")),
    3: (("07:30", "12:00"),),
    4: (("08:00", "12:00"), ("12:30", "16:00")),
    5: (("10:00", "14:00"), ("14:30", "19:30")),
    6: (("08:00", "12:00"), ("13:00", "16:00")),
}
_SATURDAY = {5: (("09:00", "13:00"),)}
PATIENTS = ("Müller, Anna", "Smith, Margaret", "Khan, Aisha", "Nguyen, Bao", "O'Brien, Siobhan",
            "García López, María José", "Schmidt, Jürgen", "Kowalski, Piotr", "Dubois, Élodie",
            "Okonkwo, Chidi", "Andersson, Lars", "Rossi, Giulia", "Tanaka, Hiroshi",
            "Papadopoulos, Eleni", "Haddad, Yusuf", "Smithers, Ella", "Fischer, Lena",
            "Wójcik, Zofia", "Brown, Oliver", "Ivanova, Daria")


def hm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


class FakeSchedulingApi:
    """In-memory scheduling with the service's rules where a view can notice them."""

    def __init__(self, *, zone: tzinfo | None = None, latency: float = 0.0,
                 providers: Iterable[ProviderInfo] = PROVIDERS,
                 hours: dict[int, tuple[tuple[str, str], ...]] | None = None) -> None:
        self.zone = zone
        self.latency = latency
        self._providers = tuple(providers)
        self._hours = _WEEKDAY_HOURS if hours is None else hours
        self._appts: dict[int, AppointmentInfo] = {}
        self._versions: dict[tuple[int, date], int] = {}
        self._next_id = 1
        self._lock = threading.Lock()
        self.calls: list[tuple[str, object]] = []
        self.fail_next: BaseException | None = None

    # ------------------------------------------------------------------ building

    def at(self, day: date, hhmm: str) -> datetime:
        """A wall-clock time on ``day`` at this workstation, as UTC like the database."""
        naive = datetime.combine(day, hm(hhmm))
        local = naive.replace(tzinfo=self.zone) if self.zone else naive.astimezone()
        return local.astimezone(UTC)

    def add(self, provider_id: int, day: date, start: str, minutes: int, patient: str, *,
            type_id: int = 1, status: str = "booked", reason: str = "",
            series_id: int | None = None, cancel_reason: str = "") -> AppointmentInfo:
        kind = TYPES[type_id - 1]
        starts = self.at(day, start)
        patient_id = PATIENTS.index(patient) + 100 if patient in PATIENTS else 999
        appt = AppointmentInfo(
            id=self._next_id, version=1, provider_id=provider_id, patient_id=patient_id,
            patient_name=patient, patient_mrn=f"M{patient_id:07d}",
            patient_birth_date=date(1980, 1, 1), type_id=type_id, type_name=kind.name,
            colour=kind.colour, starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
            status=status, reason=reason, series_id=series_id, cancel_reason=cancel_reason)
        self._next_id += 1
        self._appts[appt.id] = appt
        self._bump(appt)
        return appt

    def _bump(self, appt: AppointmentInfo) -> None:
        for moment in (appt.starts_at, appt.ends_at - timedelta(seconds=1)):
            key = (appt.provider_id, self._local_day(moment))
            self._versions[key] = self._versions.get(key, 0) + 1

    def _local_day(self, moment: datetime) -> date:
        return (moment.astimezone(self.zone) if self.zone else moment.astimezone()).date()

    def _pause(self, name: str, args: object) -> None:
        self.calls.append((name, args))
        if self.latency:
            _time.sleep(self.latency)
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc

    # ------------------------------------------------------------------ reads

    def providers(self) -> tuple[ProviderInfo, ...]:
        self._pause("providers", None)
        return self._providers

    def appointment_types(self) -> tuple[AppointmentTypeInfo, ...]:
        self._pause("appointment_types", None)
        return TYPES

    def _working(self, provider_id: int, day: date) -> list[WorkingPeriod]:
        table = _SATURDAY if day.weekday() == 5 else {} if day.weekday() == 6 else self._hours
        return [WorkingPeriod(provider_id, self.at(day, a), self.at(day, b))
                for a, b in table.get(provider_id, ())]

    def _sheet(self, day: date, provider_ids: tuple[int, ...] | None) -> DaySheet:
        providers = tuple(p for p in self._providers
                          if provider_ids is None or p.id in provider_ids)
        ids = {p.id for p in providers}
        start, end = self.at(day, "00:00"), self.at(day + timedelta(days=1), "00:00")
        with self._lock:
            appts = tuple(sorted((a for a in self._appts.values()
                                  if a.provider_id in ids and a.starts_at < end
                                  and a.ends_at > start),
                                 key=lambda a: (a.starts_at, a.id)))
            stamp = f"{day}:" + ",".join(f"{p.id}.{self._versions.get((p.id, day), 0)}"
                                         for p in providers)
        working = tuple(w for p in providers for w in self._working(p.id, day))
        return DaySheet(day, providers, working, appts, stamp)

    def day_sheet(self, day: date, provider_ids: tuple[int, ...] | None = None) -> DaySheet:
        self._pause("day_sheet", (day, provider_ids))
        return self._sheet(day, provider_ids)

    def week(self, provider_id: int, monday: date) -> tuple[DaySheet, ...]:
        self._pause("week", (provider_id, monday))
        return tuple(self._sheet(monday + timedelta(days=i), (provider_id,)) for i in range(7))

    def agenda(self, start: date, end: date,
               provider_ids: tuple[int, ...] | None = None) -> tuple[AppointmentInfo, ...]:
        self._pause("agenda", (start, end, provider_ids))
        lo, hi = self.at(start, "00:00"), self.at(end + timedelta(days=1), "00:00")
        with self._lock:
            return tuple(sorted((a for a in self._appts.values()
                                 if (provider_ids is None or a.provider_id in provider_ids)
                                 and lo <= a.starts_at < hi),
                                key=lambda a: (a.starts_at, a.provider_id)))

    def get(self, appointment_id: int) -> AppointmentInfo:
        self._pause("get", appointment_id)
        try:
            return self._appts[appointment_id]
        except KeyError:
            raise NotFound("That appointment no longer exists.") from None

    def patient_appointments(self, patient_id: int) -> tuple[AppointmentInfo, ...]:
        self._pause("patient_appointments", patient_id)
        return tuple(a for a in self._appts.values() if a.patient_id == patient_id)

    # ------------------------------------------------------------------ writes

    def _clash(self, provider_id: int, starts: datetime, ends: datetime,
               ignore: int | None = None) -> None:
        for other in self._appts.values():
            if other.id != ignore and other.provider_id == provider_id \
                    and other.status not in ("cancelled", "no_show") \
                    and other.starts_at < ends and other.ends_at > starts:
                local = self._local_day(other.starts_at)
                name = next(p.display_name for p in self._providers if p.id == provider_id)
                s = other.starts_at.astimezone(self.zone) if self.zone else \
                    other.starts_at.astimezone()
                e = other.ends_at.astimezone(self.zone) if self.zone else \
                    other.ends_at.astimezone()
                raise Clash(f"{name} is already booked {s:%H:%M}–{e:%H:%M} on {local} with "
                            f"{other.patient_name} ({other.type_name}).", other.id)

    def _warnings(self, provider_id: int, starts: datetime,
                  ends: datetime) -> tuple[BookingWarning, ...]:
        day = self._local_day(starts)
        inside = any(w.starts_at <= starts and ends <= w.ends_at
                     for w in self._working(provider_id, day))
        if inside:
            return ()
        return (BookingWarning("outside_hours", "That time is outside the provider's "
                               "working hours.", starts),)

    def check(self, request: BookingRequest) -> tuple[BookingWarning, ...]:
        self._pause("check", request)
        self._clash(request.provider_id, request.starts_at, request.ends_at)
        return self._warnings(request.provider_id, request.starts_at, request.ends_at)

    def book(self, request: BookingRequest) -> BookingResult:
        self._pause("book", request)
        with self._lock:
            self._clash(request.provider_id, request.starts_at, request.ends_at)
            warnings = self._warnings(request.provider_id, request.starts_at, request.ends_at)
            if warnings and not request.override_reason:
                raise NeedsOverride(warnings[0].sentence, warnings)
            kind = TYPES[(request.type_id or 1) - 1]
            appt = AppointmentInfo(self._next_id, 1, request.provider_id, request.patient_id,
                                   f"Patient {request.patient_id}", "", None, kind.id,
                                   kind.name, kind.colour, request.starts_at, request.ends_at,
                                   "booked", request.reason,
                                   override_reason=request.override_reason)
            self._next_id += 1
            self._appts[appt.id] = appt
            self._bump(appt)
        return BookingResult((appt,), Changes(appointments=frozenset({appt.id})))

    def _current(self, appointment_id: int, expected_version: int) -> AppointmentInfo:
        appt = self._appts.get(appointment_id)
        if appt is None:
            raise NotFound("That appointment no longer exists.")
        if appt.version != expected_version:
            raise Conflict("Someone else changed this appointment first.", appt.version,
                           appt.updated_by)
        return appt

    def _store(self, old: AppointmentInfo, new: AppointmentInfo) -> AppointmentInfo:
        self._appts[new.id] = new
        self._bump(old)
        self._bump(new)
        return new

    def move(self, appointment_id: int, expected_version: int, *, provider_id: int,
             starts_at: datetime, ends_at: datetime, scope: str = "one",
             override_reason: str = "") -> BookingResult:
        self._pause("move", (appointment_id, provider_id, starts_at, ends_at, scope))
        with self._lock:
            old = self._current(appointment_id, expected_version)
            self._clash(provider_id, starts_at, ends_at, ignore=appointment_id)
            new = self._store(old, replace(old, version=old.version + 1,
                                           provider_id=provider_id, starts_at=starts_at,
                                           ends_at=ends_at, override_reason=override_reason))
        return BookingResult((new,), Changes(appointments=frozenset({new.id})))

    def cancel(self, appointment_id: int, expected_version: int, reason: str, *,
               scope: str = "one") -> BookingResult:
        self._pause("cancel", (appointment_id, reason, scope))
        with self._lock:
            old = self._current(appointment_id, expected_version)
            if "cancelled" not in APPOINTMENT_TRANSITIONS[old.status]:
                raise IllegalTransition(f"An appointment that is {old.status_label} cannot "
                                        "be cancelled.")
            new = self._store(old, replace(old, version=old.version + 1, status="cancelled",
                                           cancel_reason=reason))
        return BookingResult((new,), Changes(appointments=frozenset({new.id})))

    def set_status(self, appointment_id: int, expected_version: int, status: str, *,
                   reason: str = "") -> AppointmentInfo:
        self._pause("set_status", (appointment_id, status))
        with self._lock:
            old = self._current(appointment_id, expected_version)
            if status not in APPOINTMENT_TRANSITIONS[old.status]:
                raise IllegalTransition(f"An appointment that is {old.status_label} cannot "
                                        f"be changed that way.")
            return self._store(old, replace(old, version=old.version + 1, status=status))

    # ------------------------------------------------------------------ waitlist

    def waitlist(self) -> tuple[WaitlistEntry, ...]:
        self._pause("waitlist", None)
        return ()

    def add_to_waitlist(self, patient_id: int, *, provider_id: int | None, type_id: int | None,
                        minutes: int, earliest: date, latest: date | None,
                        part_of_day: str = "any", note: str = "") -> WaitlistEntry:
        raise NotImplementedError("the schedule's tests do not use the waitlist")

    def remove_from_waitlist(self, entry_id: int, expected_version: int,
                             reason: str = "") -> None:
        raise NotImplementedError("the schedule's tests do not use the waitlist")

    def offers(self, day: date) -> tuple[SlotOffer, ...]:
        self._pause("offers", day)
        return ()


def demo_clinic(day: date, *, zone: tzinfo | None = None, latency: float = 0.0
                ) -> FakeSchedulingApi:
    """Six providers; on ``day`` every status, a series, a cancelled slot rebooked, long
    names; the rest of the week lightly booked (the week view has something to show)."""
    api = FakeSchedulingApi(zone=zone, latency=latency)
    a = api.add
    a(1, day, "08:00", 15, "Müller, Anna", status="completed", reason="Blood pressure check")
    a(1, day, "08:15", 15, "Smith, Margaret", status="no_show")
    a(1, day, "08:30", 30, "Khan, Aisha", type_id=2, status="in_progress",
      reason="Headaches for two weeks")
    a(1, day, "09:00", 15, "Nguyen, Bao", status="checked_in")
    a(1, day, "09:15", 15, "O'Brien, Siobhan", reason="Repeat prescription")
    a(1, day, "09:40", 15, "García López, María José", reason="Knee pain after a fall")
    a(1, day, "10:00", 10, "Schmidt, Jürgen", status="cancelled", type_id=3,
      cancel_reason="Patient is abroad")
    a(1, day, "10:00", 10, "Kowalski, Piotr", type_id=3)
    a(1, day, "11:00", 45, "Dubois, Élodie", type_id=5, reason="Mole removal")
    a(1, day, "14:00", 15, "Okonkwo, Chidi")
    a(1, day, "16:30", 15, "Andersson, Lars", type_id=6, reason="Results by phone")
    a(2, day, "09:00", 10, "Smithers, Ella", type_id=4, status="checked_in",
      reason="12-month vaccines")
    a(2, day, "09:30", 30, "Rossi, Giulia", type_id=2)
    a(2, day, "10:15", 15, "Tanaka, Hiroshi")
    a(2, day, "14:00", 15, "Fischer, Lena", status="cancelled", cancel_reason="Unwell")
    a(3, day, "07:30", 30, "Papadopoulos, Eleni", type_id=2, status="completed")
    a(3, day, "08:15", 45, "Haddad, Yusuf", type_id=5, status="in_progress",
      reason="Echocardiogram")
    a(3, day, "10:00", 15, "Wójcik, Zofia")
    a(4, day, "08:00", 10, "Brown, Oliver", type_id=4, status="completed")
    a(4, day, "08:10", 10, "Ivanova, Daria", type_id=4, status="no_show")
    a(4, day, "08:30", 10, "Müller, Anna", type_id=4)
    a(4, day, "13:00", 30, "Khan, Aisha", type_id=2, reason="Dressing change")
    a(5, day, "10:30", 15, "Smith, Margaret", reason="Rash on both arms")
    a(5, day, "18:45", 30, "Nguyen, Bao", type_id=5, reason="Cryotherapy")
    a(6, day, "08:00", 30, "Schmidt, Jürgen", type_id=2, status="checked_in")
    a(6, day, "12:15", 15, "Rossi, Giulia", reason="Booked in the lunch break")
    # A weekly series with Dr Okafor, four weeks from two weeks ago.
    monday = day - timedelta(days=day.weekday())
    for week in range(-2, 2):
        when = monday + timedelta(days=1, weeks=week)
        a(2, when, "11:00", 30, "O'Brien, Siobhan", type_id=3, series_id=7,
          reason="Asthma review", status="completed" if when < day else "booked")
    rng = random.Random(f"{day}")
    for offset in range(-7, 14):
        other = monday + timedelta(days=offset)
        if other == day or other.weekday() >= 5:
            continue
        for provider in range(1, 7):
            for slot in rng.sample(range(0, 24), 5):
                start = 8 * 60 + slot * 20
                minutes = rng.choice((10, 15, 15, 20))
                try:
                    api._clash(provider, api.at(other, f"{start // 60}:{start % 60}"),
                               api.at(other, f"{start // 60}:{start % 60}")
                               + timedelta(minutes=minutes))
                except Clash:
                    continue
                a(provider, other, f"{start // 60:02d}:{start % 60:02d}", minutes,
                  rng.choice(PATIENTS), type_id=rng.choice((1, 1, 2, 3, 4, 6)),
                  status="completed" if other < day else "booked")
    api.calls.clear()
    return api


def big_clinic(day: date, *, providers: int = 50, per_provider: int = 30,
               latency: float = 0.0, zone: tzinfo | None = None) -> FakeSchedulingApi:
    """``providers`` columns of ``per_provider`` back-to-back appointments, 08:00–18:00."""
    people = tuple(ProviderInfo(i, f"Dr Provider {i:02d}", "General practice", 100 + i)
                   for i in range(1, providers + 1))
    hours: dict[int, tuple[tuple[str, str], ...]] = {
        p.id: (("08:00", "12:30"), ("13:00", "18:30")) for p in people}
    api = FakeSchedulingApi(zone=zone, latency=latency, providers=people, hours=hours)
    statuses = ("completed", "completed", "checked_in", "in_progress", "booked", "booked",
                "booked", "no_show", "cancelled", "booked")
    for p in people:
        minute = 8 * 60
        for n in range(per_provider):
            api.add(p.id, day, f"{minute // 60:02d}:{minute % 60:02d}", 20,
                    PATIENTS[(p.id + n) % len(PATIENTS)], type_id=1 + (n + p.id) % 6,
                    status=statuses[(n + p.id) % len(statuses)])
            minute += 20
    api.calls.clear()
    return api

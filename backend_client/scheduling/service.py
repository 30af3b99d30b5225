"""``SchedulingService``: the schedule against PostgreSQL, day sheets through the sealed
Redis cache (backend_client/sync/cache.py). Implements ``SchedulingApi`` (api.py).

What the database guarantees, whatever this code does (migration 0009): no provider is
booked twice at once (EXCLUDE constraint, SQLSTATE 23P01, turned into ``Clash`` with a
sentence naming the other appointment); the status flow (SQLSTATE DRA01/DRA02, turned into
``IllegalTransition``); arrival opens the encounter; cache versions move with every change.
This service adds the warnings a person may override with a reason (``NeedsOverride``),
optimistic versions (``Conflict``), recurring series and the change events.

Series: occurrences that clash when a series is booked are skipped, each named in
``BookingResult.skipped`` (the desk sees the list before closing the dialog); if every
occurrence clashes, ``Clash`` is raised and nothing is written. Moving "this and
following" is all or nothing: one clash refuses the move and names it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from backend_client.accounts.access import Access
from backend_client.audit.service import AuditService
from backend_client.dto import (
    Actor,
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
)
from backend_client.errors import (
    Clash,
    NeedsOverride,
    NotFound,
    ValidationError,
)
from backend_client.scheduling import queries as q
from backend_client.scheduling.booking import (
    Facts,
    check_request,
    local_zone,
    sqlstate,
    warnings_for,
    zone_name,
)
from backend_client.scheduling.changes import (
    AppointmentChanges,
    override_sentence,
    when_text,
)
from backend_client.stores.postgres.models import (
    Appointment,
    AppointmentSeries,
    Patient,
)
from backend_client.sync.cache import SealedCache, TypedCodec
from backend_client.sync.events import ChangeEvent, ChangePublisher, NullPublisher

if TYPE_CHECKING:
    from backend_client.backend import Backend

_SHEET: TypedCodec[DaySheet] = TypedCodec(DaySheet)
_PROVIDERS: TypedCodec[tuple[ProviderInfo, ...]] = TypedCodec(tuple[ProviderInfo, ...])
_TYPES: TypedCodec[tuple[AppointmentTypeInfo, ...]] = TypedCodec(
    tuple[AppointmentTypeInfo, ...])
READ = ("appointment.manage", "chart.open")


class SchedulingService(AppointmentChanges):
    """Args:
        engine: the app's Engine (or a test's Connection in an outer transaction).
        access: who is acting (``SessionAccess``; ``SystemAccess`` for operator tools).
        cache: the process's ``SealedCache`` (``SealedCache(None)``: no cache).
        publisher: where change events go after each commit.
        today: the workstation's date (defaults of the views only).
        now: the clock for "in the past" and the waitlist's offers; default PostgreSQL's
            ``now()``, the record's clock, never the workstation's.
        tz: the workstation's zone (a ``zoneinfo.ZoneInfo``): local days, working hours
            and the wall-clock time of series.
    """

    def __init__(self, engine: Engine | Connection, access: Access, *, cache: SealedCache,
                 publisher: ChangePublisher | None = None,
                 today: Callable[[], date] | None = None,
                 now: Callable[[], datetime] | None = None,
                 tz: tzinfo | None = None) -> None:
        self.engine = engine
        self.access = access
        self.cache = cache
        self.publisher = publisher or NullPublisher()
        self.tz = tz or local_zone()
        self._today = today or (lambda: datetime.now(self.tz).date())
        self._now = now

    # ------------------------------------------------------------------ plumbing

    def _reader(self) -> Actor:
        """Reading the schedule needs appointment.manage or chart.open (one denial is
        audited, for the permission the person would need)."""
        current = getattr(self.access, "actor", None)
        if (isinstance(current, Actor) and not current.can("appointment.manage")
                and current.can("chart.open")):
            return self.access.require("chart.open")
        return self.access.require("appointment.manage")

    # ------------------------------------------------------------------ reads

    def providers(self) -> tuple[ProviderInfo, ...]:
        actor = self._reader()
        with self._work(actor) as uow:
            value, _ = self.cache.read(uow.session, actor.token, "providers", ["directory"],
                                       lambda: q.providers(uow.session), _PROVIDERS)
            return tuple(value)

    def appointment_types(self) -> tuple[AppointmentTypeInfo, ...]:
        actor = self._reader()
        with self._work(actor) as uow:
            value, _ = self.cache.read(uow.session, actor.token, "types", ["directory"],
                                       lambda: q.appointment_types(uow.session), _TYPES)
            return tuple(value)

    def day_sheet(self, day: date, provider_ids: tuple[int, ...] | None = None) -> DaySheet:
        actor = self._reader()
        with self._work(actor) as uow:
            return self._sheet(uow.session, actor, day, provider_ids)

    def _sheet(self, s: Session, actor: Actor, day: date,
               provider_ids: tuple[int, ...] | None) -> DaySheet:
        everyone, _ = self.cache.read(s, actor.token, "providers", ["directory"],
                                      lambda: q.providers(s), _PROVIDERS)
        if provider_ids is None:
            shown = tuple(everyone)
        else:
            by_id = {p.id: p for p in everyone}
            missing = [i for i in provider_ids if i not in by_id]
            if missing:  # inactive providers are still shown when asked for by id
                by_id.update({p.id: p for p in q.providers(s, include_inactive=True)})
            shown = tuple(by_id[i] for i in provider_ids if i in by_id)
        ids = tuple(p.id for p in shown)
        start, end = q.day_bounds(day, self.tz)
        scopes = ["directory", *(f"appt:{i}:{d.isoformat()}"
                                 for i in ids for d in q.utc_dates(start, end))]
        name = f"daysheet:{day.isoformat()}:{zone_name(self.tz)}:{','.join(map(str, ids))}"

        def load() -> DaySheet:
            hours, breaks = q.hours_and_breaks(s, ids, day, day)
            return DaySheet(day=day, providers=shown,
                            working=q.working_periods(hours, breaks, ids, day, self.tz),
                            appointments=q.appointments_between(s, start, end, ids))

        sheet, stamp = self.cache.read(s, actor.token, name, scopes, load, _SHEET)
        return DaySheet(sheet.day, sheet.providers, sheet.working, sheet.appointments,
                        stamp=stamp)

    def week(self, provider_id: int, monday: date) -> tuple[DaySheet, ...]:
        actor = self._reader()
        with self._work(actor) as uow:
            return tuple(self._sheet(uow.session, actor, monday + timedelta(days=i),
                                     (provider_id,)) for i in range(7))

    def agenda(self, start: date, end: date,
               provider_ids: tuple[int, ...] | None = None) -> tuple[AppointmentInfo, ...]:
        actor = self._reader()
        if end < start:
            raise ValidationError("end", "The last day is before the first.")
        if (end - start).days > 366:
            raise ValidationError("end", "An agenda covers at most a year.")
        lo, _ = q.day_bounds(start, self.tz)
        _, hi = q.day_bounds(end, self.tz)
        with self._work(actor) as uow:
            return q.appointments_between(uow.session, lo, hi, provider_ids)

    def get(self, appointment_id: int) -> AppointmentInfo:
        actor = self._reader()
        with self._work(actor) as uow:
            info = q.appointment(uow.session, appointment_id)
        if info is None:
            raise NotFound(f"There is no appointment with id {appointment_id}.")
        return info

    def patient_appointments(self, patient_id: int) -> tuple[AppointmentInfo, ...]:
        actor = self._reader()
        with self._work(actor) as uow:
            return q.patient_appointments(uow.session, patient_id, self._clock(uow.session))

    # ------------------------------------------------------------------ booking

    def check(self, request: BookingRequest) -> tuple[BookingWarning, ...]:
        actor = self.access.require("appointment.manage")
        with self._work(actor) as uow:
            s = uow.session
            facts, occurrences, _ = self._occurrences(s, request)
            for start, end in occurrences[:1] if request.recurrence is None else ():
                self._raise_clash(s, request.provider_id, start, end)
            return warnings_for(s, self.tz, self._now() if self._now else facts.now,
                                request.provider_id, request.patient_id, occurrences,
                                series=request.recurrence is not None,
                                provider_name=facts.provider_name)

    def _occurrences(self, s: Session, request: BookingRequest
                     ) -> tuple[Facts, list[tuple[datetime, datetime]], list[str]]:
        facts = check_request(s, provider_id=request.provider_id,
                              patient_id=request.patient_id, type_id=request.type_id,
                              starts_at=request.starts_at, ends_at=request.ends_at,
                              reason=request.reason, override_reason=request.override_reason)
        if request.recurrence is None:
            return facts, [(request.starts_at, request.ends_at)], []
        from backend_client.scheduling import recurrence

        recurrence.validate(request.recurrence, request.starts_at.astimezone(self.tz).date())
        occurrences, skipped = recurrence.expand(request.recurrence, request.starts_at,
                                                 request.ends_at, self.tz)
        return facts, list(occurrences), list(skipped)

    def book(self, request: BookingRequest) -> BookingResult:
        """Round trips are few on purpose: one look-up (``check_request``), the clash and
        warning questions, the inserts, the commit; the booked appointments are made from
        what was looked up, not read back."""
        actor = self.access.require("appointment.manage")
        override = request.override_reason.strip()
        with self._work(actor) as uow:
            s = uow.session
            facts, occurrences, skipped = self._occurrences(s, request)
            if request.recurrence is None:
                self._raise_clash(s, request.provider_id, *occurrences[0])
            warnings = warnings_for(s, self.tz, self._now() if self._now else facts.now,
                                    request.provider_id, request.patient_id, occurrences,
                                    series=request.recurrence is not None,
                                    provider_name=facts.provider_name)
            if warnings and not override:
                raise NeedsOverride(override_sentence(warnings), warnings)
            series_id = None
            if request.recurrence is not None:
                rule = request.recurrence
                series = AppointmentSeries(
                    provider_id=request.provider_id, patient_id=request.patient_id,
                    appointment_type_id=request.type_id, frequency=rule.frequency,
                    interval=rule.interval, count=rule.count, until=rule.until,
                    first_starts_at=request.starts_at,
                    minutes=int((request.ends_at - request.starts_at).total_seconds() // 60),
                    time_zone=zone_name(self.tz), reason=request.reason.strip(),
                    created_by=actor.user_id, updated_by=actor.user_id)
                s.add(series)
                s.flush()
                series_id = series.id
            infos: list[AppointmentInfo] = []
            first_clash: Clash | None = None
            for start, end in occurrences:
                try:
                    with s.begin_nested():
                        row = Appointment(
                            provider_id=request.provider_id, patient_id=request.patient_id,
                            appointment_type_id=request.type_id, starts_at=start,
                            ends_at=end, reason=request.reason.strip(), series_id=series_id,
                            override_reason=override if warnings else "",
                            created_by=actor.user_id, updated_by=actor.user_id)
                        s.add(row)
                        s.flush()
                        infos.append(AppointmentInfo(
                            id=row.id, version=row.version, provider_id=row.provider_id,
                            patient_id=row.patient_id, patient_name=facts.patient_name,
                            patient_mrn=facts.patient_mrn,
                            patient_birth_date=facts.patient_birth_date,
                            type_id=row.appointment_type_id, type_name=facts.type_name,
                            colour=facts.colour, starts_at=start, ends_at=end,
                            status="booked", reason=row.reason, series_id=series_id,
                            override_reason=row.override_reason, updated_at=facts.now,
                            updated_by=actor.display_name))
                except DBAPIError as exc:
                    if sqlstate(exc) != "23P01":
                        raise
                    clash = self._clash_for(s, request.provider_id, start, end)
                    if request.recurrence is None:
                        raise clash from None
                    first_clash = first_clash or clash
                    skipped.append(f"{when_text(start, self.tz)} not booked: {clash.message}")
            if not infos:
                assert first_clash is not None
                raise first_clash
            booked = [a.id for a in infos]
            for info in infos:
                uow.announce(self._event(actor, info, "created"))
            if warnings:
                AuditService.record_in(
                    s, "appointment.override", user_id=actor.user_id,
                    workstation=actor.workstation, patient_id=request.patient_id,
                    object_type="appointments", object_id=str(booked[0]),
                    details={"warnings": sorted({w.code for w in warnings}),
                             "appointments": booked})
            uow.commit()
        return BookingResult(tuple(infos), Changes(appointments=frozenset(booked)),
                             tuple(skipped))

    # ------------------------------------------------------------------ waitlist

    def waitlist(self) -> tuple[WaitlistEntry, ...]:
        from backend_client.scheduling import waitlist

        actor = self._reader()
        with self._work(actor) as uow:
            return tuple(waitlist.entries(uow.session))

    def add_to_waitlist(self, patient_id: int, *, provider_id: int | None, type_id: int | None,
                        minutes: int, earliest: date, latest: date | None,
                        part_of_day: str = "any", note: str = "") -> WaitlistEntry:
        from backend_client.scheduling import waitlist

        actor = self.access.require("appointment.manage")
        with self._work(actor) as uow:
            s = uow.session
            if s.get(Patient, patient_id) is None:
                raise ValidationError("patient_id", "There is no such patient.")
            entry_id = waitlist.add(s, patient_id=patient_id, provider_id=provider_id,
                                    type_id=type_id, minutes=minutes, earliest=earliest,
                                    latest=latest, part_of_day=part_of_day, note=note)
            entry = next(e for e in waitlist.entries(s) if e.id == entry_id)
            uow.announce(ChangeEvent(kind="waitlist", id=entry_id, version=entry.version,
                                     action="created", user_id=actor.user_id,
                                     workstation=actor.workstation))
            uow.commit()
        return entry

    def remove_from_waitlist(self, entry_id: int, expected_version: int,
                             reason: str = "") -> None:
        from backend_client.scheduling import waitlist

        actor = self.access.require("appointment.manage")
        with self._work(actor) as uow:
            waitlist.remove(uow.session, entry_id, expected_version, reason)
            uow.announce(ChangeEvent(kind="waitlist", id=entry_id, version=expected_version + 1,
                                     action="removed", user_id=actor.user_id,
                                     workstation=actor.workstation))
            uow.commit()

    def offers(self, day: date) -> tuple[SlotOffer, ...]:
        from backend_client.scheduling import waitlist

        actor = self.access.require("appointment.manage")
        with self._work(actor) as uow:
            s = uow.session
            sheet = self._sheet(s, actor, day, None)
            entries = waitlist.entries(s)
            return tuple(waitlist.offers(sheet, entries, self._clock(s), self.tz))


def build_scheduling(backend: Backend, access: Access, publisher: ChangePublisher | None, *,
                     tz: tzinfo | None = None, cache: SealedCache | None = None,
                     today: Callable[[], date] | None = None) -> SchedulingService:
    """The scheduling service as the composition root builds it: the app's engine, one
    ``SealedCache`` per process over the one Redis pool (pass the same ``cache`` to every
    service that caches; sign-out should call ``cache.forget_keys()``), the desk's zone
    (default this computer's IANA zone)."""
    return SchedulingService(backend.engine, access,
                             cache=cache if cache is not None else SealedCache(backend.redis),
                             publisher=publisher, tz=tz, today=today)

"""Changing appointments: moves, cancels and the status flow, with the plumbing every
write shares (the unit of work, the database's clock, change events, naming a clash).
``SchedulingService`` (service.py) is built on this."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from backend_client.accounts.access import Access
from backend_client.audit.service import AuditService
from backend_client.dto import (
    APPOINTMENT_STATUS_LABELS,
    APPOINTMENT_TRANSITIONS,
    Actor,
    AppointmentInfo,
    BookingResult,
    BookingWarning,
    Changes,
)
from backend_client.errors import (
    Clash,
    Conflict,
    IllegalTransition,
    NeedsOverride,
    NotFound,
    ValidationError,
)
from backend_client.scheduling import queries as q
from backend_client.scheduling.api import Scope
from backend_client.scheduling.booking import (
    MAX_REASON,
    check_request,
    clash_sentence,
    sqlstate,
    transition_sentence,
    warnings_for,
)
from backend_client.stores.postgres.models import (
    Appointment,
    AppointmentSeries,
    Provider,
    User,
)
from backend_client.sync.cache import SealedCache
from backend_client.sync.events import ChangeEvent, ChangePublisher
from backend_client.uow import unit_of_work


class AppointmentChanges:
    """Moves, cancels, the status flow, and the plumbing of every write."""

    engine: Engine | Connection
    access: Access
    cache: SealedCache
    publisher: ChangePublisher
    tz: tzinfo
    _now: Callable[[], datetime] | None

    @contextmanager
    def _work(self, actor: Actor) -> Iterator[Any]:
        with unit_of_work(self.engine, token=actor.token or None,
                          publisher=self.publisher) as uow:
            yield uow

    def _clock(self, s: Session) -> datetime:
        return self._now() if self._now is not None else q.database_now(s)

    def _event(self, actor: Actor, a: AppointmentInfo | Appointment, action: str,
               notify: int | None = None, extra_scopes: Sequence[str] = ()) -> ChangeEvent:
        scopes = {f"appt:{a.provider_id}:{d.isoformat()}"
                  for d in q.utc_dates(a.starts_at, a.ends_at)}
        return ChangeEvent(kind="appointment", id=a.id, version=a.version, action=action,
                           user_id=actor.user_id, workstation=actor.workstation,
                           notify_user_id=notify,
                           scopes=tuple(sorted(scopes | set(extra_scopes))))

    def _raise_clash(self, s: Session, provider_id: int, start: datetime, end: datetime,
                     exclude: Sequence[int] = ()) -> None:
        other = q.overlapping(s, start=start, end=end, provider_id=provider_id,
                              exclude=exclude)
        if other:
            raise Clash(clash_sentence(s, other[0], self.tz), other[0].id)

    def _clash_for(self, s: Session, provider_id: int, start: datetime, end: datetime
                   ) -> Clash:
        """After the database refused an overlap (the savepoint rolled back): name it."""
        other = q.overlapping(s, start=start, end=end, provider_id=provider_id)
        if other:
            return Clash(clash_sentence(s, other[0], self.tz), other[0].id)
        return Clash("The provider was booked for that time by someone else a moment ago; "
                     "look at the day again and choose another time.")

    # ------------------------------------------------------------------ changes

    def _current(self, s: Session, appointment_id: int, expected_version: int
                 ) -> Appointment:
        row = s.execute(select(Appointment).where(Appointment.id == appointment_id)
                        .with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound(f"There is no appointment with id {appointment_id}.")
        if row.version != expected_version:
            who = s.execute(select(User.display_name).where(User.id == row.updated_by)
                            ).scalar_one_or_none() or "Someone else"
            at = row.updated_at.astimezone(self.tz).strftime("%H:%M")
            raise Conflict(f"{who} changed this appointment at {at}, after you opened it. "
                           "Look at it again, then try once more.",
                           current_version=row.version, changed_by=who)
        return row

    def _following(self, s: Session, row: Appointment) -> list[Appointment]:
        """This occurrence and the later ones of its series that are still booked."""
        if row.series_id is None:
            return [row]
        later = s.execute(select(Appointment).where(
            Appointment.series_id == row.series_id, Appointment.starts_at > row.starts_at,
            Appointment.status == "booked").order_by(Appointment.starts_at)
            .with_for_update()).scalars().all()
        return [row, *later]

    def _split_series(self, s: Session, row: Appointment, moved: list[Appointment],
                      provider_id: int, minutes: int, first_start: datetime) -> int | None:
        """End the series' rule before ``row`` and give the moved occurrences a series of
        their own (the earlier ones, and the old rule's history, stay as they were)."""
        assert row.series_id is not None
        series = s.get(AppointmentSeries, row.series_id)
        assert series is not None
        tz = _zone(series.time_zone, self.tz)
        earlier = s.execute(select(Appointment.id).where(
            Appointment.series_id == row.series_id, Appointment.starts_at < row.starts_at
        ).limit(1)).first()
        if earlier is None:  # the first occurrence: the whole series moves
            series.provider_id, series.minutes = provider_id, minutes
            series.first_starts_at = first_start
            return series.id
        series.count = None
        series.until = row.starts_at.astimezone(tz).date() - timedelta(days=1)
        new = AppointmentSeries(
            provider_id=provider_id, patient_id=series.patient_id,
            appointment_type_id=series.appointment_type_id, frequency=series.frequency,
            interval=series.interval, count=min(500, max(1, len(moved))), until=None,
            first_starts_at=first_start, minutes=minutes, time_zone=series.time_zone,
            reason=series.reason)
        s.add(new)
        s.flush()
        return new.id

    def move(self, appointment_id: int, expected_version: int, *, provider_id: int,
             starts_at: datetime, ends_at: datetime, scope: Scope = "one",
             override_reason: str = "") -> BookingResult:
        actor = self.access.require("appointment.manage")
        override = override_reason.strip()
        with self._work(actor) as uow:
            s = uow.session
            row = self._current(s, appointment_id, expected_version)
            facts = check_request(s, provider_id=provider_id, patient_id=row.patient_id,
                                  type_id=None, starts_at=starts_at, ends_at=ends_at,
                                  reason="", override_reason=override)
            if row.status in ("completed", "cancelled", "no_show"):
                raise IllegalTransition(
                    f"An appointment that is {APPOINTMENT_STATUS_LABELS[row.status].lower()} "
                    "cannot be moved.")
            targets = self._following(s, row) if scope == "following" else [row]
            tz = self.tz
            if row.series_id is not None:
                series_tz = s.execute(select(AppointmentSeries.time_zone).where(
                    AppointmentSeries.id == row.series_id)).scalar_one()
                tz = _zone(series_tz, self.tz)
            # The wall-clock shift: a "following" move keeps local times across DST.
            shift = (starts_at.astimezone(tz).replace(tzinfo=None)
                     - row.starts_at.astimezone(tz).replace(tzinfo=None))
            length = ends_at - starts_at
            plan: list[tuple[Appointment, datetime, datetime]] = []
            for a in targets:
                new_start = _wall(a.starts_at.astimezone(tz).replace(tzinfo=None) + shift, tz)
                if a is row:
                    new_start = starts_at
                plan.append((a, new_start, new_start + length))
            ids = [a.id for a in targets]
            for _, start, end in plan:
                self._raise_clash(s, provider_id, start, end, exclude=ids)
            warnings = warnings_for(s, self.tz, self._now() if self._now else facts.now,
                                    provider_id, row.patient_id,
                                    [(a, b) for _, a, b in plan], exclude=ids,
                                    series=len(plan) > 1, provider_name=facts.provider_name)
            if warnings and not override:
                raise NeedsOverride(override_sentence(warnings), warnings)
            before = [self._event(actor, a, "moved") for a in targets]
            series_id = row.series_id
            if scope == "following" and row.series_id is not None:
                series_id = self._split_series(s, row, targets, provider_id,
                                               int(length.total_seconds() // 60), starts_at)
            # Later ones first when moving later (earlier first when earlier), so that
            # no occurrence lands on one of its own series that has not moved yet.
            later = plan[0][1] >= row.starts_at
            for a, start, end in sorted(plan, key=lambda p: p[0].starts_at, reverse=later):
                try:
                    with s.begin_nested():
                        s.execute(update(Appointment).where(Appointment.id == a.id).values(
                            provider_id=provider_id, starts_at=start, ends_at=end,
                            series_id=series_id,
                            override_reason=override if warnings else a.override_reason,
                            version=Appointment.version + 1,
                            updated_by=actor.user_id)
                            .execution_options(synchronize_session=False))
                except DBAPIError as exc:
                    self._db_refusal(exc)
                    clash = self._clash_for(s, provider_id, start, end)
                    raise Clash(f"{when_text(start, tz)}: {clash.message} Nothing was moved.",
                                clash.appointment_id) from None
            infos = q.appointments_by_id(s, ids)
            for old, info in zip(before, sorted(infos, key=lambda i: ids.index(i.id)),
                                 strict=True):
                uow.announce(self._event(actor, info, "moved", extra_scopes=old.scopes))
            if warnings:
                AuditService.record_in(
                    s, "appointment.override", user_id=actor.user_id,
                    workstation=actor.workstation, patient_id=row.patient_id,
                    object_type="appointments", object_id=str(row.id),
                    details={"warnings": sorted({w.code for w in warnings}),
                             "appointments": ids})
            uow.commit()
        return BookingResult(infos, Changes(appointments=frozenset(ids)))

    def _db_refusal(self, exc: DBAPIError) -> None:
        """Raise what the database's refusal means, unless it is an overlap (23P01)."""
        code = sqlstate(exc)
        if code in ("DRA01", "DRA02"):
            detail = getattr(getattr(exc.orig, "diag", None), "message_primary", "") or ""
            raise IllegalTransition(detail[:1].upper() + detail[1:] + ".") from None
        if code != "23P01":
            raise exc

    def cancel(self, appointment_id: int, expected_version: int, reason: str, *,
               scope: Scope = "one") -> BookingResult:
        actor = self.access.require("appointment.manage")
        why = (reason or "").strip()
        if not why:
            raise ValidationError("reason", "Say why the appointment is cancelled.")
        if len(why) > MAX_REASON:
            raise ValidationError("reason", f"The reason is longer than {MAX_REASON} "
                                            "characters.")
        with self._work(actor) as uow:
            s = uow.session
            row = self._current(s, appointment_id, expected_version)
            if "cancelled" not in APPOINTMENT_TRANSITIONS.get(row.status, ()):
                raise IllegalTransition(transition_sentence(row.status, "cancelled"))
            targets = self._following(s, row) if scope == "following" else [row]
            if scope == "following" and row.series_id is not None:
                series = s.get(AppointmentSeries, row.series_id)
                assert series is not None
                earlier = s.execute(select(Appointment.id).where(
                    Appointment.series_id == row.series_id,
                    Appointment.starts_at < row.starts_at).limit(1)).first()
                if earlier is not None:
                    tz = _zone(series.time_zone, self.tz)
                    series.count = None
                    series.until = row.starts_at.astimezone(tz).date() - timedelta(days=1)
            ids = [a.id for a in targets]
            for a in targets:
                try:
                    with s.begin_nested():
                        s.execute(update(Appointment).where(Appointment.id == a.id).values(
                            status="cancelled", cancel_reason=why,
                            version=Appointment.version + 1,
                            updated_by=actor.user_id)
                            .execution_options(synchronize_session=False))
                except DBAPIError as exc:
                    self._db_refusal(exc)
                    raise
            infos = q.appointments_by_id(s, ids)
            for info in infos:
                uow.announce(self._event(actor, info, "cancelled"))
            uow.commit()
        return BookingResult(infos, Changes(appointments=frozenset(ids)))

    def set_status(self, appointment_id: int, expected_version: int, status: str, *,
                   reason: str = "") -> AppointmentInfo:
        actor = self.access.require("appointment.manage")
        if status not in APPOINTMENT_STATUS_LABELS:
            raise ValidationError("status", f"{status!r} is not a status of an appointment.")
        if status == "cancelled":
            result = self.cancel(appointment_id, expected_version, reason)
            return result.appointments[0]
        with self._work(actor) as uow:
            s = uow.session
            row = self._current(s, appointment_id, expected_version)
            if status not in APPOINTMENT_TRANSITIONS.get(row.status, ()):
                raise IllegalTransition(transition_sentence(row.status, status))
            values: dict[str, Any] = {"status": status, "version": Appointment.version + 1,
                                      "updated_by": actor.user_id}
            if reason.strip():
                values["cancel_reason"] = reason.strip()[:MAX_REASON]
            try:
                with s.begin_nested():
                    s.execute(update(Appointment).where(Appointment.id == row.id)
                              .values(**values).execution_options(synchronize_session=False))
            except DBAPIError as exc:
                self._db_refusal(exc)
                raise
            info = q.appointment(s, row.id)
            assert info is not None
            notify = None
            if status == "checked_in":
                notify = s.execute(select(Provider.user_id).where(
                    Provider.id == row.provider_id)).scalar_one_or_none()
            uow.announce(self._event(actor, info, status, notify=notify))
            uow.commit()
        return info


def override_sentence(warnings: tuple[BookingWarning, ...]) -> str:
    n = len(warnings)
    head = " ".join(w.sentence for w in warnings[:3])
    more = f" (and {n - 3} more)" if n > 3 else ""
    return f"{head}{more} To book anyway, give a reason."


def when_text(start: datetime, tz: tzinfo) -> str:
    return start.astimezone(tz).strftime("%a %d %b %Y %H:%M")


def _zone(name: str, fallback: tzinfo) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def _wall(naive: datetime, tz: tzinfo) -> datetime:
    """A wall-clock time in ``tz`` (moved forward when it does not exist that day)."""
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)





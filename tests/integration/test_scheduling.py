"""Booking, clashes, warnings and their override, the status flow (through the service and
straight through the database), arrival's encounter and what it allows the doctor, and
every edit of a recurring series. Real PostgreSQL and Redis; every time is derived from
PostgreSQL's now(), in one fixed zone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from backend_client.accounts.access import SystemAccess
from backend_client.backend import Backend
from backend_client.dto import (
    APPOINTMENT_TRANSITIONS,
    BookingRequest,
)
from backend_client.errors import (
    Clash,
    Conflict,
    IllegalTransition,
    NeedsOverride,
    PermissionDenied,
    ValidationError,
)
from backend_client.patients.service import PatientService
from backend_client.scheduling.service import SchedulingService
from backend_client.sync.cache import SealedCache
from backend_client.sync.events import ChangeEvent
from tests.integration.conftest import TODAY, add_user, signed_in
from tests.integration.test_patient_registry import draft

TZ = ZoneInfo("Europe/Berlin")
STATUSES = tuple(APPOINTMENT_TRANSITIONS)
# How to reach each status from booked, along the flow.
PATHS = {"booked": (), "checked_in": ("checked_in",),
         "in_progress": ("checked_in", "in_progress"),
         "completed": ("checked_in", "in_progress", "completed"),
         "cancelled": ("cancelled",), "no_show": ("no_show",)}


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        self.events.extend(events)


def add_provider(conn: Connection, family: str, *, user_id: int | None = None,
                 given: str = "Anna") -> int:
    """A provider working 08:00–18:00 every day with a break 12:00–13:00."""
    pid = int(conn.execute(text(
        "INSERT INTO providers (user_id, title, given_name, family_name, specialty) "
        "VALUES (:u, 'Dr', :g, :f, 'Family medicine') RETURNING id"),
        {"u": user_id, "g": given, "f": family}).scalar_one())
    for weekday in range(1, 8):
        conn.execute(text("INSERT INTO provider_working_hours (provider_id, weekday, "
                          "starts_at, ends_at) VALUES (:p, :w, '08:00', '18:00')"),
                     {"p": pid, "w": weekday})
        conn.execute(text("INSERT INTO provider_breaks (provider_id, weekday, starts_at, "
                          "ends_at, label) VALUES (:p, :w, '12:00', '13:00', 'Lunch')"),
                     {"p": pid, "w": weekday})
    return pid


def database_day(conn: Connection, days_ahead: int) -> date:
    """A day ``days_ahead`` after the database's today, in TZ."""
    now: datetime = conn.execute(text("SELECT now()")).scalar_one()
    return (now.astimezone(TZ) + timedelta(days=days_ahead)).date()


@dataclass
class Desk:
    db: Connection
    service: SchedulingService      # a receptionist's
    doctor_service: SchedulingService
    doctor_patients: PatientService
    system_patients: PatientService
    provider: int
    other_provider: int
    provider_name: str
    doctor_uid: int
    reception_uid: int
    patient: int
    patient_name: str
    other_patient: int
    type_id: int
    day: date
    events: RecordingPublisher = field(default_factory=RecordingPublisher)

    def at(self, hour: int, minute: int = 0, *, days: int = 0) -> datetime:
        return datetime.combine(self.day + timedelta(days=days), time(hour, minute),
                                tzinfo=TZ)

    def request(self, hour: int, minute: int = 0, minutes: int = 15, *, days: int = 0,
                patient: int | None = None, provider: int | None = None,
                **kw: object) -> BookingRequest:
        start = self.at(hour, minute, days=days)
        return BookingRequest(provider_id=provider or self.provider,
                              patient_id=patient or self.patient, starts_at=start,
                              ends_at=start + timedelta(minutes=minutes),
                              type_id=self.type_id, **kw)  # type: ignore[arg-type]

    def row(self, appointment_id: int) -> dict[str, object]:
        return dict(self.db.execute(text("SELECT * FROM appointments WHERE id = :i"),
                                    {"i": appointment_id}).mappings().one())


@pytest.fixture
def desk(db: Connection, backend: Backend) -> Desk:
    return make_desk(db, backend)


def make_desk(db: Connection, backend: Backend) -> Desk:
    """Two providers (one with the doctor's account), two patients, a receptionist's and
    the doctor's services, and a day a week ahead of the database's today."""
    tag = uuid.uuid4().hex[:6]
    doctor_uid = add_user(db, ("doctor",), display_name=f"Dr Demo {tag}")
    reception_uid = add_user(db, ("receptionist",), display_name=f"Rita Reception {tag}")
    family = f"Demo{tag}"
    provider = add_provider(db, family, user_id=doctor_uid)
    other = add_provider(db, f"Other{tag}", given="Otto")
    system = PatientService(db, SystemAccess("ws-setup"), today=lambda: TODAY)
    patient = system.register(draft(family_name=f"Muster{tag}", given_name="Paula")).id
    other_patient = system.register(draft(family_name=f"Zweit{tag}", given_name="Zora")).id
    type_id = int(db.execute(text("SELECT id FROM appointment_types "
                                  "WHERE name = 'Consultation'")).scalar_one())
    events = RecordingPublisher()
    cache = SealedCache(backend.redis)
    reception = signed_in(backend, db, reception_uid, workstation="DESK-1")
    doctor = signed_in(backend, db, doctor_uid, workstation="ROOM-1")
    return Desk(
        db=db,
        service=SchedulingService(db, reception, cache=cache, publisher=events, tz=TZ),
        doctor_service=SchedulingService(db, doctor, cache=cache, publisher=events, tz=TZ),
        doctor_patients=PatientService(db, doctor, today=lambda: TODAY),
        system_patients=system, provider=provider, other_provider=other,
        provider_name=f"Dr Anna {family}", doctor_uid=doctor_uid,
        reception_uid=reception_uid, patient=patient,
        patient_name=f"Muster{tag}, Paula", other_patient=other_patient, type_id=type_id,
        day=database_day(db, 8), events=events)


def _count(desk: Desk) -> int:
    return int(desk.db.execute(text("SELECT count(*) FROM appointments WHERE provider_id = "
                                    "ANY(:p)"), {"p": [desk.provider, desk.other_provider]}
                               ).scalar_one())


# ------------------------------------------------------------------ booking and clashes


def test_a_booking_is_on_the_day_sheet_and_an_overlap_is_refused_naming_it(desk: Desk
                                                                            ) -> None:
    booked = desk.service.book(desk.request(10, 0)).appointments[0]
    assert desk.service.get(booked.id) == booked  # what booking returned is what is kept
    sheet = desk.service.day_sheet(desk.day, (desk.provider,))
    assert [a.id for a in sheet.appointments] == [booked.id]
    assert sheet.appointments[0].patient_name == desk.patient_name
    assert sheet.appointments[0].type_name == "Consultation"
    # Hours minus the lunch break.
    assert [(w.starts_at.astimezone(TZ).time(), w.ends_at.astimezone(TZ).time())
            for w in sheet.working] == [(time(8), time(12)), (time(13), time(18))]
    with pytest.raises(Clash) as clash:
        desk.service.book(desk.request(10, 10, patient=desk.other_patient))
    message = clash.value.message
    for part in (desk.provider_name, "10:00–10:15", desk.patient_name, "Consultation"):
        assert part in message, message
    assert clash.value.appointment_id == booked.id
    assert _count(desk) == 1
    # Another provider at the same time, and the same provider right after, are fine.
    desk.service.book(desk.request(10, 0, patient=desk.other_patient,
                                   provider=desk.other_provider))
    desk.service.book(desk.request(10, 15, patient=desk.other_patient))
    assert _count(desk) == 3


def test_a_cancelled_appointments_slot_can_be_booked_again(desk: Desk) -> None:
    first = desk.service.book(desk.request(9, 0)).appointments[0]
    desk.service.cancel(first.id, first.version, "Patient called to cancel")
    again = desk.service.book(desk.request(9, 0, patient=desk.other_patient))
    assert again.appointments[0].status == "booked"
    row = desk.row(first.id)
    assert row["status"] == "cancelled" and row["cancel_reason"] == "Patient called to cancel"


@pytest.mark.parametrize(("change", "fields"), [
    ({"minutes": -15}, {"ends_at"}),
    ({"minutes": 3}, {"ends_at"}),
    ({"minutes": 481}, {"ends_at"}),
    ({"provider": 10**12}, {"provider_id"}),
    ({"patient": 10**12}, {"patient_id"}),
    ({"type_id": 30000}, {"type_id"}),
    ({"reason": "x" * 501}, {"reason"}),
    ({"provider": 10**12, "patient": 10**12, "reason": "x" * 501},
     {"provider_id", "patient_id", "reason"}),
])
def test_bad_input_is_refused_naming_each_field(desk: Desk, change: dict[str, object],
                                                fields: set[str]) -> None:
    kw = dict(change)
    request = desk.request(10, 0, minutes=int(kw.pop("minutes", 15)),  # type: ignore
                           patient=kw.pop("patient", None),  # type: ignore[arg-type]
                           provider=kw.pop("provider", None))  # type: ignore[arg-type]
    if "type_id" in kw:
        request = BookingRequest(**{**request.__dict__, "type_id": kw.pop("type_id")})
    if kw:
        request = BookingRequest(**{**request.__dict__, **kw})
    with pytest.raises(ValidationError) as exc:
        desk.service.book(request)
    assert set(exc.value.errors) == fields
    assert all(exc.value.errors.values())
    assert _count(desk) == 0


def test_a_time_without_a_zone_is_refused(desk: Desk) -> None:
    request = desk.request(10, 0)
    naive = BookingRequest(**{**request.__dict__,
                              "starts_at": request.starts_at.replace(tzinfo=None)})
    with pytest.raises(ValidationError) as exc:
        desk.service.book(naive)
    assert "starts_at" in exc.value.errors


# ------------------------------------------------------------------ warnings


def _past_request(desk: Desk) -> BookingRequest:
    now: datetime = desk.db.execute(text("SELECT now()")).scalar_one()
    start = (now - timedelta(days=2)).astimezone(TZ).replace(hour=10, minute=0, second=0,
                                                               microsecond=0)
    return BookingRequest(desk.provider, desk.patient, start, start + timedelta(minutes=15),
                          type_id=desk.type_id)


@pytest.mark.parametrize(("case", "code", "words"), [
    ("past", "in_past", "in the past"),
    ("evening", "outside_hours", "outside"),
    ("lunch", "outside_hours", "break (12:00–13:00)"),
    ("elsewhere", "patient_elsewhere", "already booked with"),
])
def test_each_warning_needs_a_reason_and_the_reason_is_kept(desk: Desk, case: str,
                                                            code: str, words: str) -> None:
    if case == "elsewhere":
        desk.service.book(desk.request(10, 0, 30, provider=desk.other_provider))
    request = {"past": lambda: _past_request(desk),
               "evening": lambda: desk.request(19, 0),
               "lunch": lambda: desk.request(12, 15),
               "elsewhere": lambda: desk.request(10, 15)}[case]()
    before = _count(desk)
    checked = desk.service.check(request)
    assert code in {w.code for w in checked}
    with pytest.raises(NeedsOverride) as exc:
        desk.service.book(request)
    warning = next(w for w in exc.value.warnings if w.code == code)  # type: ignore
    assert words in warning.sentence, warning.sentence  # type: ignore[attr-defined]
    assert _count(desk) == before
    audit_before = desk.db.execute(text("SELECT max(id) FROM audit_events")).scalar_one()
    reason = f"Doctor agreed ({case})"
    booked = desk.service.book(BookingRequest(**{**request.__dict__,
                                                 "override_reason": reason}))
    a = booked.appointments[0]
    assert a.override_reason == reason and desk.row(a.id)["override_reason"] == reason
    event = desk.db.execute(text(
        "SELECT user_id, details FROM audit_events WHERE id > :b "
        "AND action = 'appointment.override'"), {"b": audit_before}).one()
    assert event.user_id == desk.reception_uid and code in event.details["warnings"]


def test_in_the_past_is_the_databases_past_not_the_workstations(desk: Desk,
                                                                 backend: Backend) -> None:
    # A workstation whose clock is a year behind still may not book yesterday quietly.
    behind = SchedulingService(desk.db, desk.service.access, cache=SealedCache(None), tz=TZ,
                               today=lambda: date(2000, 1, 1))
    assert "in_past" in {w.code for w in behind.check(_past_request(desk))}
    assert "in_past" not in {w.code for w in behind.check(desk.request(10, 0))}


# ------------------------------------------------------------------ the status flow


def _walk(desk: Desk, appointment_id: int, path: Sequence[str]) -> int:
    version = desk.service.get(appointment_id).version
    for status in path:
        version = desk.service.set_status(appointment_id, version, status,
                                          reason="walk").version
    return version


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_every_status_change_through_the_service(desk: Desk, source: str, target: str
                                                 ) -> None:
    if source == target:
        return
    a = desk.service.book(desk.request(10, 0)).appointments[0]
    version = _walk(desk, a.id, PATHS[source])
    if target in APPOINTMENT_TRANSITIONS[source]:
        after = desk.service.set_status(a.id, version, target, reason="because")
        assert after.status == target and desk.row(a.id)["status"] == target
    else:
        with pytest.raises(IllegalTransition) as exc:
            desk.service.set_status(a.id, version, target, reason="because")
        assert "cannot" in exc.value.message
        assert desk.row(a.id)["status"] == source


@pytest.mark.parametrize("source", STATUSES)
def test_every_status_change_straight_through_the_database(desk: Desk, source: str) -> None:
    """The trigger decides whatever the caller: here even the schema's owner."""
    a = desk.service.book(desk.request(10, 0)).appointments[0]
    _walk(desk, a.id, PATHS[source])
    for target in STATUSES:
        if target == source:
            continue
        try:
            with desk.db.begin_nested():
                desk.db.execute(text("UPDATE appointments SET status = :s WHERE id = :i"),
                                {"s": target, "i": a.id})
                allowed = True
                raise _Undo
        except _Undo:
            pass
        except DBAPIError as exc:
            allowed = False
            assert getattr(exc.orig, "sqlstate", None) == "DRA01"
            assert f"cannot become {target}" in str(exc.orig)
        assert allowed == (target in APPOINTMENT_TRANSITIONS[source]), (source, target)


class _Undo(Exception):
    pass


@pytest.mark.parametrize("final", ["completed", "cancelled", "no_show"])
def test_a_finished_appointment_cannot_be_moved(desk: Desk, final: str) -> None:
    a = desk.service.book(desk.request(10, 0)).appointments[0]
    version = _walk(desk, a.id, PATHS[final])
    with pytest.raises(IllegalTransition):
        desk.service.move(a.id, version, provider_id=desk.provider,
                          starts_at=desk.at(11), ends_at=desk.at(11, 15))
    with pytest.raises(DBAPIError) as exc, desk.db.begin_nested():
        desk.db.execute(text("UPDATE appointments SET starts_at = starts_at + interval "
                             "'1 hour', ends_at = ends_at + interval '1 hour' WHERE id = :i"),
                        {"i": a.id})
    assert getattr(exc.value.orig, "sqlstate", None) == "DRA02"


def test_a_stale_version_is_a_conflict_naming_who_changed_it(desk: Desk) -> None:
    a = desk.service.book(desk.request(10, 0)).appointments[0]
    desk.service.set_status(a.id, a.version, "checked_in")
    with pytest.raises(Conflict) as exc:
        desk.service.cancel(a.id, a.version, "too late")
    assert "Rita Reception" in exc.value.changed_by
    assert exc.value.current_version == a.version + 1


# ------------------------------------------------------------------ arrival


def _encounter(desk: Desk, appointment_id: int) -> dict[str, object] | None:
    row = desk.db.execute(text("SELECT * FROM encounters WHERE appointment_id = :a"),
                          {"a": appointment_id}).mappings().first()
    return dict(row) if row else None


def test_arrival_opens_the_encounter_and_tells_the_providers_desk(desk: Desk) -> None:
    a = desk.service.book(desk.request(10, 0)).appointments[0]
    assert _encounter(desk, a.id) is None
    arrived = desk.service.set_status(a.id, a.version, "checked_in")
    enc = _encounter(desk, a.id)
    assert enc is not None and enc["status"] == "open"
    assert enc["provider_id"] == desk.provider and enc["patient_id"] == desk.patient
    assert enc["created_by"] == desk.reception_uid
    now = desk.db.execute(text("SELECT now()")).scalar_one()
    assert desk.row(a.id)["checked_in_at"] == now == enc["started_at"]
    event = desk.events.events[-1]
    assert (event.kind, event.action, event.id) == ("appointment", "checked_in", a.id)
    assert event.notify_user_id == desk.doctor_uid
    assert f"appt:{desk.provider}:" in event.scopes[0]
    # Undo the arrival: the encounter is cancelled; arriving again reopens it.
    back = desk.service.set_status(a.id, arrived.version, "booked")
    assert _encounter(desk, a.id)["status"] == "cancelled"  # type: ignore[index]
    assert desk.row(a.id)["checked_in_at"] is None
    again = desk.service.set_status(a.id, back.version, "checked_in")
    room = desk.service.set_status(a.id, again.version, "in_progress")
    assert _encounter(desk, a.id)["status"] == "open"  # type: ignore[index]
    desk.service.set_status(a.id, room.version, "completed")
    done = _encounter(desk, a.id)
    assert done is not None and done["status"] == "closed" and done["ended_at"] is not None


@pytest.mark.parametrize("ending", ["cancelled", "no_show"])
def test_leaving_after_arrival_cancels_the_encounter(desk: Desk, ending: str) -> None:
    a = desk.service.book(desk.request(10, 0)).appointments[0]
    arrived = desk.service.set_status(a.id, a.version, "checked_in")
    desk.service.set_status(a.id, arrived.version, ending, reason="left before being seen")
    assert _encounter(desk, a.id)["status"] == "cancelled"  # type: ignore[index]


def test_the_doctor_treats_the_patient_after_arrival_not_after_a_booking(desk: Desk) -> None:
    desk.system_patients.set_restricted(desk.patient, True)
    a = desk.service.book(desk.request(10, 0)).appointments[0]
    # A booking alone (reception's to make) gives the doctor nothing.
    with pytest.raises(PermissionDenied):
        desk.doctor_patients.set_restricted(desk.patient, False)
    arrived = desk.service.set_status(a.id, a.version, "checked_in")
    assert not desk.doctor_patients.set_restricted(desk.patient, False).restricted
    desk.system_patients.set_restricted(desk.patient, True)
    # Undoing the arrival takes it back.
    desk.service.set_status(a.id, arrived.version, "booked")
    with pytest.raises(PermissionDenied):
        desk.doctor_patients.set_restricted(desk.patient, False)


def test_an_appointment_lasts_at_most_a_day_in_the_database_too(desk: Desk) -> None:
    with pytest.raises(DBAPIError) as exc, desk.db.begin_nested():
        desk.db.execute(text(
            "INSERT INTO appointments (provider_id, patient_id, starts_at, ends_at) "
            "VALUES (:pr, :pa, now(), now() + interval '25 hours')"),
            {"pr": desk.provider, "pa": desk.patient})
    assert "ck_appointments_at_most_a_day" in str(exc.value.orig)


def test_week_agenda_and_a_patients_appointments(desk: Desk) -> None:
    first = desk.service.book(desk.request(9, 0)).appointments[0]
    later = desk.service.book(desk.request(11, 0, days=2)).appointments[0]
    past = desk.service.book(BookingRequest(**{**_past_request(desk).__dict__,
                                               "override_reason": "entered late"}))
    monday = desk.day - timedelta(days=desk.day.weekday())
    week = desk.service.week(desk.provider, monday)
    assert [d.day for d in week] == [monday + timedelta(days=i) for i in range(7)]
    assert {a.id for d in week for a in d.appointments} >= {first.id}
    agenda = desk.service.agenda(desk.day, desk.day + timedelta(days=2), (desk.provider,))
    assert [a.id for a in agenda] == [first.id, later.id]
    mine = desk.service.patient_appointments(desk.patient)
    # Upcoming first (soonest first), then the past (newest first).
    assert [a.id for a in mine] == [first.id, later.id, past.appointments[0].id]
    with pytest.raises(ValidationError):
        desk.service.agenda(desk.day, desk.day - timedelta(days=1))


def test_reading_the_schedule_needs_a_schedule_or_chart_role(desk: Desk,
                                                             backend: Backend) -> None:
    admin = add_user(desk.db, ("admin",), display_name="Ada Admin")
    service = SchedulingService(desk.db, signed_in(backend, desk.db, admin), tz=TZ,
                                cache=SealedCache(backend.redis))
    for read in (lambda: service.day_sheet(desk.day), service.providers,
                 lambda: service.book(desk.request(10, 0))):
        with pytest.raises(PermissionDenied, match="Your role does not allow you"):
            read()
    # The doctor reads the desk's sheet, and the cached sheet is the same for both.
    desk.service.book(desk.request(10, 0))
    assert desk.doctor_service.day_sheet(desk.day, (desk.provider,)) == \
        desk.service.day_sheet(desk.day, (desk.provider,))


def test_when_the_database_refuses_the_overlap_the_clash_is_named_too(desk: Desk) -> None:
    """The service's own question comes first; here it is skipped (as when another desk
    books between the question and the insert), so the EXCLUDE constraint refuses."""
    booked = desk.service.book(desk.request(10, 0)).appointments[0]
    desk.service._raise_clash = lambda *a, **k: None  # type: ignore[method-assign]
    with pytest.raises(Clash) as clash:
        desk.service.book(desk.request(10, 5, patient=desk.other_patient))
    assert desk.patient_name in clash.value.message
    assert clash.value.appointment_id == booked.id
    assert _count(desk) == 1

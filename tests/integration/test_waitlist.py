"""The waitlist's data access on real PostgreSQL, as the app runs it: the app's own login
(row security and all) with a signed-in receptionist's session named in every transaction
(``unit_of_work(token=...)``), as SchedulingService calls it. The scene is set and tidied
up by the schema's owner; each test's rows are its own (fresh patient, provider, type)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from backend_client.accounts.access import SystemAccess
from backend_client.backend import Backend
from backend_client.dto import BookingRequest
from backend_client.errors import Conflict, NotFound, ValidationError
from backend_client.patients.service import PatientService
from backend_client.scheduling import waitlist
from backend_client.scheduling.service import SchedulingService
from backend_client.sync.cache import SealedCache
from backend_client.uow import unit_of_work
from tests.integration.conftest import add_user, signed_in
from tests.integration.test_patient_registry import draft
from tests.integration.test_scheduling import TZ, add_provider, database_day

EARLIEST = date(2027, 3, 1)


@dataclass
class Desk:
    backend: Backend
    token: str              # the receptionist's session
    other_token: str        # a second receptionist at another desk
    admin_token: str        # an administrator: no appointment.manage
    user_id: int
    patient: int
    other_patient: int
    provider: int
    type_id: int

    def owner(self, sql: str, **params: Any) -> Any:
        with self.backend.owner_engine.begin() as conn:
            return conn.execute(text(sql), params).all()

    def add(self, patient: int | None = None, token: str | None = None, **kw: Any) -> int:
        fields: dict[str, Any] = {"provider_id": None, "type_id": None, "minutes": 30,
                                  "earliest": EARLIEST, "latest": None,
                                  "part_of_day": "any", "note": ""}
        fields.update(kw)
        with unit_of_work(self.backend.engine, token=token or self.token) as uow:
            entry_id = waitlist.add(uow.session, patient_id=patient or self.patient, **fields)
            uow.commit()
        return entry_id

    def entries(self, token: str | None = None) -> list[Any]:
        with unit_of_work(self.backend.engine, token=token or self.token) as uow:
            return [e for e in waitlist.entries(uow.session)
                    if e.patient_id in (self.patient, self.other_patient)]


@pytest.fixture
def desk(backend: Backend) -> Iterator[Desk]:
    tag = uuid.uuid4().hex[:8]
    owner = backend.owner_engine
    reception = add_user(owner, ("receptionist",), display_name=f"Rita Desk {tag}")
    reception2 = add_user(owner, ("receptionist",), display_name=f"Rob Desk {tag}")
    admin = add_user(owner, ("admin",), display_name=f"Ada Admin {tag}")
    sessions = [signed_in(backend, owner, uid, workstation=f"desk-{tag}")
                for uid in (reception, reception2, admin)]
    setup = PatientService(owner, SystemAccess("ws-setup"))
    patient = setup.register(draft(family_name=f"Wait{tag}", given_name="Anna")).id
    other = setup.register(draft(family_name=f"Wait{tag}", given_name="Bert",
                                 birth_date=date(1971, 5, 6))).id
    with owner.begin() as conn:
        provider = conn.execute(text(
            "INSERT INTO providers (given_name, family_name, specialty) "
            "VALUES ('Dana', :f, 'General practice') RETURNING id"), {"f": f"Demo{tag}"}
        ).scalar_one()
        type_id = conn.execute(text(
            "INSERT INTO appointment_types (name, default_minutes) VALUES (:n, 20) "
            "RETURNING id"), {"n": f"Check-up {tag}"}).scalar_one()
    tokens = [s.actor.token for s in sessions if s.actor is not None]
    yield Desk(backend, tokens[0], tokens[1], tokens[2], reception, patient, other,
               provider, type_id)
    with owner.begin() as conn:
        people = {"p": [patient, other]}
        conn.execute(text("DELETE FROM waitlist_entries WHERE patient_id = ANY(:p)"), people)
        conn.execute(text("DELETE FROM appointments WHERE patient_id = ANY(:p)"), people)
        conn.execute(text("DELETE FROM patients WHERE id = ANY(:p)"), people)
        conn.execute(text("DELETE FROM providers WHERE id = :i"), {"i": provider})
        conn.execute(text("DELETE FROM appointment_types WHERE id = :i"), {"i": type_id})
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = ANY(:u)"),
                     {"u": [reception, reception2, admin]})


def test_an_added_entry_is_on_the_waitlist_with_the_patients_name(desk: Desk) -> None:
    entry_id = desk.add(provider_id=desk.provider, type_id=desk.type_id, minutes=20,
                        latest=date(2027, 3, 31), part_of_day="morning",
                        note="  Prefers mornings, any cancellation  ")
    (entry,) = desk.entries()
    assert entry.id == entry_id and entry.version == 1
    assert entry.patient_name.startswith("Wait") and entry.patient_name.endswith(", Anna")
    assert (entry.provider_id, entry.type_id, entry.minutes) == (desk.provider, desk.type_id, 20)
    assert (entry.earliest, entry.latest, entry.part_of_day) == (
        EARLIEST, date(2027, 3, 31), "morning")
    assert entry.note == "Prefers mornings, any cancellation"
    # Who and when are the database's: the receptionist's session, the transaction's time.
    (row,) = desk.owner("SELECT created_by, created_at = updated_at AS same, status "
                        "FROM waitlist_entries WHERE id = :i", i=entry_id)
    assert (row.created_by, row.same, row.status) == (desk.user_id, True, "waiting")
    assert entry.created_at.tzinfo is not None


def test_the_waitlist_is_oldest_first(desk: Desk) -> None:
    first = desk.add(desk.other_patient)
    second = desk.add(minutes=45)
    assert [e.id for e in desk.entries()] == [first, second]
    assert [e.patient_name.split(", ")[1] for e in desk.entries()] == ["Bert", "Anna"]


def test_nothing_is_written_until_the_unit_of_work_commits(desk: Desk) -> None:
    with unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.add(uow.session, patient_id=desk.patient, provider_id=None, type_id=None,
                     minutes=30, earliest=EARLIEST, latest=None, part_of_day="any", note="")
        assert len(waitlist.entries(uow.session)) >= 1
    assert desk.entries() == []


@pytest.mark.parametrize(("fields", "field"), [
    ({"minutes": 4}, "minutes"),
    ({"minutes": 481}, "minutes"),
    ({"latest": date(2027, 2, 28)}, "latest"),
    ({"part_of_day": "evening"}, "part_of_day"),
    ({"note": "x" * 501}, "note"),
    ({"provider_id": -1}, "provider_id"),
    ({"type_id": 32000}, "type_id"),
])
def test_bad_input_is_refused_with_the_field_and_nothing_is_written(
        desk: Desk, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        desk.add(**fields)
    assert field in caught.value.errors
    assert caught.value.errors[field].endswith(".")
    assert desk.entries() == []


def test_an_unknown_patient_is_not_found(desk: Desk) -> None:
    with pytest.raises(NotFound, match="There is no patient with id -5"):
        desk.add(-5)


def test_removed_entries_leave_the_waitlist_with_their_reason(desk: Desk) -> None:
    keep, gone = desk.add(), desk.add(desk.other_patient)
    with unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.remove(uow.session, gone, 1, "  Found a slot elsewhere ")
        uow.commit()
    assert [e.id for e in desk.entries()] == [keep]
    (row,) = desk.owner("SELECT status, removed_reason, version, updated_by "
                        "FROM waitlist_entries WHERE id = :i", i=gone)
    assert tuple(row) == ("removed", "Found a slot elsewhere", 2, desk.user_id)


def test_removing_with_a_stale_version_says_who_changed_it(desk: Desk) -> None:
    entry_id = desk.add()
    with unit_of_work(desk.backend.engine, token=desk.other_token) as uow:
        waitlist.remove(uow.session, entry_id, 1, "Called, no longer needed")
        uow.commit()
    with pytest.raises(Conflict) as caught, \
            unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.remove(uow.session, entry_id, 1, "")
    assert caught.value.current_version == 2
    assert caught.value.changed_by.startswith("Rob Desk")
    assert "took this entry off the waitlist" in caught.value.message


def test_a_version_that_moved_on_is_a_conflict_even_while_waiting(desk: Desk) -> None:
    entry_id = desk.add()
    desk.owner("UPDATE waitlist_entries SET note = 'edited', version = version + 1 "
               "WHERE id = :i RETURNING id", i=entry_id)
    with pytest.raises(Conflict, match="changed this waitlist entry"), \
            unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.remove(uow.session, entry_id, 1, "")
    assert [e.id for e in desk.entries()] == [entry_id]


def test_removing_what_is_not_there(desk: Desk) -> None:
    with pytest.raises(NotFound, match="no waitlist entry"), \
            unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.remove(uow.session, -1, 1, "")


def _appointment(desk: Desk) -> int:
    (row,) = desk.owner(
        "INSERT INTO appointments (provider_id, patient_id, appointment_type_id, starts_at, "
        "ends_at) VALUES (:pr, :pa, :t, TIMESTAMPTZ '2027-03-02 09:00Z', "
        "TIMESTAMPTZ '2027-03-02 09:20Z') RETURNING id",
        pr=desk.provider, pa=desk.patient, t=desk.type_id)
    return int(row.id)


def test_a_booked_entry_points_at_its_appointment_and_leaves_the_waitlist(desk: Desk) -> None:
    entry_id, appointment = desk.add(), _appointment(desk)
    with unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.mark_booked(uow.session, entry_id, appointment)
        assert waitlist.entry(uow.session, entry_id).version == 2
        uow.commit()
    assert desk.entries() == []
    (row,) = desk.owner("SELECT status, booked_appointment_id FROM waitlist_entries "
                        "WHERE id = :i", i=entry_id)
    assert tuple(row) == ("booked", appointment)
    # Booking it again, or removing it now, is refused with what happened.
    with pytest.raises(Conflict, match="booked an appointment for this waitlist entry"), \
            unit_of_work(desk.backend.engine, token=desk.other_token) as uow:
        waitlist.mark_booked(uow.session, entry_id, appointment)
    with pytest.raises(Conflict, match="booked an appointment"), \
            unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.remove(uow.session, entry_id, 2, "")


def test_two_desks_booking_one_entry_at_once_one_wins(desk: Desk) -> None:
    """Desk A marks the entry booked and holds its transaction open; desk B's attempt
    waits for A's row lock, then finds the entry no longer waiting."""
    entry_id, appointment = desk.add(), _appointment(desk)
    a_wrote, b_started = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def desk_b() -> None:
        a_wrote.wait(10)
        try:
            with unit_of_work(desk.backend.engine, token=desk.other_token) as uow:
                b_started.set()
                waitlist.mark_booked(uow.session, entry_id, appointment)
                uow.commit()
                outcome["b"] = "booked"
        except Conflict as exc:
            outcome["b"] = exc

    thread = threading.Thread(target=desk_b)
    thread.start()
    with unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.mark_booked(uow.session, entry_id, appointment)
        a_wrote.set()
        b_started.wait(10)
        # B's UPDATE is now (or soon) waiting on A's row lock; let it wait a moment.
        thread.join(0.5)
        assert thread.is_alive(), "desk B did not wait for desk A's transaction"
        uow.commit()
    thread.join(10)
    assert isinstance(outcome["b"], Conflict)
    assert outcome["b"].changed_by.startswith("Rita Desk")
    (row,) = desk.owner("SELECT status, version, updated_by FROM waitlist_entries "
                        "WHERE id = :i", i=entry_id)
    assert tuple(row) == ("booked", 2, desk.user_id)


def test_entry_not_found(desk: Desk) -> None:
    with pytest.raises(NotFound), unit_of_work(desk.backend.engine, token=desk.token) as uow:
        waitlist.entry(uow.session, -1)


def test_without_appointment_manage_the_database_shows_and_changes_nothing(
        desk: Desk) -> None:
    """An administrator's session, even calling the data access directly, sees no entry,
    cannot take one off the list, and cannot put a patient on it (row security, migrations
    0007 and 0009: no patient is visible to it either)."""
    entry_id = desk.add()
    assert desk.entries(token=desk.admin_token) == []
    with pytest.raises(NotFound), \
            unit_of_work(desk.backend.engine, token=desk.admin_token) as uow:
        waitlist.remove(uow.session, entry_id, 1, "tidying up")
    with pytest.raises(NotFound):
        desk.add(desk.other_patient, token=desk.admin_token)
    assert [(e.id, e.version) for e in desk.entries()] == [(entry_id, 1)]


def test_a_cancelled_morning_is_offered_to_the_patient_waiting_for_one(
        db: Connection, backend: Backend) -> None:
    """The whole loop through SchedulingService: a full morning, a patient waiting for a
    morning with that doctor, no offer; the morning is cancelled, and it is offered to
    her (the service's day sheet, the waitlist's entries and the matching together)."""
    tag = uuid.uuid4().hex[:6]
    reception = signed_in(backend, db, add_user(db, ("receptionist",)), workstation="DESK-9")
    service = SchedulingService(db, reception, cache=SealedCache(backend.redis), tz=TZ)
    provider = add_provider(db, f"Offer{tag}")         # 08:00-18:00, lunch 12:00-13:00
    setup = PatientService(db, SystemAccess("ws-setup"))
    waiting = setup.register(draft(family_name=f"Wait{tag}", given_name="Wanda")).id
    booked = setup.register(draft(family_name=f"Full{tag}", given_name="Fritz")).id
    day = database_day(db, 5)
    eight = datetime.combine(day, time(8), tzinfo=TZ)
    morning = service.book(BookingRequest(provider, booked, eight,
                                          eight + timedelta(hours=4))).appointments[0]
    entry = service.add_to_waitlist(waiting, provider_id=provider, type_id=None, minutes=30,
                                    earliest=day, latest=day, part_of_day="morning")
    assert entry.patient_name == f"Wait{tag}, Wanda"
    assert [o for o in service.offers(day) if o.provider_id == provider] == []

    service.cancel(morning.id, morning.version, "Patient called in sick")
    (offer,) = [o for o in service.offers(day) if o.provider_id == provider]
    assert (offer.starts_at, offer.ends_at) == (eight, eight + timedelta(hours=4))
    assert [e.id for e in offer.entries] == [entry.id]

"""Orders through the service on the app's own login, as a workstation runs it: placed by a
provider, discontinued with a reason, who and when from the database, stale versions named,
roles that may not. Also the ``Ward`` fixture the prescription, task and attack tests use:
real accounts, real sessions, committed rows (the app's login sees only what is committed).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text

from backend_client.accounts.access import SessionAccess, SystemAccess
from backend_client.accounts.service import AccountService
from backend_client.accounts.sessions import SessionStore
from backend_client.backend import Backend
from backend_client.chart.api import OrdersApi, TasksApi
from backend_client.chart.dto import OrderDraft
from backend_client.chart.orders import OrdersService
from backend_client.chart.tasks import TasksService
from backend_client.dto import PatientDraft
from backend_client.errors import (
    Conflict,
    IllegalTransition,
    PermissionDenied,
    ValidationError,
)
from backend_client.patients.service import PatientService
from backend_client.sync.events import ChangeEvent
from tests.integration.conftest import FAST

PASSWORD = "orders ward lantern 42"
ROLES = {"doctor": ("doctor",), "locum": ("doctor",), "nurse": ("nurse",),
         "reception": ("receptionist",), "admin": ("admin",)}


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        self.events.extend(events)


@dataclass
class Ward:
    """A clinic with a doctor (a provider), a locum (another provider), a nurse, a
    receptionist and an administrator, each signed in at their own desk, and a patient."""

    backend: Backend
    tag: str
    users: dict[str, int]
    names: dict[str, str]
    access: dict[str, SessionAccess]
    providers: dict[str, int]
    patient: int
    patient_name: str
    events: RecordingPublisher = field(default_factory=RecordingPublisher)

    def orders(self, who: str) -> OrdersService:
        return OrdersService(self.backend.engine, self.access[who], publisher=self.events,
                             tz=UTC)

    def tasks(self, who: str) -> TasksService:
        return TasksService(self.backend.engine, self.access[who], publisher=self.events,
                            tz=UTC)

    def token(self, who: str) -> str:
        actor = self.access[who].actor
        assert actor is not None
        return actor.token

    def owner(self, sql: str, **params: Any) -> list[Any]:
        with self.backend.owner_engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []

    def as_app(self, who: str | None, sql: str, **params: Any) -> list[Any]:
        """Run ``sql`` on the app's login with ``who``'s session named (None: no session),
        committed; raises what the database raises."""
        with self.backend.engine.begin() as conn:
            if who is not None:
                conn.execute(text("SELECT set_config('dra.token', :t, true)"),
                             {"t": self.token(who)})
            result = conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []

    def db_now(self) -> datetime:
        value: datetime = self.owner("SELECT clock_timestamp()")[0][0]
        return value


def make_ward(backend: Backend) -> Ward:
    tag = uuid.uuid4().hex[:8]
    accounts = AccountService(backend.owner_engine, hashing=FAST)
    users, names, access, providers = {}, {}, {}, {}
    for key, roles in ROLES.items():
        names[key] = f"{key.title()} {tag}"
        users[key] = accounts.add_user(f"{key[:5]}{tag}", names[key], PASSWORD, list(roles)).id
    with backend.owner_engine.begin() as conn:
        for key, family in (("doctor", f"Berg{tag}"), ("locum", f"Lund{tag}")):
            providers[key] = int(conn.execute(text(
                "INSERT INTO providers (user_id, title, given_name, family_name, specialty, "
                "license_number) VALUES (:u, 'Dr', 'Eva', :f, 'Family medicine', :n) "
                "RETURNING id"), {"u": users[key], "f": family, "n": f"GMC{tag}"}
            ).scalar_one())
    operator = PatientService(backend.owner_engine, SystemAccess("ws-setup"))
    patient = operator.register(PatientDraft(
        given_name="Olga", family_name=f"Order{tag}", birth_date=date(1984, 3, 12),
        sex="female", address_line1="1 Market Street", city="Springfield",
        postal_code="12345"))
    for key in ROLES:
        store = SessionStore(backend.engine)
        username = f"{key[:5]}{tag}"
        outcome = store.sign_in(username, store.keys_for(username, PASSWORD), f"DESK-{key}")
        assert outcome.actor is not None, outcome
        session = SessionAccess(store, backend.engine, f"DESK-{key}")
        session.set_actor(outcome.actor)
        access[key] = session
    return Ward(backend, tag, users, names, access, providers, patient.id,
                f"Order{tag}, Olga")


# Tasks given to a role reach every account with it, other tests' accounts included: each
# test starts with none open (the schema owner closes them; the app could not).
CLOSE_ROLE_TASKS = ("UPDATE tasks SET status = 'cancelled', cancel_reason = 'test ended' "
                    "WHERE status = 'open' AND assignee_role IS NOT NULL")


@pytest.fixture
def ward(backend: Backend) -> Iterator[Ward]:
    w = make_ward(backend)
    w.owner(CLOSE_ROLE_TASKS)
    yield w
    w.owner(CLOSE_ROLE_TASKS)
    w.owner("DELETE FROM app_sessions WHERE user_id = ANY(:u)", u=list(w.users.values()))


def test_the_services_implement_the_contracts(ward: Ward) -> None:
    orders: OrdersApi = ward.orders("doctor")
    tasks: TasksApi = ward.tasks("doctor")
    assert orders is not None and tasks is not None


def test_a_doctor_places_an_order_recorded_by_them_at_the_databases_time(ward: Ward) -> None:
    before = ward.db_now()
    item = ward.orders("doctor").place_order(ward.patient, OrderDraft(
        kind="lab", description="  Full   blood count ", details="Tired for 3 months"))
    after = ward.db_now()
    assert item.status == "active"
    assert item.draft.description == "Full blood count"
    assert item.ordered_by == f"Dr Eva Berg{ward.tag}"
    assert item.stamp.recorded_by == ward.names["doctor"]
    assert before <= item.stamp.recorded_at <= after
    created_by, created_at = ward.owner("SELECT created_by, created_at FROM orders "
                                        "WHERE id = :i", i=item.id)[0]
    assert created_by == ward.users["doctor"] and created_at == item.stamp.recorded_at
    assert [(e.kind, e.id, e.action) for e in ward.events.events] == [
        ("chart", ward.patient, "order")]
    listed = ward.orders("nurse").orders(ward.patient)
    assert [o.id for o in listed] == [item.id]


def test_orders_are_listed_newest_first_discontinued_ones_included(ward: Ward) -> None:
    service = ward.orders("doctor")
    first = service.place_order(ward.patient, OrderDraft(kind="imaging",
                                                         description="Chest X-ray"))
    second = service.place_order(ward.patient, OrderDraft(kind="referral",
                                                          description="Cardiology"))
    service.discontinue_order(first.id, first.version, "Done elsewhere")
    listed = service.orders(ward.patient)
    assert [o.id for o in listed] == [second.id, first.id]
    assert listed[1].status == "cancelled" and listed[1].discontinued_reason == "Done elsewhere"


def test_every_wrong_field_of_an_order_is_named_and_nothing_is_saved(ward: Ward) -> None:
    service = ward.orders("doctor")
    with pytest.raises(ValidationError) as caught:
        service.place_order(ward.patient, OrderDraft(kind="blood", description="  "))
    assert set(caught.value.errors) == {"kind", "description"}
    assert "lab, imaging" in caught.value.errors["kind"]
    assert caught.value.errors["description"].startswith("Say what is ordered")
    assert service.orders(ward.patient) == ()
    assert ward.events.events == []


def test_discontinuing_needs_a_reason_and_happens_once(ward: Ward) -> None:
    service = ward.orders("doctor")
    item = service.place_order(ward.patient, OrderDraft(kind="lab", description="HbA1c"))
    with pytest.raises(ValidationError) as caught:
        service.discontinue_order(item.id, item.version, "   ")
    assert caught.value.errors == {
        "reason": "Say why the order is discontinued; the reason stays with it."}
    stopped = service.discontinue_order(item.id, item.version, "Ordered twice")
    assert stopped.status == "cancelled" and stopped.version == item.version + 1
    assert stopped.stamp.updated_by == ward.names["doctor"]
    with pytest.raises(IllegalTransition, match="already cancelled"):
        service.discontinue_order(stopped.id, stopped.version, "again")


def test_a_stale_version_names_who_changed_the_order(ward: Ward) -> None:
    item = ward.orders("doctor").place_order(ward.patient, OrderDraft(kind="lab",
                                                                      description="TSH"))
    ward.orders("locum").discontinue_order(item.id, item.version, "Not needed")
    with pytest.raises(Conflict) as caught:
        ward.orders("doctor").discontinue_order(item.id, item.version, "Duplicate")
    assert caught.value.changed_by == ward.names["locum"]
    assert ward.names["locum"] in caught.value.message
    assert caught.value.current_version == item.version + 1


def test_nurses_and_reception_cannot_place_orders_and_reception_cannot_read_them(
        ward: Ward) -> None:
    with pytest.raises(PermissionDenied):
        ward.orders("nurse").place_order(ward.patient, OrderDraft(kind="lab",
                                                                  description="FBC"))
    with pytest.raises(PermissionDenied):
        ward.orders("reception").orders(ward.patient)
    assert ward.owner("SELECT count(*) FROM orders WHERE patient_id = :p",
                      p=ward.patient)[0][0] == 0


def test_a_completed_or_cancelled_order_keeps_what_was_ordered(ward: Ward) -> None:
    from sqlalchemy.exc import DBAPIError

    item = ward.orders("doctor").place_order(ward.patient, OrderDraft(kind="lab",
                                                                      description="FBC"))
    with pytest.raises(DBAPIError, match="cannot be edited"):
        ward.as_app("doctor", "UPDATE orders SET description = 'U&E' WHERE id = :i",
                    i=item.id)
    ward.as_app("doctor", "UPDATE orders SET status = 'completed' WHERE id = :i", i=item.id)
    with pytest.raises(DBAPIError, match="completed cannot become active"):
        ward.as_app("doctor", "UPDATE orders SET status = 'active' WHERE id = :i", i=item.id)

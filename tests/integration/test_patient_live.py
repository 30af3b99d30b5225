"""The patient registry tells other workstations about its writes, after they commit, on
real PostgreSQL and Redis; and a view refetches a record without auditing a second open.

The writes here are really committed (the app's own login, a signed-in receptionist), so
that "after the commit" means what it means on a clinic's network; the rows go at the end.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from backend_client.accounts.access import SessionAccess
from backend_client.backend import Backend
from backend_client.dto import PatientRecord
from backend_client.errors import Conflict, PermissionDenied, ValidationError
from backend_client.patients.service import PatientService
from backend_client.sync.events import CHANNEL, ChangeEvent, RedisChangePublisher
from tests.integration.conftest import TODAY, add_user, signed_in
from tests.integration.test_patient_registry import draft


class CommittedCheck:
    """Publishes through Redis, first noting what another connection sees of the patient
    at that moment: its version there proves the write was committed before anyone
    could hear of it."""

    def __init__(self, inner: RedisChangePublisher, engine: Engine) -> None:
        self.inner = inner
        self.engine = engine
        self.seen: list[tuple[ChangeEvent, int | None]] = []

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        with self.engine.connect() as conn:
            for event in events:
                version = conn.execute(text("SELECT version FROM patients WHERE id = :i"),
                                       {"i": event.id}).scalar_one_or_none()
                self.seen.append((event, version))
        self.inner.publish(events)


@pytest.fixture
def desk(backend: Backend) -> Iterator[tuple[PatientService, CommittedCheck, int]]:
    """A receptionist at "desk-a", publishing on the real Redis; what she registers is
    deleted afterwards, as the schema's owner."""
    uid = add_user(backend.owner_engine, ("receptionist",), display_name="Rita Desk",
                   username=f"rd{uuid.uuid4().hex[:8]}")
    access = signed_in(backend, backend.owner_engine, uid, workstation="desk-a")
    publisher = CommittedCheck(RedisChangePublisher(backend.redis), backend.owner_engine)
    service = PatientService(backend.engine, access, today=lambda: TODAY, publisher=publisher)
    with backend.owner_engine.connect() as conn:
        started = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM patients"))
                      .scalar_one())
    yield service, publisher, uid
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM patients WHERE id > :id AND family_name LIKE 'Zz%'"),
                     {"id": started})
        conn.execute(text("DELETE FROM app_sessions WHERE user_id = :u"), {"u": uid})


@pytest.fixture
def listener(backend: Backend) -> Iterator[Callable[[float], list[ChangeEvent]]]:
    """Another workstation's ear: a plain redis-py subscription (the app's Redis login).
    Calling it returns the patient events heard within ``seconds`` (stops at the first
    quiet gap after something was heard)."""
    pubsub = backend.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    # Wait until the subscription is in place, or an early publish would go unheard.
    deadline = time.monotonic() + 5
    while backend.redis.pubsub_numsub(CHANNEL)[0][1] < 1 and time.monotonic() < deadline:
        pubsub.get_message(timeout=0.05)

    def heard(seconds: float) -> list[ChangeEvent]:
        events: list[ChangeEvent] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            message: dict[str, Any] | None = pubsub.get_message(timeout=0.1)
            if message is None:
                if events:
                    break
                continue
            event = ChangeEvent.from_json(message["data"])
            if event is not None and event.kind == "patient":
                events.append(event)
        return events

    yield heard
    pubsub.close()


def test_every_write_is_heard_after_it_committed(
        desk: tuple[PatientService, CommittedCheck, int],
        listener: Callable[[float], list[ChangeEvent]]) -> None:
    service, published, uid = desk
    rec = service.register(draft(given_name="Tess", family_name="Zzlive"))
    renamed = service.update(rec.id, rec.version, replace(rec.draft, given_name="Tessie"))
    died = service.mark_deceased(rec.id, renamed.version, date(2026, 11, 1))

    heard = listener(5)
    assert [(e.id, e.version, e.action) for e in heard] == [
        (rec.id, 1, "created"), (rec.id, 2, "updated"), (rec.id, 3, "deceased")]
    assert died.version == 3
    assert {(e.user_id, e.workstation) for e in heard} == {(uid, "desk-a")}
    # When each was published, another connection already saw that very version.
    assert [(e.version, seen) for e, seen in published.seen] == [(1, 1), (2, 2), (3, 3)]


def test_a_write_that_fails_publishes_nothing(
        desk: tuple[PatientService, CommittedCheck, int],
        listener: Callable[[float], list[ChangeEvent]]) -> None:
    service, published, _ = desk
    rec = service.register(draft(given_name="Tess", family_name="Zzquiet"))
    assert [e.action for e in listener(5)] == ["created"]

    saved = service.update(rec.id, rec.version, replace(rec.draft, given_name="Tessie"))
    with pytest.raises(Conflict):  # a stale form: rolled back
        service.update(rec.id, rec.version, replace(rec.draft, phone="+49 30 7777777"))
    with pytest.raises(ValidationError):
        service.update(rec.id, saved.version, replace(rec.draft, email="not-an-address"))
    with pytest.raises(Conflict):
        service.mark_deceased(rec.id, rec.version, date(2026, 11, 1))
    # A marker written after the failures: the only thing heard besides the rename.
    service.update(rec.id, saved.version, replace(saved.draft, city="Bonn"))

    assert [(e.version, e.action) for e in listener(5)] == [(2, "updated"), (3, "updated")]
    assert [e.version for e, _ in published.seen] == [1, 2, 3]


@pytest.fixture
def clinic(db: Connection, backend: Backend) -> Callable[[str], tuple[PatientService, int]]:
    def make(role: str) -> tuple[PatientService, int]:
        uid = add_user(db, (role,), display_name=f"{role.title()} Live")
        access: SessionAccess = signed_in(backend, db, uid, workstation=f"ws-{role}")
        return PatientService(db, access, today=lambda: TODAY), uid
    return make


def _opens(db: Connection, patient_id: int) -> list[str]:
    return list(db.execute(text(
        "SELECT action FROM audit_events WHERE patient_id = :p AND action IN "
        "('chart.open', 'patient.read') ORDER BY id"), {"p": patient_id}).scalars())


def test_refetching_a_shown_record_reads_it_again_without_a_second_open(
        db: Connection, clinic: Callable[[str], tuple[PatientService, int]]) -> None:
    desk_a, _ = clinic("receptionist")
    doctor, _ = clinic("doctor")
    rec = desk_a.register(draft(given_name="Tess", family_name="Zzrefetch"))
    opened: PatientRecord = doctor.get(rec.id)
    assert _opens(db, rec.id) == ["chart.open"]

    desk_a.update(rec.id, rec.version, replace(rec.draft, given_name="Tessie"))
    again = doctor.refetch(rec.id)
    assert (again.draft.given_name, again.version) == ("Tessie", opened.version + 1)
    assert again.updated_by == "Receptionist Live"
    assert again.clinical  # the doctor's view: alerts included
    assert desk_a.refetch(rec.id).clinical is False  # reception's: demographics only
    assert _opens(db, rec.id) == ["chart.open"]


def test_refetching_a_record_restricted_meanwhile_is_refused_as_opening_it(
        db: Connection, clinic: Callable[[str], tuple[PatientService, int]]) -> None:
    desk_a, _ = clinic("receptionist")
    doctor, _ = clinic("doctor")
    rec = desk_a.register(draft(given_name="Tess", family_name="Zzrestricted"))
    doctor.get(rec.id)
    db.execute(text("UPDATE patients SET restricted = true WHERE id = :p"), {"p": rec.id})
    with pytest.raises(PermissionDenied) as info:
        doctor.refetch(rec.id)
    assert info.value.break_glass
    denied = db.execute(text("SELECT count(*) FROM audit_events WHERE patient_id = :p AND "
                             "action = 'access.denied'"), {"p": rec.id}).scalar_one()
    assert denied == 1


class Captured:
    """A publisher that keeps what it was given (to hand it to another desk's bridge)."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        self.events.extend(events)


def test_the_newcomers_two_workstations_on_real_postgresql(
        qtbot: Any, db: Connection, backend: Backend) -> None:
    """Desk A saves "Tessie" while desk B shows "Tess" and has her form open: B's list,
    header and form follow, and B's save meets A's field by field, through the real
    service (row security, versions, who saved it and when from PostgreSQL)."""
    from desktop.bootstrap import build_patient_presenters
    from desktop.bridges.notifications import ChangeNotifications
    from desktop.tasks import InlineTaskRunner
    from ui.main_window import MainWindow
    from ui.patients.conflict_dialog import ConflictDialog
    from ui.patients.field_changes import THEIRS, YOURS

    captured = Captured()
    a_user = add_user(db, ("receptionist",), display_name="Ada Desk")
    desk_a = PatientService(db, signed_in(backend, db, a_user, workstation="desk-a"),
                            today=lambda: TODAY, publisher=captured)
    b_user = add_user(db, ("receptionist",), display_name="Bea Desk")
    desk_b = PatientService(db, signed_in(backend, db, b_user, workstation="desk-b"),
                            today=lambda: TODAY)
    tess = desk_a.register(draft(given_name="Tess", family_name="Zzqtessler"))

    window = MainWindow()
    qtbot.addWidget(window)
    presenters = build_patient_presenters(window, desk_b, InlineTaskRunner(),
                                          today=lambda: TODAY)
    bridge = ChangeNotifications()
    for presenter in (presenters.list, presenters.chart, presenters.editor):
        presenter.follow(bridge)
    window.show()
    try:
        with qtbot.waitSignal(presenters.list.results_shown, timeout=3000):
            qtbot.keyClicks(window.patient_list.search_box, "Zzqtessler")
        model = window.patient_list.model
        assert [model.patient_at(r).given_name for r in range(model.rowCount())] == ["Tess"]
        presenters.chart.open(tess.id)
        window.patient_header.edit_button.click()
        form = presenters.editor.dialog
        assert form is not None and form.given_name.text() == "Tess"
        form.phone.setText("+49 30 2222222")

        captured.events.clear()
        saved = desk_a.update(tess.id, tess.version, replace(tess.draft, given_name="Tessie"))
        # As desk B's subscriber delivers it: published by another process.
        bridge.changed.emit(tuple(replace(e, origin="desk-a-process")
                                  for e in captured.events))
        assert [model.patient_at(r).given_name for r in range(model.rowCount())] == [
            "Tessie"]
        assert window.patient_header.name.text().startswith("Zzqtessler, Tessie")
        at = saved.updated_at.astimezone().strftime("%H:%M")
        assert form.changed_bar.text.text().startswith(
            f"⚠ Changed by Ada Desk at {at} (given name and previous names).")

        form.changed_bar.keep_button.click()
        form.save_button.click()
        conflict = presenters.editor.conflict
        assert isinstance(conflict, ConflictDialog)
        given = next(c for c in conflict.changes if c.key == "given_name")
        assert (given.base, given.theirs, given.yours) == ("Tess", "Tessie", "Tess")
        assert conflict.choice_for("given_name") == THEIRS
        assert conflict.choice_for("phone") == YOURS
        conflict.apply_button.click()
        final = desk_b.refetch(tess.id)
        assert (final.draft.given_name, final.draft.phone, final.version) == (
            "Tessie", "+49 30 2222222", 3)
        assert final.updated_by == "Bea Desk"
    finally:
        for dialog in (presenters.editor.conflict, presenters.editor.dialog):
            if dialog is not None:
                dialog.done(0)

"""Signing in, the idle lock, handing the workstation over and revocation, as a user sees
them: the real window and presenters over the real services (PostgreSQL, MongoDB),
with the idle clock moved by the test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend_client.accounts.passwords import PasswordHashing
from backend_client.accounts.service import AccountService
from backend_client.accounts.sessions import SessionStore
from backend_client.accounts.signin import SessionServices, build_session_services
from backend_client.backend import Backend
from backend_client.drafts.store import DraftStore
from backend_client.dto import SavedDraft
from backend_client.patients.service import PatientService
from desktop.bootstrap import PatientPresenters, build_patient_presenters, reset_patient_views
from desktop.presenters.session import SessionPresenter
from desktop.tasks import Pool, TaskRunner
from tests.gui.conftest import TODAY, save_screenshot
from ui.main_window import MainWindow

FAST = PasswordHashing(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
PASSWORD = "pale green lighthouse 44"


class Clock:
    def __init__(self) -> None:
        self.now = time.monotonic()  # a fake clock starts at the real now

    def __call__(self) -> float:
        return self.now


@dataclass
class Workstation:
    window: MainWindow
    session: SessionPresenter
    patients: PatientPresenters
    services: SessionServices
    clock: Clock
    users: dict[str, str]
    backend: Backend
    tasks: TaskRunner
    late: LateReads | None = None  # the session presenter's late read pool, if asked

    def sign_in(self, qtbot: QtBot, role: str, password: str = PASSWORD) -> None:
        view = self.window.sign_in_view
        view.username_edit.setText(self.users[role])
        view.password_edit.setText(password)
        qtbot.keyClick(view.password_edit, Qt.Key.Key_Return)

    def user_id(self, role: str) -> int:
        return AccountService(self.backend.owner_engine).get(self.users[role]).id

    def kept(self, role: str) -> list[SavedDraft]:
        """That person's kept forms, as their next sign-in would list them."""
        return DraftStore(self.backend.mongo_db).list_for(self.user_id(role),
                                                          self.draft_key(role))

    def draft_key(self, role: str) -> bytes:
        """The key that person's kept forms are sealed with (from their password)."""
        return SessionStore(self.backend.engine).keys_for(self.users[role], PASSWORD).draft_key


class LateReads:
    """The session presenter's runner, with the read pool made late: ``hold="jobs"``
    starts nothing on it until :meth:`release`; ``hold="answers"`` runs its jobs at once
    and delivers what they answered only at :meth:`release`."""

    def __init__(self, real: TaskRunner, hold: str) -> None:
        self.real = real
        self.hold = hold
        self.held: list[tuple[Callable[[], Any], Callable[[], None]]] = []  # (job, go on)
        self.released = self.delivered = 0  # held jobs started / their answers delivered

    def run(self, fn: Callable[[], Any], on_success: Any = None, on_failure: Any = None, *,
            pool: Pool = "read") -> None:
        if pool != "read":
            self.real.run(fn, on_success, on_failure, pool=pool)
        elif self.hold == "jobs":
            def then(callback: Any) -> Callable[[Any], None]:
                def delivered(value: Any) -> None:
                    self.delivered += 1
                    if callback is not None:
                        callback(value)
                return delivered

            self.held.append((fn, lambda: self.real.run(fn, then(on_success),
                                                         then(on_failure), pool=pool)))
        else:
            def answered(result: Any) -> None:
                self.held.append((fn, lambda: on_success(result)))

            self.real.run(fn, answered, on_failure, pool=pool)

    def release(self) -> None:
        held, self.held = self.held, []
        self.released += len(held)
        for _job, go in held:
            go()

    def answered(self, job: Callable[[], Any]) -> bool:
        """Whether ``job`` ran and its answer is held."""
        return any(fn == job for fn, _ in self.held)


@contextmanager
def _workstation(qtbot: QtBot, backend: Backend, *,
                 late: str = "") -> Iterator[Workstation]:
    tag = uuid.uuid4().hex[:6]
    accounts = AccountService(backend.owner_engine, hashing=FAST)
    users = {}
    names = {"doctor": "Dr Amara Okafor", "nurse": "Nurse Jonas Whitfield",
             "admin": "Admin Lee"}
    for role, name in names.items():
        users[role] = f"{role[:3]}{tag}"
        accounts.add_user(users[role], name, PASSWORD, [role])
    services = build_session_services(backend.engine, backend.mongo_db,
                                      workstation=f"CONSULT-{tag}")
    tasks = TaskRunner()
    window = MainWindow()
    qtbot.addWidget(window)
    patients = build_patient_presenters(
        window, PatientService(backend.engine, services.access, today=lambda: TODAY), tasks,
        today=lambda: TODAY)
    clock = Clock()
    late_reads = LateReads(tasks, late) if late else None
    session = SessionPresenter(window, services.signin, DraftStore(backend.mongo_db),
                               patients.editor, late_reads or tasks,
                               idle_lock_seconds=600, clock=clock, tick_ms=3_600_000,
                               parent=window)
    session.user_changed.connect(lambda _: reset_patient_views(patients))
    window.resize(1100, 720)
    window.show()
    session.start()
    qtbot.waitExposed(window)
    try:
        yield Workstation(window, session, patients, services, clock, users, backend, tasks,
                          late_reads)
    finally:
        session.stop()
        patients.editor.close_all()
        tasks.shutdown()
        ids = [accounts.get(u).id for u in users.values()]
        backend.mongo_db["drafts"].delete_many({"user_id": {"$in": ids}})


@pytest.fixture
def desk(qtbot: QtBot, backend: Backend) -> Iterator[Workstation]:
    with _workstation(qtbot, backend) as workstation:
        yield workstation


def _signed_in(qtbot: QtBot, desk: Workstation, role: str) -> None:
    desk.sign_in(qtbot, role)
    qtbot.waitUntil(lambda: desk.window.pages.currentWidget() is desk.window.work_area,
                    timeout=10_000)


def _switch_to(qtbot: QtBot, desk: Workstation, role: str, *,
               screenshot: str = "") -> None:
    """At the lock screen: "Sign in as someone else" as ``role``, and wait for it."""
    lock = desk.window.lock_screen
    qtbot.mouseClick(lock.switch_link, Qt.MouseButton.LeftButton)
    lock.switch_username_edit.setText(desk.users[role])
    lock.switch_password_edit.setText(PASSWORD)
    if screenshot:
        save_screenshot(desk.window, screenshot)
    qtbot.keyClick(lock.switch_password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not lock.is_locked(), timeout=10_000)


def _type_new_patient(qtbot: QtBot, desk: Workstation) -> None:
    desk.patients.editor.register()
    dialog = desk.patients.editor.dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.given_name, "Halima")
    qtbot.keyClicks(dialog.family_name, "Typedsofar")


def test_sign_in_page_says_only_wrong_user_name_or_password(qtbot: QtBot,
                                                            desk: Workstation) -> None:
    window = desk.window
    assert window.pages.currentWidget() is window.sign_in_view
    assert not window.patient_list.isVisible()
    assert not window.register_action.isEnabled()
    desk.sign_in(qtbot, "doctor", "pale green lighthouse 45")
    view = window.sign_in_view
    qtbot.waitUntil(lambda: view.error_label.text() != "", timeout=10_000)
    assert view.error_label.text() == "Wrong user name or password."
    assert view.username_edit.text() == desk.users["doctor"]
    assert view.password_edit.text() == ""
    save_screenshot(window, "session-sign-in-error.png")

    desk.sign_in(qtbot, "doctor")
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.work_area, timeout=10_000)
    assert window.user_label.text() == "Signed in as Dr Amara Okafor (doctor)"
    assert window.register_action.isEnabled()
    assert not window.admin_menu.menuAction().isVisible()  # doctors do not manage sessions
    save_screenshot(window, "session-signed-in.png")


def test_idle_lock_hides_everything_and_the_password_brings_it_back_intact(
        qtbot: QtBot, desk: Workstation) -> None:
    _signed_in(qtbot, desk, "doctor")
    _type_new_patient(qtbot, desk)
    dialog = desk.patients.editor.dialog
    assert dialog is not None

    desk.clock.now += 599
    desk.session.on_timer_timeout()
    assert not desk.session.is_locked
    desk.clock.now += 1
    desk.session.on_timer_timeout()
    lock = desk.window.lock_screen
    assert desk.session.is_locked and lock.is_locked()
    assert not dialog.isVisible()  # a separate window: hidden, not closed
    assert "after 10 minutes without activity" in lock.sentence_label.text()
    assert not desk.window.register_action.isEnabled()
    qtbot.waitUntil(lambda: desk.services.signin.state() == "locked", timeout=5000)

    lock.password_edit.setText("not the password")
    qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: lock.error_label.text() != "", timeout=10_000)
    assert lock.error_label.text() == "Wrong user name or password."
    save_screenshot(desk.window, "session-locked.png")

    lock.password_edit.setText(PASSWORD)
    qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not lock.is_locked(), timeout=10_000)
    assert dialog.isVisible() and desk.patients.editor.dialog is dialog
    assert (dialog.given_name.text(), dialog.family_name.text()) == ("Halima", "Typedsofar")
    assert desk.services.signin.state() == "active"


def test_someone_else_at_the_locked_desk_keeps_the_first_persons_form_for_them(
        qtbot: QtBot, desk: Workstation) -> None:
    _signed_in(qtbot, desk, "doctor")
    qtbot.keyClicks(desk.window.patient_list.search_box, "Okaf")
    _type_new_patient(qtbot, desk)
    desk.window.lock_requested.emit()
    lock = desk.window.lock_screen
    assert lock.is_locked()

    _switch_to(qtbot, desk, "nurse", screenshot="session-switch-user.png")

    # The doctor's form and search are gone from the screen; the nurse is signed in.
    assert desk.patients.editor.dialog is None
    assert desk.window.patient_list.search_text() == ""
    assert desk.window.user_label.text().startswith("Signed in as Nurse Jonas Whitfield")
    kept = desk.kept("doctor")
    assert [k.title for k in kept] == ["New patient (Halima Typedsofar)"]
    assert desk.window.drafts_bar.isHidden()  # nothing kept for the nurse

    # The doctor comes back: the form is offered, and reopens as it was.
    desk.window.sign_out_requested.emit()
    qtbot.waitUntil(lambda: desk.window.pages.currentWidget() is desk.window.sign_in_view,
                    timeout=10_000)
    _signed_in(qtbot, desk, "doctor")
    bar = desk.window.drafts_bar
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=10_000)
    assert "New patient (Halima Typedsofar)" in desk.window.drafts_label.text()
    assert "Kept when Nurse Jonas Whitfield signed in" in desk.window.drafts_label.text()
    save_screenshot(desk.window, "session-kept-form.png")
    qtbot.mouseClick(desk.window.drafts_restore_button, Qt.MouseButton.LeftButton)
    dialog = desk.patients.editor.dialog
    assert dialog is not None and dialog.isVisible()
    assert (dialog.given_name.text(), dialog.family_name.text()) == ("Halima", "Typedsofar")
    assert not bar.isVisible()
    # The kept copy stays until the reopened form is saved or discarded (a crash in
    # between must not lose it).
    assert [k.title for k in desk.kept("doctor")] == [
        "New patient (Halima Typedsofar)"]
    dialog.done(0)  # the user discards the form
    qtbot.waitUntil(lambda: desk.kept("doctor") == [], timeout=5000)


def test_a_revoked_session_locks_within_one_poll_and_signing_in_again_keeps_the_form(
        qtbot: QtBot, desk: Workstation, backend: Backend) -> None:
    _signed_in(qtbot, desk, "doctor")
    _type_new_patient(qtbot, desk)
    actor = desk.session.actor
    assert actor is not None
    admin = build_session_services(backend.engine, backend.mongo_db,
                                   workstation="ADMIN-1")
    admin.signin.sign_in(desk.users["admin"], PASSWORD)
    admin.admin.revoke(actor.session_id)

    desk.clock.now += 5  # the next poll
    desk.session.on_timer_timeout()
    lock = desk.window.lock_screen
    qtbot.waitUntil(lambda: lock.is_locked(), timeout=5000)
    assert lock.title_label.text() == "Session ended"
    assert "An administrator ended your session" in lock.sentence_label.text()
    save_screenshot(desk.window, "session-revoked.png")

    lock.password_edit.setText(PASSWORD)
    qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not lock.is_locked(), timeout=10_000)
    renewed = desk.session.actor
    assert renewed is not None and renewed.session_id != actor.session_id
    dialog = desk.patients.editor.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.family_name.text() == "Typedsofar"


def test_a_reopened_form_kept_again_stays_one_draft(qtbot: QtBot, desk: Workstation) -> None:
    store = DraftStore(desk.backend.mongo_db)
    first = store.save(desk.user_id("doctor"), draft_key=desk.draft_key("doctor"),
                       kind="patient.register", title="New patient (Ines Kept)",
                       reason="Kept when you signed out.",
                       payload={"form": {"given_name": "Ines", "family_name": "Kept",
                                         "birth_date": "31/02/1980", "sex": "female"}},
                       key="patient.register:older-form")
    _signed_in(qtbot, desk, "doctor")
    qtbot.waitUntil(lambda: desk.window.drafts_bar.isVisible(), timeout=10_000)
    qtbot.mouseClick(desk.window.drafts_restore_button, Qt.MouseButton.LeftButton)
    dialog = desk.patients.editor.dialog
    assert dialog is not None
    # What was typed comes back as typed, an impossible date included.
    assert dialog.birth_date.edit.text() == "31/02/1980"
    qtbot.keyClicks(dialog.middle_name, "Maria")
    desk.window.lock_requested.emit()
    _switch_to(qtbot, desk, "nurse")
    kept = desk.kept("doctor")
    assert [(k.draft_id, k.payload["form"]["middle_name"]) for k in kept] == [  # type: ignore[index]
        (first, "Maria")]


def test_an_administrator_sees_sessions_not_patients_and_ends_one(
        qtbot: QtBot, desk: Workstation, backend: Backend,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.presenters.session import SessionsPresenter
    from ui.admin.sessions_dialog import SessionsDialog

    nurse_desk = build_session_services(backend.engine, backend.mongo_db,
                                        workstation="WARD-3")
    nurse = nurse_desk.signin.sign_in(desk.users["nurse"], PASSWORD).actor
    _signed_in(qtbot, desk, "admin")
    window = desk.window
    assert window.admin_menu.menuAction().isVisible()
    assert not window.patient_menu.menuAction().isVisible()
    assert not window.patient_list.isEnabled()
    assert window.admin_home.isVisible() and not window.work_tabs.isVisible()

    tasks = TaskRunner()
    try:
        admin = SessionsPresenter(window, desk.services.admin, tasks, parent=window)
        admin.show()
        dialog = admin.dialog
        assert isinstance(dialog, SessionsDialog)
        qtbot.waitUntil(lambda: dialog.model.row_of(nurse.session_id) >= 0, timeout=10_000)
        dialog.table.selectRow(dialog.model.row_of(nurse.session_id))
        assert dialog.end_button.isEnabled()
        save_screenshot(dialog, "session-admin-list.png")
        monkeypatch.setattr(dialog, "confirm_revoke", lambda info: True)
        qtbot.mouseClick(dialog.end_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: nurse_desk.signin.state() == "revoked", timeout=10_000)
        qtbot.waitUntil(lambda: any(s.session_id == nurse.session_id and s.state == "revoked"
                                    for s in dialog.model.sessions()), timeout=10_000)
        dialog.done(0)
    finally:
        tasks.shutdown()


def test_the_next_person_never_sees_the_previous_persons_kept_forms(
        qtbot: QtBot, desk: Workstation, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DraftStore(desk.backend.mongo_db)
    store.save(desk.user_id("doctor"), draft_key=desk.draft_key("doctor"),
               kind="patient.register", title="New patient (Secret Doctorsdraft)",
               reason="Kept when you signed out.",
               payload={"form": {"given_name": "Secret", "family_name": "Doctorsdraft",
                                 "sex": "female", "birth_date": None}})
    _signed_in(qtbot, desk, "doctor")
    qtbot.waitUntil(lambda: desk.window.drafts_bar.isVisible(), timeout=10_000)
    # The nurse's own kept forms cannot be listed (MongoDB trouble, say).
    nurse_id = desk.user_id("nurse")
    real_list = desk.session._drafts.list_for  # noqa: SLF001 (a seam of our own)

    def failing(user_id: int, draft_key: bytes) -> list[object]:
        if user_id == nurse_id:
            raise RuntimeError("MongoDB is not reachable")
        return real_list(user_id, draft_key)  # type: ignore[return-value]

    monkeypatch.setattr(desk.session._drafts, "list_for", failing)  # noqa: SLF001
    desk.window.lock_requested.emit()
    _switch_to(qtbot, desk, "nurse")
    assert not desk.window.drafts_bar.isVisible()
    desk.window.restore_drafts_requested.emit()  # even if asked, nothing opens
    assert desk.patients.editor.dialog is None


def test_an_administrator_reviews_charts_opened_by_breaking_the_glass(
        qtbot: QtBot, desk: Workstation, backend: Backend, qtmodeltester: Any) -> None:
    from datetime import date

    from backend_client.accounts.access import SystemAccess
    from backend_client.audit.service import AuditReports
    from backend_client.dto import PatientDraft
    from backend_client.errors import PermissionDenied
    from desktop.presenters.session import BreakGlassReportPresenter

    system = PatientService(backend.owner_engine, SystemAccess("ws-admin"))
    rec = system.register(PatientDraft(given_name="Glass", family_name="Reviewcase",
                                       birth_date=date(1966, 6, 6), sex="male"),
                          allow_duplicates=True)
    system.set_restricted(rec.id, True)
    ward = build_session_services(backend.engine, backend.mongo_db,
                                  workstation="WARD-7")
    ward.signin.sign_in(desk.users["nurse"], PASSWORD)
    PatientService(backend.engine, ward.access).get(
        rec.id, break_glass_reason="Emergency care: found unresponsive")
    with pytest.raises(PermissionDenied):  # a nurse cannot read the report
        AuditReports(backend.engine, ward.access).break_glass()

    _signed_in(qtbot, desk, "admin")
    assert desk.window.break_glass_action.isVisible()
    tasks = TaskRunner()
    try:
        report = BreakGlassReportPresenter(
            desk.window, AuditReports(backend.engine, desk.services.access), tasks,
            parent=desk.window)
        desk.window.break_glass_report_requested.connect(report.show)
        desk.window.break_glass_action.trigger()
        dialog = report.dialog
        assert dialog is not None
        qtbot.waitUntil(lambda: any(dialog.model.entry_at(r).patient_id == rec.id
                                    for r in range(dialog.model.rowCount())), timeout=10_000)
        row = next(r for r in range(dialog.model.rowCount())
                   if dialog.model.entry_at(r).patient_id == rec.id)
        cells = [dialog.model.index(row, c).data() for c in range(5)]
        assert cells[1:3] == ["Nurse Jonas Whitfield", "WARD-7"]
        assert cells[4] == "Emergency care: found unresponsive"
        # The administrator's role has no patient records: the report says so, and
        # neither the name nor the MRN reaches this workstation.
        assert cells[3] == f"Not shown to your role (record {rec.id})"
        tip = dialog.model.index(row, 3).data(Qt.ItemDataRole.ToolTipRole)
        assert "does not include patient records" in tip
        entry = dialog.model.entry_at(row)
        assert entry.patient_name is None and entry.patient_mrn is None
        assert "Reviewcase" not in " ".join(str(c) for c in cells) + tip
        assert "opened by breaking the glass, last 30 days" in dialog.summary.text()
        assert "names and MRNs are not shown to your role" in dialog.summary.text()
        qtmodeltester.check(dialog.model)
        save_screenshot(dialog, "break-glass-report.png")
        dialog.done(0)
    finally:
        tasks.shutdown()

    # A privacy officer whose account also reads demographics sees whose chart it was.
    officer = f"pri{uuid.uuid4().hex[:6]}"
    AccountService(backend.owner_engine, hashing=FAST).add_user(
        officer, "Privacy Officer", PASSWORD, ["admin", "receptionist"])
    office = build_session_services(backend.engine, backend.mongo_db, workstation="OFFICE")
    office.signin.sign_in(officer, PASSWORD)
    seen = next(e for e in AuditReports(backend.engine, office.access).break_glass()
                if e.patient_id == rec.id)
    assert seen.patient_name == "Reviewcase, Glass"
    assert seen.patient_mrn == rec.mrn and rec.mrn
    from ui.admin.break_glass_report import BreakGlassReportDialog, BreakGlassTableModel

    model = BreakGlassTableModel()
    model.set_entries([seen])
    assert model.index(0, 3).data() == f"Reviewcase, Glass (MRN {rec.mrn})"
    named = BreakGlassReportDialog()
    qtbot.addWidget(named)
    named.show_entries([seen])
    assert "not shown" not in named.summary.text()
    save_screenshot(named, "break-glass-report-named.png")


def test_what_is_being_typed_is_kept_every_half_minute_until_saved_or_discarded(
        qtbot: QtBot, desk: Workstation) -> None:
    from desktop.presenters.session import AUTOSAVED

    _signed_in(qtbot, desk, "doctor")
    _type_new_patient(qtbot, desk)
    desk.clock.now += 29
    desk.session.on_timer_timeout()
    qtbot.waitUntil(lambda: desk.tasks.active() == 0, timeout=5000)
    assert desk.kept("doctor") == []  # nothing before the half minute
    desk.clock.now += 1
    desk.session.on_timer_timeout()
    qtbot.waitUntil(lambda: len(desk.kept("doctor")) == 1, timeout=5000)
    kept = desk.kept("doctor")[0]
    # A crash now would cost nothing typed: the next sign-in offers this copy.
    assert kept.title == "New patient (Halima Typedsofar)" and kept.reason == AUTOSAVED
    dialog = desk.patients.editor.dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.middle_name, "Amal")
    desk.clock.now += 30
    desk.session.on_timer_timeout()
    qtbot.waitUntil(lambda: desk.kept("doctor")[0].payload["form"]["middle_name"]  # type: ignore[index]
                    == "Amal", timeout=5000)
    assert len(desk.kept("doctor")) == 1  # the same form is one copy, replaced
    dialog.done(0)  # discarded
    qtbot.waitUntil(lambda: desk.kept("doctor") == [], timeout=5000)



def test_an_autosave_that_failed_is_tried_again_without_more_typing(
        qtbot: QtBot, desk: Workstation, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend_client.errors import Unavailable

    _signed_in(qtbot, desk, "doctor")
    _type_new_patient(qtbot, desk)
    drafts = desk.session._drafts  # noqa: SLF001 (a seam of our own)
    real_save = drafts.save
    calls: list[str] = []

    def flaky(user_id: int, **kw: Any) -> str:
        calls.append(kw["key"])
        if len(calls) == 1:
            raise Unavailable("mongo", "MongoDB is not reachable")
        return real_save(user_id, **kw)

    monkeypatch.setattr(drafts, "save", flaky)
    desk.clock.now += 30
    desk.session.on_timer_timeout()
    qtbot.waitUntil(lambda: len(calls) == 1 and desk.tasks.active() == 0, timeout=5000)
    assert desk.kept("doctor") == []
    desk.clock.now += 30  # no typing since
    desk.session.on_timer_timeout()
    qtbot.waitUntil(lambda: len(desk.kept("doctor")) == 1, timeout=5000)


def test_ctrl_l_locks_from_inside_a_form_too(qtbot: QtBot, desk: Workstation) -> None:
    _signed_in(qtbot, desk, "nurse")
    _type_new_patient(qtbot, desk)
    dialog = desk.patients.editor.dialog
    assert dialog is not None
    qtbot.keyClick(dialog.given_name, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert desk.window.lock_screen.is_locked() and not dialog.isVisible()
    assert dialog.given_name.text() == "Halima"  # the key did not reach the form


def test_the_same_person_back_finds_the_search_and_the_tab_as_they_left_them(
        qtbot: QtBot, desk: Workstation, backend: Backend) -> None:
    """Unlocking, and signing in again after the session was ended, both bring back the
    search text, its rows, the selected row and the tab the person was on (the lock
    screen promises "Everything you had open is kept as it was")."""
    from datetime import date

    from backend_client.accounts.access import SystemAccess
    from backend_client.dto import PatientDraft

    tag = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:6])  # letters only
    system = PatientService(backend.owner_engine, SystemAccess("ws-lock"))
    for given in ("Ines", "Jules", "Karin"):
        system.register(PatientDraft(given_name=given, family_name=f"Keptsearch{tag}",
                                     birth_date=date(1970, 1, 2), sex="female"),
                        allow_duplicates=True)
    window = desk.window
    # As the front desk wires it (bootstrap): whoever signs in may see the schedule.
    desk.session.signed_in.connect(lambda _actor: window.set_schedule_available(True))
    _signed_in(qtbot, desk, "doctor")
    assert window.work_tabs.currentIndex() == 0  # a first sign-in starts on the schedule
    window.show_patients()
    view = window.patient_list
    qtbot.keyClicks(view.search_box, f"keptsearch{tag}")
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=10_000)
    view.select_patient(view.model.patient_at(1).id)
    chosen = view.model.patient_at(1).id

    def as_left() -> None:
        assert window.work_tabs.currentWidget() is window.splitter
        assert view.search_text() == f"keptsearch{tag}"
        assert view.model.rowCount() == 3
        rows = view.table.selectionModel().selectedRows()
        assert [view.model.patient_at(r.row()).id for r in rows] == [chosen]

    window.lock_requested.emit()
    lock = window.lock_screen
    assert lock.is_locked()
    lock.password_edit.setText(PASSWORD)
    qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not lock.is_locked(), timeout=10_000)
    as_left()

    actor = desk.session.actor
    assert actor is not None
    admin = build_session_services(backend.engine, backend.mongo_db, workstation="ADMIN-2")
    admin.signin.sign_in(desk.users["admin"], PASSWORD)
    admin.admin.revoke(actor.session_id)
    desk.clock.now += 5
    desk.session.on_timer_timeout()
    qtbot.waitUntil(lock.is_locked, timeout=5000)
    lock.password_edit.setText(PASSWORD)
    qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not lock.is_locked(), timeout=10_000)
    save_screenshot(window, "signed-in-again-kept.png")
    as_left()


def test_the_password_typed_as_the_screen_locks_leaves_it_unlocked_for_good(
        qtbot: QtBot, backend: Backend) -> None:
    """Lock and, at once, the password: the unlock reaches the server after the lock it
    lifts, however busy the reading threads are. (The lock used to go by the read pool;
    when that was slower, it landed on the unlocked session and the screen locked again,
    "this session was idle too long".)"""
    with _workstation(qtbot, backend, late="jobs") as desk:
        _signed_in(qtbot, desk, "doctor")
        window, lock = desk.window, desk.window.lock_screen
        window.lock_requested.emit()
        assert lock.is_locked()
        lock.password_edit.setText(PASSWORD)
        qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not lock.is_locked(), timeout=10_000)
        late = desk.late
        assert late is not None
        late.release()  # what the reading threads held starts now
        qtbot.waitUntil(lambda: late.delivered == late.released, timeout=10_000)
        assert not lock.is_locked()
        assert desk.services.signin.state() == "active"


def test_a_state_read_while_locked_and_answered_after_the_unlock_does_not_lock_again(
        qtbot: QtBot, backend: Backend) -> None:
    """A poll that asked while the screen was locked, answered "locked" and came back only
    after the password had unlocked it, is out of date: the screen stays unlocked, and the
    next poll finds the session active."""
    with _workstation(qtbot, backend, late="answers") as desk:
        _signed_in(qtbot, desk, "doctor")
        window, lock = desk.window, desk.window.lock_screen
        window.lock_requested.emit()
        qtbot.waitUntil(lambda: desk.services.signin.state() == "locked", timeout=10_000)
        desk.clock.now += 10  # past the 5 s poll: the workstation asks the server
        desk.session.on_timer_timeout()
        late = desk.late
        assert late is not None
        state = desk.services.signin.state  # what the poll asks
        qtbot.waitUntil(lambda: late.answered(state), timeout=10_000)  # it said "locked"
        lock.password_edit.setText(PASSWORD)
        qtbot.keyClick(lock.password_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not lock.is_locked(), timeout=10_000)
        late.release()
        assert not lock.is_locked()
        assert not desk.session.is_locked
        desk.clock.now += 10  # the next poll asks afresh and finds the session active
        desk.session.on_timer_timeout()
        qtbot.waitUntil(lambda: late.answered(state), timeout=10_000)
        late.release()
        assert not lock.is_locked()
        assert desk.services.signin.state() == "active"

"""The composition root: settings → store clients → services → presenters → windows.

The only place that builds things. Opening the backend may start the local stack, so it
runs on the task runner; the window is shown first and fills in when the stores answer.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from backend_client.config import Settings
from backend_client.dto import PatientRecord
from backend_client.logsafe import log_exception
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.patient_chart import PatientChartPresenter
from desktop.presenters.patient_editor import PatientEditorPresenter
from desktop.presenters.patient_list import PatientListPresenter
from desktop.presenters.session import (
    BreakGlassReportPresenter,
    SessionPresenter,
    SessionsPresenter,
)
from desktop.presenters.store_health import StoreHealthPresenter
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.main_window import MainWindow

if TYPE_CHECKING:
    from backend_client.accounts.signin import SessionServices
    from backend_client.backend import Backend
    from backend_client.chart.api import ChartApi, OrdersApi, TasksApi
    from backend_client.dictation.api import (
        DictationRecorder,
        LocalDictations,
        RecordingsApi,
        UploadQueueApi,
    )
    from backend_client.drafts.store import DraftStore
    from backend_client.health import HealthService
    from backend_client.notes.api import NotesApi
    from backend_client.notes.local_store import LocalNoteStore
    from backend_client.patients.api import PatientsApi
    from backend_client.scheduling.api import SchedulingApi
    from backend_client.sync.cache import SealedCache
    from backend_client.sync.presence import PresenceApi
    from desktop.presenters.booking import BookingPresenter
    from desktop.presenters.chart import ChartTabsPresenter
    from desktop.presenters.chart_section import SectionFactory
    from desktop.presenters.presence import PresencePresenter
    from desktop.presenters.schedule import SchedulePresenter
    from desktop.presenters.tasks import InboxPresenter

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """What :func:`prepare_backend` builds on the pool thread."""

    backend: Backend
    health: HealthService
    patients: PatientsApi
    sessions: SessionServices
    drafts: DraftStore
    scheduling: SchedulingApi
    presence: PresenceApi
    cache: SealedCache
    chart: ChartApi
    orders: OrdersApi
    tasks: TasksApi
    notes: NotesApi
    dictation: DictationParts


@dataclass
class DictationParts:
    """Issue 12: the recorder and this workstation's recordings, the upload queue, and the
    stored recordings (docs/dictation.md)."""

    recorder: DictationRecorder
    local: LocalDictations
    queue: UploadQueueApi
    recordings: RecordingsApi


def _build_dictation_parts(settings: Settings, backend: Backend, access: Any,
                           publisher: Any) -> DictationParts:
    """On the pool thread: the workstation key may come from the OS keyring (D-Bus)."""
    from backend_client.dictation.capture import Recorder
    from backend_client.dictation.keys import workstation_key
    from backend_client.dictation.local_store import LocalDictationStore
    from backend_client.dictation.service import build_recordings, build_upload_queue

    key = workstation_key(settings.data_dir)
    local = LocalDictationStore(settings.data_dir, key=key)
    recordings = build_recordings(backend, access, publisher, workstation_key=key)
    queue = build_upload_queue(backend, recordings, audio=local.audio, workstation_key=key,
                               discard=lambda recording_id, _author: local.remove(
                                   recording_id),
                               keep_days=settings.dictation_keep_days,
                               data_dir=settings.data_dir)
    return DictationParts(Recorder(local), local, queue, recordings)


def prepare_backend(settings: Settings) -> Prepared:
    """Blocking: start/reuse the local stack where needed and bring the schema up to date.

    On the embedded default the app owns its databases, so it migrates them itself (and
    fills an empty one with a demo clinic); a clinic deployment is migrated by its
    administrator (``dr-assistant-admin migrate``). The store libraries are imported here,
    on a pool thread, not before the first paint.
    """
    from backend_client.accounts.signin import build_session_services
    from backend_client.backend import open_backend
    from backend_client.chart.orders import build_orders
    from backend_client.chart.service import build_chart
    from backend_client.chart.tasks import build_tasks
    from backend_client.drafts.store import DraftStore
    from backend_client.health import HealthService
    from backend_client.notes.service import build_notes
    from backend_client.patients.service import PatientService
    from backend_client.scheduling.service import build_scheduling
    from backend_client.sync.cache import SealedCache
    from backend_client.sync.events import RedisChangePublisher
    from backend_client.sync.presence import PresenceService

    backend = open_backend(settings, user="app")
    # Only a database the local stack itself created is migrated and given the demo clinic
    # by the app: a clinic's database is its administrator's (dr-assistant-admin migrate).
    if backend.embedded and not settings.postgres_url:
        from backend_client.schema import migrate

        try:
            migrate(backend)
        except Exception:
            backend.close()
            raise
        _seed_demo_if_empty(backend)
    sessions = build_session_services(
        backend.engine, backend.mongo_db,
        workstation=settings.workstation_name or socket.gethostname(),
        idle_lock=timedelta(minutes=settings.idle_lock_minutes),
        max_age=timedelta(hours=settings.session_max_hours))
    # One publisher and one cache for every service: each committed write tells the
    # other workstations (backend_client/sync), and cached views are never stale.
    publisher = RedisChangePublisher(backend.redis)
    cache = SealedCache(backend.redis)
    return Prepared(backend, HealthService(backend, restart_local=True),
                    PatientService(backend.engine, sessions.access, publisher=publisher),
                    sessions, DraftStore(backend.mongo_db),
                    build_scheduling(backend, sessions.access, publisher, cache=cache),
                    PresenceService(backend.redis, sessions.access, engine=backend.engine,
                                    publisher=publisher),
                    cache,
                    build_chart(backend, sessions.access, publisher),
                    build_orders(backend, sessions.access, publisher),
                    build_tasks(backend, sessions.access, publisher),
                    build_notes(backend, sessions.access, publisher),
                    _build_dictation_parts(settings, backend, sessions.access, publisher))


def _seed_demo_if_empty(backend: Backend) -> None:
    """A first ``make run`` shows a demo clinic instead of an empty list, with a demo
    account for each role (README) when nobody could sign in otherwise. A failure here
    costs the demo data, never the start-up."""
    from backend_client.accounts.service import ensure_demo_accounts, signable_accounts
    from backend_client.seed.loader import seed_demo_if_empty

    owner = backend.owner_engine
    try:
        if seed_demo_if_empty(owner):
            log.info("loaded the demo clinic into the empty database")
        if signable_accounts(owner) == 0:
            created = ensure_demo_accounts(owner)
            log.info("created %d demo accounts", len(created))
    except Exception as exc:
        log_exception(log, "loading the demo clinic failed", exc)


@dataclass
class PatientPresenters:
    list: PatientListPresenter
    chart: PatientChartPresenter
    editor: PatientEditorPresenter
    charts: ChartTabsPresenter | None = None  # issue 11: the chart tabs (with a ChartApi)


def build_patient_presenters(window: MainWindow, api: PatientsApi,
                             tasks: TaskRunner | InlineTaskRunner, *,
                             today: Callable[[], date] = date.today,
                             notifications: ChangeNotifications | None = None,
                             chart: ChartApi | None = None,
                             section_factories: Sequence[SectionFactory] = ()
                             ) -> PatientPresenters:
    """The patient list, the open patient and the write flows, wired to the window; with
    ``notifications``, each follows other workstations' saves. With ``chart`` (issue 11),
    opening a patient whose record is clinical opens their chart as a tab, with the
    chart's own sections and those ``section_factories`` make."""
    presenters = PatientPresenters(
        list=PatientListPresenter(window.patient_list, api, tasks, parent=window,
                                  notifications=notifications),
        chart=PatientChartPresenter(window.patient_header, api, tasks, today=today,
                                    parent=window, notifications=notifications),
        editor=PatientEditorPresenter(window, api, tasks, today=today, parent=window,
                                      notifications=notifications),
    )
    # ``chart`` is the ChartApi (issue 11); the open patient's presenter is ``shown``.
    shown, editor, patient_list = presenters.chart, presenters.editor, presenters.list

    def with_current(action: Callable[[PatientRecord], None]) -> Callable[[int], None]:
        def run(patient_id: int) -> None:
            if shown.current is not None and shown.current.id == patient_id:
                action(shown.current)
        return run

    def saved(record: PatientRecord) -> None:
        shown.show_record(record)
        patient_list.refresh(select_patient_id=record.id)

    window.patient_list.patient_activated.connect(shown.open)
    # The list never highlights another patient than the header shows (issue 11).
    shown.open_abandoned.connect(window.patient_list.select_only)
    window.register_patient_requested.connect(editor.register)
    window.patient_header.edit_requested.connect(with_current(editor.edit))
    window.patient_header.mark_deceased_requested.connect(with_current(editor.mark_deceased))
    editor.patient_saved.connect(saved)
    editor.open_patient_requested.connect(shown.open)
    editor.restore_failed.connect(lambda sentence: window.statusBar().showMessage(sentence,
                                                                                 15000))
    editor.edit_failed.connect(lambda sentence: window.statusBar().showMessage(sentence,
                                                                              15000))
    # A save closes the form: the status bar confirms it, naming the patient (issue 13).
    editor.saved_sentence.connect(lambda sentence: window.statusBar().showMessage(sentence,
                                                                                 15000))
    if chart is not None:
        _build_chart_tabs(window, presenters, chart, tasks, today=today,
                          notifications=notifications, section_factories=section_factories)
    window.set_patients_available(True)
    return presenters


# ---- issue 11, the chart tabs (chart-ui) ---------------------------------------------------
def _build_chart_tabs(window: MainWindow, presenters: PatientPresenters, api: ChartApi,
                      tasks: TaskRunner | InlineTaskRunner, *, today: Callable[[], date],
                      notifications: ChangeNotifications | None,
                      section_factories: Sequence[SectionFactory]) -> None:
    """A patient opened from the list or the schedule opens their chart (clinical roles
    only: reception's record has no clinical part); "Open chart" in the header too."""
    from desktop.presenters.chart import ChartTabsPresenter

    charts = ChartTabsPresenter(window, api, tasks, today=today, notifications=notifications,
                                section_factories=section_factories, parent=window)
    presenters.charts = charts
    patient = presenters.chart

    def opened(record: PatientRecord) -> None:
        if record.clinical:
            charts.open_chart(record)

    def requested(patient_id: int) -> None:
        if patient.current is not None and patient.current.id == patient_id:
            charts.open_chart(patient.current)

    patient.record_opened.connect(opened)
    presenters.editor.patient_saved.connect(charts.patient_saved)
    window.patient_header.chart_requested.connect(requested)
# ---- end of issue 11 -----------------------------------------------------------------------


def reset_patient_views(presenters: PatientPresenters) -> None:
    """Another person is at the workstation: nothing the previous one had open stays."""
    if presenters.charts is not None:
        presenters.charts.close_all()
    presenters.editor.close_all()
    presenters.chart.close()
    presenters.list.reset()


class AppSignals(QObject):
    """Signals:
        ready(): the first screen has its data (every store checked once).
        failed(str): the stores could not be opened; the sentence says why.
    """

    ready = Signal()
    failed = Signal(str)


class App:
    """Everything the running application holds, built by :func:`build_app`."""

    def __init__(self, settings: Settings, tasks: TaskRunner, window: MainWindow) -> None:
        self.settings = settings
        self.tasks = tasks
        self.window = window
        self.signals = AppSignals()
        self.backend: Backend | None = None
        self.health: StoreHealthPresenter | None = None
        self.patients: PatientPresenters | None = None
        self.session: SessionPresenter | None = None
        self.sessions_admin: SessionsPresenter | None = None
        self.break_glass_report: BreakGlassReportPresenter | None = None
        self.notifications: ChangeNotifications | None = None
        self.presence: PresencePresenter | None = None
        self.booking: BookingPresenter | None = None
        self.schedule: SchedulePresenter | None = None
        self.inbox: InboxPresenter | None = None
        # The signed-in author's crash-safe copies of notes being written (issue 11).
        self.note_store: LocalNoteStore | None = None
        # Issue 12: the recorder, the recordings section, the upload worker and their menus.
        self.dictation: Any = None
        self.clinic_lines: tuple[str, ...] = ()
        self.startup_error: str | None = None
        self._built: Prepared | None = None
        # Set by shutdown(): a start still running then closes what it built itself.
        self._closing = False
        self._built_lock = threading.Lock()

    def start(self) -> None:
        self.window.sign_in_view.setEnabled(False)
        self.window.sign_in_view.show_notice("Connecting to the clinic's data…")
        self.tasks.run(self._prepare, self._on_backend_ready, self._on_backend_failed,
                       pool="write")

    def _prepare(self) -> Prepared:  # on a pool thread
        built = prepare_backend(self.settings)
        # If the app is told to quit while this runs (SIGTERM during the first start's
        # seeding), the GUI callback is dropped; whichever of shutdown() and this comes
        # second closes what was built, so the stack's lease is given back either way.
        with self._built_lock:
            self._built = built
            closing = self._closing
        if closing:
            _close_quietly(built.backend)
        return built

    def _on_backend_ready(self, built: Prepared) -> None:
        from desktop.bridges.notifications import RedisNotificationBridge

        self.backend = built.backend
        self.notifications = RedisNotificationBridge(built.backend.redis, parent=self.window)
        self.notifications.live_changed.connect(self.window.sync_status.show_live)
        patients = build_patient_presenters(self.window, built.patients, self.tasks,
                                            notifications=self.notifications,
                                            chart=built.chart,
                                            section_factories=self._chart_sections(built))
        self.patients = patients
        self.session = SessionPresenter(
            self.window, built.sessions.signin, built.drafts, patients.editor, self.tasks,
            idle_lock_seconds=self.settings.idle_lock_minutes * 60, parent=self.window)
        self.session.user_changed.connect(lambda _actor: reset_patient_views(patients))
        self.session.signed_in.connect(
            lambda actor: patients.chart.set_can_restrict(actor.can("patient.restrict")))
        self.sessions_admin = SessionsPresenter(self.window, built.sessions.admin, self.tasks,
                                                parent=self.window)
        self.window.sessions_requested.connect(self.sessions_admin.show)
        from backend_client.audit.service import AuditReports

        self.break_glass_report = BreakGlassReportPresenter(
            self.window, AuditReports(built.backend.engine, built.sessions.access), self.tasks,
            parent=self.window)
        self.window.break_glass_report_requested.connect(self.break_glass_report.show)
        self._build_front_desk(built, patients)
        self._build_inbox(built, patients)
        self._build_note_copies(built, patients)
        self._build_dictation(built, patients)
        self.notifications.start()
        self.session.start()
        self.health = StoreHealthPresenter(
            self.window, built.health, self.tasks,
            self.settings.health_interval_seconds, parent=self.window,
        )
        self.window.refresh_requested.connect(self.health.refresh)
        # Whoever signs in sees at once whether this computer's clock can be trusted.
        self.session.signed_in.connect(lambda _actor: self.health and self.health.refresh())
        self.health.all_checked.connect(self.signals.ready)
        self.health.start()
        self._start_anchoring(built.backend)

    def _build_front_desk(self, built: Prepared, patients: PatientPresenters) -> None:
        """The schedule, the booking flows and presence, following the signed-in person."""
        from desktop.presenters.booking import BookingPresenter
        from desktop.presenters.presence import PresencePresenter
        from desktop.presenters.schedule import SchedulePresenter

        assert self.session is not None and self.notifications is not None
        session, window, notifications = self.session, self.window, self.notifications
        booking = BookingPresenter(
            window, built.scheduling, built.patients, self.tasks, notifications,
            current_user_id=lambda: session.actor.user_id if session.actor else None,
            parent=window)
        schedule = SchedulePresenter(window.schedule_view, built.scheduling, self.tasks,
                                     notifications, booking, parent=window)
        presence = PresencePresenter(built.presence, self.tasks, notifications, parent=window)
        self.booking, self.schedule, self.presence = booking, schedule, presence

        def open_patient(patient_id: int) -> None:
            window.show_patients()
            patients.chart.open(patient_id)

        booking.open_patient_requested.connect(open_patient)
        presence.presence_changed.connect(schedule.presence_changed)
        patients.chart.patient_opened.connect(lambda _r: presence.set_with_patient(True))

        def signed_in(actor: Any) -> None:
            can_schedule = actor.can("appointment.manage") or actor.can("chart.open")
            window.set_schedule_available(can_schedule)
            if can_schedule:
                schedule.start()
            presence.signed_in(actor)
            presence.set_with_patient(patients.chart.current is not None)

        def user_changed(actor: Any) -> None:
            schedule.stop()
            booking.close_all()
            built.cache.forget_keys()
            presence.set_with_patient(False)
            if actor is None:
                presence.signed_out()
                window.set_schedule_available(False)

        session.signed_in.connect(signed_in)
        session.user_changed.connect(user_changed)
        session.locked.connect(lambda: presence.set_away(True))
        session.unlocked.connect(lambda: presence.set_away(False))

    def _build_dictation(self, built: Prepared, patients: PatientPresenters) -> None:
        """The recorder in the chart and the note editor, the Recordings section, My
        dictations, the upload queue and its worker, the transcription worklist, and the
        offer of interrupted recordings at sign-in (desktop/presenters/dictation_app.py)."""
        from desktop.presenters.dictation import build_dictation
        from desktop.presenters.dictation_app import keymap_from_setting

        parts = built.dictation
        self.dictation = build_dictation(
            self.window, patients.charts, parts.recorder, parts.local, parts.queue,
            parts.recordings, self.tasks, self.session,
            keymap=keymap_from_setting(self.settings.dictation_keys), warm_up_ms=3000)

    def _chart_sections(self, built: Prepared) -> list[SectionFactory]:
        """The sections other capabilities add to every chart, made for the person signed
        in when the chart opens (their permissions decide what they may do in it)."""
        from desktop.presenters.notes import make_notes_section
        from desktop.presenters.orders import make_orders_section, make_prescriptions_section
        from desktop.presenters.tasks import make_patient_tasks_section

        tasks, notifications = self.tasks, self.notifications

        def can(permission: str) -> bool:
            actor = self.session.actor if self.session is not None else None
            return actor is not None and actor.can(permission)

        def notes(record: PatientRecord, _caption: str) -> Any:
            actor = self.session.actor if self.session is not None else None
            return make_notes_section(
                record, built.notes, tasks, self.note_store, today=date.today(),
                user_id=actor.user_id if actor and actor.user_id is not None else 0,
                permissions=actor.permissions if actor else frozenset(),
                clinic_lines=self.clinic_lines,
                on_editor=self.dictation.note_editor_hook() if self.dictation else None)

        from desktop.presenters.chart_section import SectionFactory
        from desktop.presenters.notes import NotesSectionPresenter
        from desktop.presenters.orders import OrdersSection, PrescriptionsSection
        from desktop.presenters.tasks import PatientTasksSection

        return [
            SectionFactory(NotesSectionPresenter.key, NotesSectionPresenter.title, notes),
            SectionFactory(OrdersSection.key, OrdersSection.title,
                           lambda record, _caption: make_orders_section(
                               record, built.orders, tasks)),
            SectionFactory(PrescriptionsSection.key, PrescriptionsSection.title,
                           lambda record, _caption: make_prescriptions_section(
                               record, built.orders, tasks,
                               can_prescribe=can("prescription.write"))),
            SectionFactory(PatientTasksSection.key, PatientTasksSection.title,
                           lambda record, _caption: make_patient_tasks_section(
                               record, built.tasks, tasks, notifications=notifications)),
        ]

    def _build_inbox(self, built: Prepared, patients: PatientPresenters) -> None:
        """The signed-in person's tasks: a count in the status bar, Ctrl+Shift+I."""
        from datetime import datetime

        from desktop.presenters.tasks import InboxPresenter

        assert self.session is not None and self.notifications is not None
        session, window = self.session, self.window
        inbox = InboxPresenter(built.tasks, self.tasks, self.notifications, today=date.today,
                               now=lambda: datetime.now().astimezone(), parent=window)
        inbox.attach(window)
        window.track_status_indicator(inbox.badge)
        self.inbox = inbox

        def open_patient(patient_id: int) -> None:
            window.show_patients()
            patients.chart.open(patient_id)

        inbox.open_patient_requested.connect(open_patient)

        def signed_in(actor: Any) -> None:
            if actor.can("task.manage"):
                inbox.start()

        session.signed_in.connect(signed_in)
        session.user_changed.connect(lambda _actor: inbox.stop())
        session.locked.connect(inbox.stop)

        def unlocked() -> None:
            if session.actor is not None and session.actor.can("task.manage"):
                inbox.start()

        session.unlocked.connect(unlocked)

    def _build_note_copies(self, built: Prepared, patients: PatientPresenters) -> None:
        """Each author's notes are copied to this computer every 2 s while written
        (backend_client/notes/local_store.py): opened at sign-in with the author's key,
        closed when they leave; what a crash or an outage kept is offered at sign-in."""
        from backend_client.notes.dto import UnsavedNote
        from backend_client.notes.local_store import LocalNoteStore
        from desktop.presenters.notes_recovery import NotesRecoveryPresenter

        assert self.session is not None
        session, window, tasks = self.session, self.window, self.tasks
        recovery = NotesRecoveryPresenter(tasks, parent=window)
        self.note_recovery = recovery
        path = self.settings.data_dir / "notes.sqlite3"

        def open_note(unsaved: UnsavedNote) -> None:
            charts = patients.charts

            def opened(patient_id: int) -> None:
                if patient_id != unsaved.patient_id or charts is None:
                    return
                charts.chart_opened.disconnect(opened)
                chart = charts.charts.get(patient_id)
                if chart is not None:
                    section: Any = chart.section("notes")
                    chart.view.show_section("notes", focus=True)
                    section.open_unsaved(unsaved)

            if charts is not None:
                charts.chart_opened.connect(opened)
            window.show_patients()
            patients.chart.open(unsaved.patient_id)

        def stored(store: LocalNoteStore) -> None:
            actor = session.actor
            if actor is None or actor.user_id != store.user_id:  # they left meanwhile
                tasks.run(store.close, pool="write")
                return
            self.note_store = store
            recovery.offer(window, store, open_note)

        def signed_in(actor: Any) -> None:
            if actor.user_id is None or len(actor.draft_key) != 32 or not actor.can(
                    "note.write"):
                return
            if self.note_store is not None and self.note_store.user_id == actor.user_id:
                return  # unlocked by the same person: their copies are open already
            user_id, key = actor.user_id, actor.draft_key
            tasks.run(lambda: LocalNoteStore(path, user_id, key), stored,
                      lambda exc: log_exception(log, "opening the note copies failed", exc),
                      pool="write")
            tasks.run(built.orders.clinic_header, self._set_clinic_lines,
                      lambda exc: log_exception(log, "reading the clinic header failed", exc))

        def user_changed(_actor: Any) -> None:
            # After the charts closed (reset_patient_views, connected first): the
            # editors' last copies are queued on the same serial pool before this close.
            store, self.note_store = self.note_store, None
            if store is not None:
                tasks.run(store.close, pool="write")

        session.signed_in.connect(signed_in)
        session.user_changed.connect(user_changed)

    def _set_clinic_lines(self, lines: tuple[str, ...]) -> None:
        self.clinic_lines = lines

    def _start_anchoring(self, backend: Backend) -> None:
        """Once a minute, when the audit trail has grown, its head is written outside the
        database (object store and this data folder), so that cutting or rewriting the
        trail shows in ``audit verify`` (backend_client/audit/anchor.py)."""
        from PySide6.QtCore import QTimer

        from backend_client.audit.anchor import AuditAnchors, write_quietly

        anchors = AuditAnchors(backend.engine, backend.objects,
                               self.settings.data_dir / "audit-anchors")
        timer = QTimer(self.window)
        timer.setInterval(60_000)
        timer.timeout.connect(lambda: self.tasks.run(lambda: write_quietly(anchors),
                                                     pool="write"))
        timer.start()
        self._anchor_timer = timer

    def _on_backend_failed(self, exc: BaseException) -> None:
        sentence = startup_failure_sentence(exc, self.settings)
        log_exception(log, "starting the backend failed", exc)
        self.startup_error = sentence
        self.window.show_startup_error(sentence)
        self.signals.failed.emit(sentence)

    def shutdown(self) -> None:
        if self.health is not None:
            self.health.stop()
        if self.schedule is not None:
            self.schedule.stop()
        if self.presence is not None:
            self.presence.signed_out()
        if self.notifications is not None:
            self.notifications.stop()
        if self.patients is not None and self.patients.charts is not None:
            # Every note being written is copied and saved before the stores close.
            self.patients.charts.close_all()
        if self.dictation is not None:
            # A recording being made is paused and flushed; the upload worker stops.
            self.dictation.shutdown()
        if self.session is not None:
            self.session.stop()
            if self.session.actor is not None and self._built is not None:
                # Quitting ends the session (audited) rather than leaving it to expire, and
                # keeps any form still open (a locked screen's, or on SIGTERM) as a draft.
                forms = self.patients.editor.unsaved_forms() if self.patients else []
                try:
                    self._built.sessions.signin.sign_out(forms, reason="quit")
                except Exception as exc:
                    log_exception(log, "ending the session on quit failed", exc)
        self.tasks.shutdown()
        with self._built_lock:
            self._closing = True
            built = self._built
        backend = self.backend or (built.backend if built is not None else None)
        if backend is not None:
            _close_quietly(backend)


def startup_failure_sentence(exc: BaseException, settings: Settings) -> str:
    """Why the stores could not be opened, for the sign-in page and stderr: the store and
    what is wrong with it, never a traceback or only an exception's name."""
    from backend_client.backend import store_failure

    failure = store_failure(exc, settings)
    if failure is not None:
        return str(failure)
    if isinstance(exc, RuntimeError):  # the local stack's StackError says what and why
        return str(exc)
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return (f"Dr. Assistant cannot use{where}: {(exc.strerror or 'error').lower()} "
                "(check DRA_DATA_DIR).")
    return ("Dr. Assistant could not open the clinic's data because of an unexpected "
            f"problem; the log in {settings.data_dir / 'logs'} says where it happened.")


def _close_quietly(backend: Backend) -> None:
    try:
        backend.close()
    except Exception as exc:  # the app is leaving: say it, never a traceback
        log_exception(log, "closing the stores failed", exc)
        print(f"dr-assistant: the local data stores did not stop cleanly ({exc}); "
              "'dr-assistant-admin stack stop' stops them.", file=sys.stderr)


def build_app(settings: Settings) -> App:
    from desktop.pyside_refcount import keep_true_alive

    keep_true_alive()  # before anything emits (desktop/pyside_refcount.py)
    tasks = TaskRunner()
    window = MainWindow()
    return App(settings=settings, tasks=tasks, window=window)

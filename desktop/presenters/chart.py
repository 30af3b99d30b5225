"""The open charts: one tab per patient in the main window, each with its presenter.

A chart loads its header first (one fast read), then each section in turn, all off the GUI
thread, so the patient is named and their allergies are shown before anything else.
It follows change events for its patient (kind "chart", "note", "patient"; "task",
"encounter" and "appointment" may concern it too): the header is read again and every
section is told which parts changed, so the allergies and alerts in the header of every
open chart of that patient are live. A reconnect of live updates refreshes everything.

Every chart is bound to one patient for its whole life: its tab, its header and every
dialog it opens name that patient, and every write carries that patient's id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from backend_client.chart.api import ChartApi
from backend_client.chart.dto import ChartHeader
from backend_client.dto import PatientRecord
from backend_client.errors import NotFound, PermissionDenied
from backend_client.sync.events import ChangeEvent
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.chart_lists import OWN_SECTIONS, _ListSectionBase, build_own_section
from desktop.presenters.chart_section import ChartSection, SectionFactory
from desktop.presenters.messages import failure_sentence
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.chart.banner import patient_caption, patient_tab_title
from ui.chart.chart_view import ChartView, PlaceholderView
from ui.main_window import MainWindow

CANNOT_READ_HEADER = "The chart's header cannot be read right now"
PLACEHOLDERS = (
    ("recordings", "Re&cordings",
     "Recordings will be here: dictations and consultation recordings for this patient, "
     "with their transcripts. They come with the next release."),
    ("documents", "&Documents",
     "Documents will be here: letters, scans and results filed to this patient's chart. "
     "They come with a later release."),
)


class PlaceholderSection:
    """A section still to come: it says what it will hold, and loads nothing."""

    def __init__(self, key: str, title: str, sentence: str) -> None:
        self.key, self.title = key, title
        self._view = PlaceholderView(sentence)
        self._view.setObjectName(f"chart-{key}")

    def widget(self) -> QWidget:
        return self._view

    def load(self, done: Callable[[], None]) -> None:
        done()

    def refresh(self, actions: frozenset[str]) -> None:
        pass

    def close(self) -> bool:
        return True


class ChartPresenter(QObject):
    """One patient's chart.

    Signals:
        header_shown(object): the ``ChartHeader`` now shown (first load or a refresh).
        loaded(): the header and every section have had their first answer (tests,
            benchmarks).
    """

    header_shown = Signal(object)
    loaded = Signal()

    def __init__(self, record: PatientRecord, api: ChartApi,
                 tasks: TaskRunner | InlineTaskRunner, *,
                 today: Callable[[], date] = date.today,
                 section_factories: Sequence[SectionFactory] = (),
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.record = record
        self.patient_id = record.id
        self._api = api
        self._tasks = tasks
        self._today = today
        self._token = 0
        self._closed = False
        self.header: ChartHeader | None = None
        self.view = ChartView(record, today())
        # Every section is listed at once (its key works at once); each is made on its own
        # turn of the event loop when its time to load comes (or when the user chooses
        # it): making them all with the tab held the GUI thread ~20 ms.
        def own(cls: type[_ListSectionBase]) -> SectionFactory:
            return SectionFactory(cls.key, cls.title, lambda r, _c: build_own_section(
                cls, r, api, tasks, today=today, written=self.on_section_written))

        def placeholder(key: str, title: str, sentence: str) -> SectionFactory:
            return SectionFactory(key, title,
                                  lambda _r, _c: PlaceholderSection(key, title, sentence))

        self._factories: list[SectionFactory] = [own(cls) for cls in OWN_SECTIONS]
        self._factories.extend(section_factories)
        # A section plugged in (dictation's Recordings) replaces the placeholder of its key.
        given = {f.key for f in self._factories}
        self._factories.extend(placeholder(*p) for p in PLACEHOLDERS if p[0] not in given)
        self._made: dict[str, ChartSection] = {}
        self._started: set[str] = set()
        for factory in self._factories:
            self.view.add_section(factory.key, factory.title)
        self.view.section_shown.connect(self.on_view_section_shown)

    @property
    def sections(self) -> list[ChartSection]:
        """The sections made so far, in the chart's order."""
        return [self._made[f.key] for f in self._factories if f.key in self._made]

    def section(self, key: str) -> ChartSection:
        """The section, made now if its turn has not come yet."""
        section = self._made.get(key)
        if section is None:
            factory = next(f for f in self._factories if f.key == key)
            section = factory(self.record, patient_caption(self.record, self._today()))
            self._made[key] = section
            self.view.set_section_widget(key, section.widget())
        return section

    @Slot(str)
    def on_view_section_shown(self, key: str) -> None:
        """Chosen before its turn to load: made and loaded now."""
        if self._closed or key in self._started:
            return
        self._started.add(key)
        self.section(key).load(lambda: None)

    # ------------------------------------------------------------- loading

    def start(self) -> None:
        """The header first; each section once the one before has its first answer."""
        self._read_header(then=lambda: self._load_from(0))

    def _load_from(self, i: int) -> None:
        if self._closed:
            return
        if i >= len(self._factories):
            self.loaded.emit()
            return
        self._tasks.later(lambda: self._load_one(i))

    def _load_one(self, i: int) -> None:
        key = self._factories[i].key
        if self._closed:
            return
        if key in self._started:   # the user chose it first
            self._load_from(i + 1)
            return
        self._started.add(key)
        called = False

        def done() -> None:
            nonlocal called
            if not called:  # a section that calls done twice does not load the rest twice
                called = True
                self._load_from(i + 1)

        self.section(key).load(done)

    def _read_header(self, then: Callable[[], None] | None = None) -> None:
        self._token += 1
        token, patient_id = self._token, self.patient_id

        def loaded(header: ChartHeader) -> None:
            if token == self._token and not self._closed:
                self.header = header
                self.record = header.patient
                self.view.header.show_header(header, self._today())
                self.view.fit_header()
                self.header_shown.emit(header)
            if then is not None:
                then()

        def failed(exc: BaseException) -> None:
            if token == self._token and not self._closed:
                if isinstance(exc, NotFound):
                    sentence = ("This patient's record no longer exists (it may have been "
                                "merged with another). Close this chart and search again.")
                elif isinstance(exc, PermissionDenied):
                    sentence = failure_sentence(exc, CANNOT_READ_HEADER)
                else:
                    sentence = failure_sentence(exc, CANNOT_READ_HEADER)
                self.view.header.show_message(sentence)
                self.view.fit_header()
            if then is not None:
                then()

        self._tasks.run(lambda: self._api.header(patient_id), loaded, failed, pool="read")

    # ------------------------------------------------------------- following changes

    def on_changes(self, events: tuple[ChangeEvent, ...]) -> None:
        pid = self.patient_id
        actions: set[str] = set()
        header = False
        for e in events:
            if e.kind in ("chart", "note") and e.id == pid:
                actions.add(e.action)
                header = header or e.kind == "chart"
            elif e.kind == "patient" and e.id == pid:
                header = True
            elif e.kind == "task":
                actions.add("task")  # a task's id is not the patient's: its section checks
            elif e.kind in ("encounter", "appointment"):
                # Check-in opens an encounter, and today's appointment is in the header;
                # these events name the appointment or encounter, not the patient.
                header = True
                if e.kind == "encounter":
                    actions.add("encounter")
        if header:
            self._read_header()
        if actions:
            self._refresh_sections(frozenset(actions))

    def on_resynced(self) -> None:
        self._read_header()
        self._refresh_sections(frozenset())

    def on_section_written(self, changes: frozenset[str]) -> None:
        """A section saved something: the header follows at once (allergies, the open
        encounter), live updates or not."""
        if not self._closed:
            self._read_header()

    def _refresh_sections(self, actions: frozenset[str]) -> None:
        for section in self.sections:
            section.refresh(actions)

    def close(self, *, force: bool = False) -> bool:
        """False when a section must keep the chart open (unsaved work); ``force`` closes
        anyway (another person is at the workstation: sections kept their work)."""
        # Sections plugged in by others (a note being written) are asked first, and the
        # chart's own lists (which never refuse) only once nobody needs the tab kept: a
        # refused close leaves those working.
        for section in reversed(self.sections):
            if not section.close() and not force:
                return False
        self._closed = True
        self._token += 1
        return True


class ChartTabsPresenter(QObject):
    """The open charts, one tab per patient, after Schedule and Patients.

    Signals:
        chart_opened(int): a chart for this patient id is now the current tab.
        chart_closed(int): the chart for this patient id was closed.
    """

    chart_opened = Signal(int)
    chart_closed = Signal(int)

    def __init__(self, window: MainWindow, api: ChartApi,
                 tasks: TaskRunner | InlineTaskRunner, *,
                 today: Callable[[], date] = date.today,
                 notifications: ChangeNotifications | None = None,
                 section_factories: Sequence[SectionFactory] = (),
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._api = api
        self._tasks = tasks
        self._today = today
        self.section_factories = list(section_factories)
        self.charts: dict[int, ChartPresenter] = {}
        window.chart_close_requested.connect(self.on_window_chart_close_requested)
        if notifications is not None:
            notifications.changed.connect(self.on_notifications_changed)
            notifications.resynced.connect(self.on_notifications_resynced)

    @Slot(object)
    def open_chart(self, record: PatientRecord) -> ChartPresenter:
        """The patient's chart as the current tab: the open one, or a new one."""
        chart = self.charts.get(record.id)
        if chart is None:
            chart = ChartPresenter(record, self._api, self._tasks, today=self._today,
                                   section_factories=self.section_factories, parent=self)
            self.charts[record.id] = chart
            chart.header_shown.connect(lambda header, c=chart: self._retitle(c, header))
            self._window.add_chart_tab(chart.view, patient_tab_title(record),
                                       f"{patient_caption(record, self._today())} "
                                       "(Ctrl+W closes)")
            self._window.show_chart_tab(chart.view)
            chart.start()
        else:
            self._window.show_chart_tab(chart.view)
        self.chart_opened.emit(record.id)
        return chart

    def _retitle(self, chart: ChartPresenter, header: ChartHeader) -> None:
        """The tab follows the record (a corrected name or date of birth)."""
        if self.charts.get(chart.patient_id) is chart:
            self._window.set_chart_tab_title(
                chart.view, patient_tab_title(header.patient),
                f"{patient_caption(header.patient, self._today())} (Ctrl+W closes)")

    def patient_saved(self, record: PatientRecord) -> None:
        """This workstation saved the patient's details: their open chart reads its header
        again (live updates may be off)."""
        chart = self.charts.get(record.id)
        if chart is not None:
            chart.on_changes((ChangeEvent("patient", record.id, record.version),))

    def current(self) -> ChartPresenter | None:
        widget = self._window.work_tabs.currentWidget()
        return next((c for c in self.charts.values() if c.view is widget), None)

    def close_chart(self, patient_id: int, *, force: bool = False) -> bool:
        chart = self.charts.get(patient_id)
        if chart is None:
            return True
        if not chart.close(force=force):
            return False
        del self.charts[patient_id]
        self._window.remove_chart_tab(chart.view)
        chart.view.deleteLater()
        chart.deleteLater()
        self.chart_closed.emit(patient_id)
        return True

    def close_all(self) -> None:
        """Another person is at the workstation: no chart stays on screen."""
        for patient_id in list(self.charts):
            self.close_chart(patient_id, force=True)

    @Slot(QWidget)
    def on_window_chart_close_requested(self, widget: QWidget) -> None:
        chart = next((c for c in self.charts.values() if c.view is widget), None)
        if chart is not None:
            self.close_chart(chart.patient_id)

    @Slot(tuple)
    def on_notifications_changed(self, events: tuple[ChangeEvent, ...]) -> None:
        for chart in list(self.charts.values()):
            chart.on_changes(events)

    @Slot()
    def on_notifications_resynced(self) -> None:
        for chart in list(self.charts.values()):
            chart.on_resynced()

"""The doctor's chart: a tab per patient, the header first, then the sections; the header
follows other workstations; tabs open, switch, cycle and close from the keyboard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import AlertDraft
from backend_client.errors import Unavailable
from backend_client.sync.events import ChangeEvent
from desktop.presenters.chart import ChartPresenter, ChartTabsPresenter
from desktop.presenters.chart_section import SectionFactory
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.chart_support import TODAY, Desk, clinic, close_dialogs, desk, search
from ui.chart.chart_view import ChartView
from ui.chart.list_section import ListSectionView
from ui.main_window import MainWindow


@pytest.fixture
def d(qtbot: QtBot) -> Iterator[Desk]:
    yield desk(qtbot)
    close_dialogs()


def _charts(d: Desk) -> ChartTabsPresenter:
    assert d.presenters.charts is not None
    return d.presenters.charts


def _open(qtbot: QtBot, d: Desk, text: str) -> ChartPresenter:
    """Find the patient and press Enter in the list, as a doctor would."""
    search(qtbot, d, text)
    qtbot.keyClick(d.window.patient_list.search_box, Qt.Key.Key_Return)
    qtbot.keyClick(d.window.patient_list.table, Qt.Key.Key_Return)
    chart = _charts(d).current()
    assert chart is not None
    return chart


def _texts(flow: object) -> list[str]:
    return [w.text() for w in flow.widgets() if isinstance(w, QLabel)]  # type: ignore[attr-defined]


def test_enter_in_the_list_opens_the_chart_as_a_tab_after_schedule_and_patients(
        qtbot: QtBot, d: Desk) -> None:
    chart = _open(qtbot, d, "müller")
    tabs = d.window.work_tabs
    assert tabs.currentWidget() is chart.view and tabs.currentIndex() == 2
    assert tabs.tabText(2) == "Müller, Anna · 12 Mar 1984"
    assert "MRN M0000001" in tabs.tabToolTip(2)
    header = chart.view.header
    assert header.name.text() == "Müller, Anna"
    assert header.facts.accessibleName() == "42 y, Female, Born 12 Mar 1984, MRN M0000001"
    # Allergies as chips, most severe first; the alert separately.
    assert _texts(header.allergies) == ["⚠ Penicillin — anaphylaxis (high)",
                                        "Sticking plaster — rash (low)"]
    assert _texts(header.alerts) == ["Falls risk (moderate)"]
    assert "Consultation (arrived)" in header.today_line.text()
    assert "Open encounter since" in header.today_line.text()
    assert chart.view.section_keys()[:4] == ["timeline", "problems", "medications", "alerts"]
    assert chart.view.section_keys()[-2:] == ["recordings", "documents"]


def test_the_header_loads_first_then_each_section_in_turn(qtbot: QtBot) -> None:
    c = clinic()
    record = c.patients.records[c.muller]
    chart = ChartPresenter(record, c.chart, InlineTaskRunner(), today=lambda: TODAY)
    qtbot.addWidget(chart.view)
    # Before anything is read: the name (known from the opened record), no claim about
    # allergies.
    assert chart.view.header.name.text() == "Müller, Anna"
    assert _texts(chart.view.header.allergies) == ["Allergies are being read…"]
    with qtbot.waitSignal(chart.loaded, timeout=1000):
        chart.start()
    assert c.chart.reads() == ["header", "timeline", "problems", "medications", "alerts"]


def test_every_section_is_listed_at_once_and_one_chosen_before_its_turn_loads_then(
        qtbot: QtBot) -> None:
    """Sections are made one per turn of the event loop as their turn comes; the list and
    its Alt+digit keys are there from the start, and choosing one early makes it at once."""
    c = clinic()
    record = c.patients.records[c.muller]
    tasks = TaskRunner()
    chart = ChartPresenter(record, c.chart, tasks, today=lambda: TODAY)
    qtbot.addWidget(chart.view)
    chart.view.show()
    chart.view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is chart.view, timeout=2000)
    try:
        chart.start()
        assert chart.view.section_keys() == ["timeline", "problems", "medications", "alerts",
                                             "recordings", "documents"]
        assert not chart.view.has_section_widget("medications")
        qtbot.keyClick(chart.view, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
        assert chart.view.current_key() == "medications"
        view = chart.view.section_widget("medications")
        assert isinstance(view, ListSectionView) and view.table.hasFocus()
        qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=2000)
        assert view.model.index(0, 0).data() in ("Metformin", "Ramipril")
        qtbot.waitUntil(lambda: chart.view.has_section_widget("documents"), timeout=2000)
        # Every list was read once: the one chosen early is not read again in its turn.
        assert sorted(c.chart.reads()) == sorted(["header", "timeline", "problems",
                                                  "medications", "alerts"])
    finally:
        tasks.shutdown()


def test_no_known_allergies_only_once_the_empty_list_was_read(qtbot: QtBot) -> None:
    c = clinic()
    record = c.patients.records[c.khan]
    chart = ChartPresenter(record, c.chart, InlineTaskRunner(), today=lambda: TODAY)
    qtbot.addWidget(chart.view)
    c.chart.fail["header"] = Unavailable("postgres", "The clinic's database cannot be "
                                         "reached.")
    chart.start()
    assert _texts(chart.view.header.allergies) == ["Allergies could not be read"]
    assert "cannot be reached" in chart.view.header.message.text()
    chart.on_resynced()
    assert _texts(chart.view.header.allergies) == ["No known allergies"]
    assert chart.view.header.message.isHidden()


def test_a_chart_event_updates_the_allergies_in_the_header_live(
        qtbot: QtBot, d: Desk) -> None:
    chart = _open(qtbot, d, "müller")
    # Another workstation records an allergy and publishes its event.
    d.clinic.chart.seed_alert(d.clinic.muller, AlertDraft("allergy", "Latex", "moderate"))
    d.notifications.changed.emit((ChangeEvent("chart", d.clinic.muller, 0, "alert",
                                              origin="elsewhere"),))
    assert "Latex (moderate)" in _texts(chart.view.header.allergies)
    assert chart.view.section_widget("alerts").model.rowCount() == 4  # type: ignore[attr-defined]
    # An event about someone else changes nothing here.
    reads = len(d.clinic.chart.calls)
    d.notifications.changed.emit((ChangeEvent("chart", d.clinic.khan, 0, "alert"),))
    assert len(d.clinic.chart.calls) == reads


def test_opening_an_open_chart_switches_to_it_and_several_stay_open(
        qtbot: QtBot, d: Desk) -> None:
    muller = _open(qtbot, d, "müller")
    khan = _open(qtbot, d, "khan")
    assert khan is not muller
    assert d.window.work_tabs.count() == 4
    again = _open(qtbot, d, "müller")
    assert again is muller and d.window.work_tabs.count() == 4
    assert d.window.work_tabs.currentWidget() is muller.view


def test_ctrl_tab_cycles_and_ctrl_w_closes_the_current_chart(qtbot: QtBot, d: Desk) -> None:
    muller = _open(qtbot, d, "müller")
    khan = _open(qtbot, d, "khan")
    tabs = d.window.work_tabs
    assert tabs.currentWidget() is khan.view
    qtbot.keyClick(tabs.currentWidget(), Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentIndex() == 1  # round the end: Patients (Schedule is hidden here)
    qtbot.keyClick(tabs.currentWidget(), Qt.Key.Key_PageDown,
                   Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentWidget() is muller.view
    qtbot.keyClick(muller.view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert tabs.count() == 3 and d.clinic.muller not in _charts(d).charts
    # Ctrl+W on Patients closes nothing.
    d.window.show_patients()
    qtbot.keyClick(d.window.patient_list.search_box, Qt.Key.Key_W,
                   Qt.KeyboardModifier.ControlModifier)
    assert tabs.count() == 3


def test_the_close_button_of_a_chart_tab_closes_it_and_fixed_tabs_have_none(
        qtbot: QtBot, d: Desk) -> None:
    _open(qtbot, d, "müller")
    bar = d.window.work_tabs.tabBar()
    from PySide6.QtWidgets import QTabBar
    right = QTabBar.ButtonPosition.RightSide
    assert bar.tabButton(0, right) is None and bar.tabButton(1, right) is None
    close = bar.tabButton(2, right)
    assert close is not None
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert d.window.work_tabs.count() == 2


def test_alt_and_a_place_reach_each_section(qtbot: QtBot, d: Desk) -> None:
    chart = _open(qtbot, d, "müller")
    view: ChartView = chart.view
    for letter, key in ((Qt.Key.Key_2, "problems"), (Qt.Key.Key_3, "medications"),
                        (Qt.Key.Key_4, "alerts"), (Qt.Key.Key_5, "recordings"),
                        (Qt.Key.Key_6, "documents"), (Qt.Key.Key_1, "timeline")):
        qtbot.keyClick(d.window.focusWidget() or view, letter, Qt.KeyboardModifier.AltModifier)
        assert view.current_key() == key, key
    placeholder = view.section_widget("recordings")
    assert "Recordings will be here" in placeholder.label.text()  # type: ignore[attr-defined]


def test_signing_out_closes_every_chart(qtbot: QtBot, d: Desk) -> None:
    from desktop.bootstrap import reset_patient_views

    _open(qtbot, d, "müller")
    _open(qtbot, d, "khan")
    reset_patient_views(d.presenters)
    assert d.window.work_tabs.count() == 2 and not _charts(d).charts


def test_reception_opens_the_patient_without_a_chart(qtbot: QtBot, d: Desk) -> None:
    from dataclasses import replace

    record = d.clinic.patients.records[d.clinic.khan]
    d.clinic.patients.records[d.clinic.khan] = replace(record, clinical=False)
    search(qtbot, d, "khan")
    qtbot.keyClick(d.window.patient_list.search_box, Qt.Key.Key_Return)
    qtbot.keyClick(d.window.patient_list.table, Qt.Key.Key_Return)
    assert d.window.work_tabs.count() == 2
    assert d.window.patient_header.record is not None
    assert not d.window.patient_header.chart_button.isVisibleTo(d.window.patient_header)


def test_open_chart_button_in_the_patient_header(qtbot: QtBot, d: Desk) -> None:
    chart = _open(qtbot, d, "müller")
    _charts(d).close_chart(chart.patient_id)
    d.window.show_patients()
    button = d.window.patient_header.chart_button
    assert button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    opened = _charts(d).current()
    assert opened is not None and opened.patient_id == d.clinic.muller


def test_main_window_without_a_chart_api_has_no_chart_tabs(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.work_tabs.count() == 2
    assert not window.close_chart_action.isEnabled()


def test_a_name_corrected_here_shows_in_the_chart_tab_and_header(qtbot: QtBot, d: Desk) -> None:
    from dataclasses import replace

    chart = _open(qtbot, d, "müller")
    record = d.clinic.patients.records[d.clinic.muller]
    fixed = replace(record, version=record.version + 1,
                    draft=replace(record.draft, family_name="Müller-Lüdenscheidt"))
    d.clinic.chart.patients[d.clinic.muller] = fixed
    d.presenters.editor.patient_saved.emit(fixed)
    assert chart.view.header.name.text() == "Müller-Lüdenscheidt, Anna"
    index = d.window.work_tabs.indexOf(chart.view)
    assert d.window.work_tabs.tabText(index) == "Müller-Lüdenscheidt, Anna · 12 Mar 1984"


class _UnsavedNote:
    """A plugged-in section with unsaved work: it keeps the tab open once."""

    key, title = "notes", "&Notes"

    def __init__(self, record: object, caption: str) -> None:
        self.caption = caption
        self.loaded = False
        self.keep = True
        self.actions: list[frozenset[str]] = []
        self._widget = QLabel(caption)

    def widget(self) -> QLabel:
        return self._widget

    def load(self, done: object) -> None:
        self.loaded = True
        done()  # type: ignore[operator]

    def refresh(self, actions: frozenset[str]) -> None:
        self.actions.append(actions)

    def close(self) -> bool:
        keep, self.keep = self.keep, False
        return not keep


def test_a_plugged_in_section_loads_after_the_own_ones_and_can_keep_the_tab(
        qtbot: QtBot, d: Desk) -> None:
    made: list[_UnsavedNote] = []

    def factory(record: object, caption: str) -> _UnsavedNote:
        made.append(_UnsavedNote(record, caption))
        return made[-1]

    _charts(d).section_factories.append(SectionFactory("notes", "&Notes", factory))
    chart = _open(qtbot, d, "müller")
    note = made[0]
    assert note.loaded and note.caption.startswith("Müller, Anna · born 12 Mar 1984")
    assert chart.view.section_keys() == ["timeline", "problems", "medications", "alerts",
                                         "notes", "recordings", "documents"]
    d.notifications.changed.emit((ChangeEvent("note", d.clinic.muller, 0, "saved"),))
    assert note.actions == [frozenset({"saved"})]
    qtbot.keyClick(chart.view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert d.window.work_tabs.count() == 3  # kept: the note had unsaved work
    # The chart's own lists still work.
    from backend_client.chart.dto import ProblemDraft

    problems = chart.view.section_widget("problems")
    d.clinic.chart.seed_problem(d.clinic.muller, ProblemDraft("Gout"))
    d.notifications.changed.emit((ChangeEvent("chart", d.clinic.muller, 0, "problem"),))
    assert problems.model.rowCount() == 3  # type: ignore[attr-defined]
    qtbot.keyClick(chart.view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert d.window.work_tabs.count() == 2

"""The patient list: search as you type, newest request wins, paging, empty states,
keyboard use. Fakes at our own seam (FakePatientsApi); the real TaskRunner where threads
matter."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backend_client.dto import PatientSummary
from backend_client.errors import Unavailable
from desktop.presenters.patient_list import PatientListPresenter
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.conftest import TODAY, save_screenshot
from tests.gui.fake_patients import FakePatientsApi, draft
from ui.main_window import MainWindow
from ui.patients.patient_list_view import PatientListView
from ui.patients.patient_table_model import (
    APPOINTMENT_TODAY_ROLE,
    BIRTH_DATE,
    NAME,
    PATIENT_ID_ROLE,
    PATIENT_ROLE,
    PatientTableModel,
)

DB_DOWN = "The clinic database cannot be reached right now; try again in a moment."


def _summary(i: int, family: str = "Smith", deceased: bool = False) -> PatientSummary:
    return PatientSummary(id=i, given_name=f"Given{i}", family_name=family, middle_name="",
                          birth_date=date(1980, 1, 1 + i % 28), sex="female",
                          mrn=f"M{i:07d}", phone="", deceased=deceased,
                          matched_on="sounds alike" if i % 2 else "")


def _list(qtbot: QtBot, api: FakePatientsApi, tasks: TaskRunner | InlineTaskRunner,
          debounce_ms: int = 20) -> tuple[PatientListView, PatientListPresenter]:
    view = PatientListView(today=lambda: TODAY)
    qtbot.addWidget(view)
    view.resize(700, 500)
    presenter = PatientListPresenter(view, api, tasks, debounce_ms=debounce_ms, parent=view)
    view.show()
    return view, presenter


def _names(view: PatientListView) -> list[str]:
    return [view.model.index(r, NAME).data() for r in range(view.model.rowCount())]


# ------------------------------------------------------------------------ the model

def _at(hours: int, minutes: int) -> datetime:
    """A time today on the workstation's clock, as the database sends it (aware)."""
    return datetime.combine(TODAY, datetime.min.time().replace(
        hour=hours, minute=minutes)).astimezone()


def test_model_passes_the_model_tester_empty_filled_and_appended(
        qtmodeltester: ModelTester) -> None:
    model = PatientTableModel(today=lambda: TODAY)
    qtmodeltester.check(model)
    model.set_rows([replace(_summary(i), appointment_today=_at(9, i) if i % 3 == 0 else None)
                    for i in range(1, 51)], has_more=True)
    qtmodeltester.check(model)
    model.append_page([_summary(i) for i in range(51, 71)], has_more=False)
    qtmodeltester.check(model)
    model.set_rows([], has_more=False)
    qtmodeltester.check(model)


def test_model_asks_for_the_next_page_once_and_does_no_io(qtbot: QtBot) -> None:
    model = PatientTableModel(today=lambda: TODAY)
    asked: list[bool] = []
    model.more_requested.connect(lambda: asked.append(True))
    model.set_rows([_summary(i) for i in range(1, 4)], has_more=True)
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # Qt asks again while the page is on its way
    assert asked == [True]
    assert not model.canFetchMore(QModelIndex())
    # A page that overlaps (someone registered in between) shows nobody twice.
    model.append_page([_summary(3), _summary(4)], has_more=False)
    assert [model.index(r, 0).data(PATIENT_ID_ROLE) for r in range(4)] == [1, 2, 3, 4]
    assert not model.canFetchMore(QModelIndex())


def test_model_says_deceased_in_words_and_matched_on_in_the_tooltip() -> None:
    model = PatientTableModel(today=lambda: TODAY)
    model.set_rows([_summary(1, deceased=True), _summary(2)], has_more=False)
    dead, alive = model.index(0, NAME), model.index(1, NAME)
    assert dead.data() == "Smith, Given1 — deceased"
    assert "Matched on sounds alike" in dead.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(1, BIRTH_DATE).data() == "3 Jan 1980 (46 y)"
    assert model.index(0, BIRTH_DATE).data() == "2 Jan 1980"  # no age without a death date
    assert alive.data(PATIENT_ROLE).id == 2


def test_a_row_booked_today_shows_the_time_in_the_name_cell() -> None:
    model = PatientTableModel(today=lambda: TODAY)
    model.set_rows([replace(_summary(1, family="Müller"), appointment_today=_at(9, 40)),
                    _summary(2, family="Müller")], has_more=False)
    booked, other = model.index(0, NAME), model.index(1, NAME)
    assert booked.data() == "Today 09:40 · Müller, Given1"
    assert booked.data(Qt.ItemDataRole.AccessibleTextRole) == "Today 09:40 · Müller, Given1"
    assert booked.data(APPOINTMENT_TODAY_ROLE) == "09:40"
    assert "Appointment today at 09:40" in booked.data(Qt.ItemDataRole.ToolTipRole)
    assert other.data() == "Müller, Given2"
    assert other.data(APPOINTMENT_TODAY_ROLE) == ""
    assert "Appointment" not in other.data(Qt.ItemDataRole.ToolTipRole)


def test_the_appointment_time_is_readable_at_700_px(qtbot: QtBot) -> None:
    view = PatientListView(today=lambda: TODAY)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    rows = [replace(_summary(1, family="García-López"), given_name="María José",
                    appointment_today=_at(9, 40)),
            replace(_summary(2, family="Müller"), given_name="Anna",
                    appointment_today=_at(14, 5)),
            *[replace(_summary(i, family="Müller"), given_name=g, matched_on="")
              for i, g in enumerate(("Anabel", "Andrea", "Angela", "Anja", "Anke"), start=3)]]
    view.show_page("müller", rows, has_more=False)
    save_screenshot(view, "patients-list-today.png")
    # The time and an ordinary name fit the name column whole; a name too long for it is
    # cut at its end, after the time (Qt elides on the right).
    metrics = QFontMetrics(view.table.font())
    room = view.table.columnWidth(NAME) - 12  # the cell's margins
    assert metrics.horizontalAdvance(view.model.index(1, NAME).data()) <= room
    assert metrics.horizontalAdvance("Today 09:40 · García-López") <= room
    assert view.table.visualRect(view.model.index(0, NAME)).right() <= (
        view.table.viewport().width())


# ------------------------------------------------------------------------ searching

def test_typing_shows_results_from_one_search_after_the_pause(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    view, presenter = _list(qtbot, clinic, InlineTaskRunner(), debounce_ms=120)
    with qtbot.waitSignal(presenter.results_shown, timeout=2000):
        qtbot.keyClicks(view.search_box, "smith")
    assert [c.args[0] for c in clinic.calls_to("search")] == ["smith"]  # not s, sm, smi...
    # Aisha Khan was born Smithson: found under her previous name, and told so.
    assert _names(view) == ["Khan, Aisha", "Smith, Arthur — deceased", "Smith, John",
                            "Smith, Margaret Ann", "Smithers, Ella"]
    assert "Matched on previous name" in view.model.index(0, NAME).data(
        Qt.ItemDataRole.ToolTipRole)
    assert view.status.text() == "5 patients match “smith”."
    assert view.stack.currentWidget() is view.table


def test_stale_results_are_dropped(qtbot: QtBot, clinic: FakePatientsApi,
                                   runner: TaskRunner) -> None:
    """The answer to "smi" comes last; it must not replace the rows for "smith j"."""
    clinic.search_delays["smi"] = 1.0
    view, presenter = _list(qtbot, clinic, runner)
    qtbot.keyClicks(view.search_box, "smi")
    qtbot.waitUntil(lambda: len(clinic.calls_to("search")) == 1, timeout=2000)
    with qtbot.waitSignal(presenter.results_shown, timeout=2000):
        qtbot.keyClicks(view.search_box, "th j")
    assert _names(view) == ["Smith, John"]
    slow = clinic.calls_to("search")[0]
    assert slow.args[0] == "smi" and not slow.finished
    qtbot.waitUntil(lambda: slow.finished, timeout=3000)
    qtbot.waitUntil(lambda: runner.active() == 0, timeout=3000)
    qtbot.wait(100)  # the stale result's callback has run on the GUI thread by now
    assert _names(view) == ["Smith, John"]
    assert view.status.text() == "1 patient matches “smith j”."


def test_the_gui_thread_keeps_turning_while_a_search_is_slow(
        qtbot: QtBot, clinic: FakePatientsApi, runner: TaskRunner) -> None:
    clinic.search_delays["smith"] = 0.5
    view, presenter = _list(qtbot, clinic, runner)
    started = time.monotonic()
    qtbot.keyClicks(view.search_box, "smith")
    assert time.monotonic() - started < 0.3
    qtbot.waitUntil(lambda: "Searching for “smith”" in view.status.text(), timeout=1000)
    with qtbot.waitSignal(presenter.results_shown, timeout=3000):
        pass
    assert len(_names(view)) == 5


def test_scrolling_to_the_end_fetches_the_next_pages(qtbot: QtBot,
                                                     runner: TaskRunner) -> None:
    api = FakePatientsApi()
    for i in range(120):
        api.add(draft(f"Patient{i:03d}", "Jones"))
    view, presenter = _list(qtbot, api, runner)
    with qtbot.waitSignal(presenter.results_shown, timeout=2000):
        qtbot.keyClicks(view.search_box, "jones")
    assert view.model.rowCount() == 50
    assert "Showing the first 50 patients matching “jones”" in view.status.text()
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() == 100, timeout=2000)
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() == 120, timeout=2000)
    assert not view.model.canFetchMore(QModelIndex())
    assert [c.kwargs["offset"] for c in api.calls_to("search")] == [0, 50, 100]
    assert view.status.text() == "120 patients match “jones”."


def test_a_failed_next_page_keeps_the_rows_already_shown(qtbot: QtBot) -> None:
    api = FakePatientsApi()
    for i in range(60):
        api.add(draft(f"Patient{i:03d}", "Jones"))
    view, presenter = _list(qtbot, api, InlineTaskRunner())
    with qtbot.waitSignal(presenter.results_shown, timeout=2000):
        qtbot.keyClicks(view.search_box, "jones")
    api.fail["search"] = Unavailable("postgres", DB_DOWN)
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.status.text().startswith("⚠"), timeout=2000)
    assert view.model.rowCount() == 50
    assert view.stack.currentWidget() is view.table
    assert not view.model.canFetchMore(QModelIndex())  # no retry storm


def test_a_search_that_finds_nobody_says_what_to_try(qtbot: QtBot,
                                                     clinic: FakePatientsApi) -> None:
    view, presenter = _list(qtbot, clinic, InlineTaskRunner())
    with qtbot.waitSignal(presenter.results_shown, timeout=2000):
        qtbot.keyClicks(view.search_box, "xyz")
    assert view.stack.currentWidget() is view.empty_state
    assert view.empty_state.text() == (
        "No patient matches “xyz”. Check the spelling, try the date of birth, or register "
        "a new patient.")


def test_empty_and_one_letter_searches_explain_instead_of_searching(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    view, presenter = _list(qtbot, clinic, InlineTaskRunner())
    assert "Find a patient by name, date of birth" in view.empty_state.text()
    qtbot.keyClicks(view.search_box, "s")
    qtbot.waitUntil(lambda: "at least 2 characters" in view.empty_state.text(), timeout=2000)
    view.search_box.clear()
    qtbot.waitUntil(lambda: "Find a patient" in view.empty_state.text(), timeout=2000)
    assert clinic.calls_to("search") == []


def test_a_failed_search_is_a_sentence_not_a_traceback(qtbot: QtBot,
                                                       clinic: FakePatientsApi) -> None:
    view, presenter = _list(qtbot, clinic, InlineTaskRunner())
    with qtbot.waitSignal(presenter.results_shown, timeout=2000):
        qtbot.keyClicks(view.search_box, "khan")
    clinic.fail["search"] = Unavailable("postgres", DB_DOWN)
    view.search_box.setText("smith")
    qtbot.waitUntil(lambda: view.status.text().startswith("⚠"), timeout=2000)
    expected = ("The patient list cannot be searched right now: the clinic database cannot "
                "be reached right now; try again in a moment.")
    assert view.status.text() == "⚠ " + expected
    # Khan's row is gone: it is not an answer to "smith".
    assert view.model.rowCount() == 0
    assert view.empty_state.text() == "⚠ " + expected
    # An unexpected error is named by type only, with what to do.
    clinic.fail["search"] = KeyError("boom")
    qtbot.keyClicks(view.search_box, "s")
    qtbot.waitUntil(lambda: "unexpected problem (KeyError)" in view.status.text(), timeout=2000)
    assert "Traceback" not in view.status.text() and "boom" not in view.status.text()
    # And the next search works again.
    view.search_box.setText("kha")
    qtbot.waitUntil(lambda: _names(view) == ["Khan, Aisha"], timeout=2000)
    assert not view.status.text().startswith("⚠")


# ------------------------------------------------------------------------ keyboard

def test_keyboard_only_find_and_open(qtbot: QtBot, clinic: FakePatientsApi) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    view = window.patient_list
    view.model._today = lambda: TODAY  # noqa: SLF001 (fixed date for the screenshot)
    presenter = PatientListPresenter(view, clinic, InlineTaskRunner(), debounce_ms=20)
    window.set_signed_in("Rosa Reception (receptionist)")
    window.show_work()
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.search_box, timeout=2000)

    with qtbot.waitSignal(presenter.results_shown, timeout=2000):
        qtbot.keyClicks(view.search_box, "smi")
    qtbot.keyClick(view.search_box, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is view.table
    assert view.table.currentIndex().row() == 0
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    with qtbot.waitSignal(view.patient_activated, timeout=1000) as opened:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened.args == [view.model.patient_at(1).id]

    # Typing in the results refines the search; Up from the first row goes back.
    qtbot.keyClick(view.table, Qt.Key.Key_T)
    assert QApplication.focusWidget() is view.search_box
    assert view.search_box.text() == "smit"
    qtbot.waitUntil(lambda: view.status.text() == "5 patients match “smit”.", timeout=2000)
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is view.table
    qtbot.keyClick(view.table, Qt.Key.Key_Up)
    assert QApplication.focusWidget() is view.search_box

    # Double-click opens too.
    rect = view.table.visualRect(view.model.index(2, NAME))
    with qtbot.waitSignal(view.patient_activated, timeout=1000) as opened:
        # A real double-click starts with a press (Qt's view checks the pressed index).
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton,
                          pos=rect.center())
    assert opened.args == [view.model.patient_at(2).id]

    # Ctrl+F comes back to the box with its text selected; Escape clears it.
    view.table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is view.search_box
    assert view.search_box.selectedText() == "smit"
    qtbot.keyClick(view.search_box, Qt.Key.Key_Escape)
    assert view.search_box.text() == ""

    window.set_patients_available(True)
    with qtbot.waitSignal(window.register_patient_requested, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)


def test_screenshot_of_the_list_with_results(qtbot: QtBot, clinic: FakePatientsApi) -> None:
    view, presenter = _list(qtbot, clinic, InlineTaskRunner())
    with qtbot.waitSignal(presenter.results_shown, timeout=2000):
        qtbot.keyClicks(view.search_box, "smi")
    view.table.selectRow(2)
    save_screenshot(view, "patients-list.png")
    view.search_box.setText("xyz")
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.empty_state, timeout=2000)
    save_screenshot(view, "patients-list-no-match.png")

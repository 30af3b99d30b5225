"""The chart's lists from the keyboard: add, edit, retire problems, medications and
allergies; start and close encounters. Every dialog names the patient first; a validation
error sits next to its field; a conflict says who changed the item; who recorded each item
and when is shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import ProblemItem
from desktop.presenters.chart import ChartPresenter
from tests.gui.chart_support import Desk, close_dialogs, desk, search
from ui.chart.banner import PatientBanner
from ui.chart.item_dialogs import AlertDialog, ChartFormDialog, ProblemDialog, ReasonDialog
from ui.chart.list_section import ListSectionView


@pytest.fixture
def d(qtbot: QtBot) -> Iterator[Desk]:
    yield desk(qtbot)
    close_dialogs()


def _chart(qtbot: QtBot, d: Desk, text: str = "müller") -> ChartPresenter:
    search(qtbot, d, text)
    qtbot.keyClick(d.window.patient_list.search_box, Qt.Key.Key_Return)
    qtbot.keyClick(d.window.patient_list.table, Qt.Key.Key_Return)
    assert d.presenters.charts is not None
    chart = d.presenters.charts.current()
    assert chart is not None
    return chart


def _section(qtbot: QtBot, chart: ChartPresenter, key: str,
             letter: Qt.Key) -> ListSectionView:
    qtbot.keyClick(chart.view.focusWidget() or chart.view, letter,
                   Qt.KeyboardModifier.AltModifier)
    assert chart.view.current_key() == key
    view = chart.view.section_widget(key)
    assert isinstance(view, ListSectionView)
    assert view.table.hasFocus()
    return view


def _active(qtbot: QtBot, dialog: QWidget) -> None:
    """The form is the active window, as it is on a desktop (its keys go to it)."""
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=2000)


def _dialog(qtbot: QtBot, chart: ChartPresenter, key: str) -> ChartFormDialog:
    dialog = chart.section(key).dialog  # type: ignore[attr-defined]
    assert isinstance(dialog, ChartFormDialog) and dialog.isVisible()
    _active(qtbot, dialog)
    # Every dialog's first line names the patient: name, date of birth, MRN.
    first = dialog.layout().itemAt(0).widget()
    assert isinstance(first, PatientBanner) and first.patient_id == chart.patient_id
    assert first.text().startswith("Müller, Anna · born 12 Mar 1984")
    return dialog


def test_each_list_model_passes_the_model_tester(qtbot: QtBot, d: Desk,
                                                 qtmodeltester: ModelTester) -> None:
    chart = _chart(qtbot, d)
    for key in ("timeline", "problems", "medications", "alerts"):
        view = chart.view.section_widget(key)
        assert isinstance(view, ListSectionView)
        assert view.model.rowCount() > 0
        qtmodeltester.check(view.model)


def test_add_a_problem_from_the_keyboard_with_errors_next_to_their_fields(
        qtbot: QtBot, d: Desk) -> None:
    chart = _chart(qtbot, d)
    view = _section(qtbot, chart, "problems", Qt.Key.Key_B)
    qtbot.keyClick(view.table, Qt.Key.Key_Insert)
    dialog = _dialog(qtbot, chart, "problems")
    assert isinstance(dialog, ProblemDialog)
    # Nothing typed: the form says what is missing, next to the field.
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dialog.error_texts() == {"description": "⚠ Describe the problem."}
    # The service's sentence for a field lands next to that field too.
    dialog.description.setText("Asthma")
    dialog.onset.edit.setText("1 Jan 2030")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.error_texts() == {"onset_date": "⚠ The onset cannot be in the future."}
    assert dialog.isVisible() and dialog.description.text() == "Asthma"
    dialog.onset.edit.setText("3 Feb 2020")
    qtbot.keyClick(dialog.comment, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    rows = [view.model.item_at(i).draft.description for i in range(view.model.rowCount())]
    assert "Asthma" in rows
    assert view.selected_item().draft.description == "Asthma"
    assert view.detail.text().startswith("Recorded by Dr Anna Demo, 27 Nov 2026")
    added = [p for p in d.clinic.chart.problems_.values() if p.draft.description == "Asthma"]
    assert added[0].patient_id == d.clinic.muller


def test_edit_meets_someone_elses_change_and_says_who(qtbot: QtBot, d: Desk) -> None:
    chart = _chart(qtbot, d)
    view = _section(qtbot, chart, "problems", Qt.Key.Key_B)
    item: ProblemItem = view.selected_item()
    qtbot.keyClick(view.table, Qt.Key.Key_F2)
    dialog = _dialog(qtbot, chart, "problems")
    assert isinstance(dialog, ProblemDialog)
    assert dialog.stamp_label.text().startswith("Recorded by Dr Anna Demo, 20 Nov 2026")
    d.clinic.chart.change_behind_the_back("problem", item.id, "Dr Amara Okafor",
                                          comment="Seen by diabetes clinic")
    dialog.comment.setText("Diet-controlled")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "Dr Amara Okafor changed this" in dialog.message.text()
    assert dialog.comment.text() == "Diet-controlled"  # what was typed stays
    # The list now shows their version; saving again is a knowing choice.
    row = view.model.row_of(item.id)
    assert "changed by Dr Amara Okafor" in view.model.index(row, 0).data(
        Qt.ItemDataRole.ToolTipRole)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert d.clinic.chart.problems_[item.id].draft.comment == "Diet-controlled"


def test_retire_needs_a_reason_and_leaves_the_item_visible_on_request(
        qtbot: QtBot, d: Desk) -> None:
    chart = _chart(qtbot, d)
    view = _section(qtbot, chart, "medications", Qt.Key.Key_M)
    assert view.model.rowCount() == 2
    item = view.selected_item()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    dialog = _dialog(qtbot, chart, "medications")
    assert isinstance(dialog, ReasonDialog)
    assert item.draft.name in dialog.intro.text()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.error_texts() == {"reason": "⚠ Say why it is retired."}
    assert not d.clinic.chart.reads().count("retire_medication")
    assert isinstance(dialog.edit, QLineEdit)
    dialog.edit.setText("Entered in error")
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert view.model.rowCount() == 1
    assert view.retired_box is not None
    view.retired_box.setChecked(True)
    assert view.model.rowCount() == 2
    retired = view.model.item_at(view.model.row_of(item.id))
    assert retired.retired_reason == "Entered in error"
    view.table.selectRow(view.model.row_of(item.id))
    assert "Retired because: Entered in error" in view.detail.text()


def test_an_allergy_added_in_the_chart_shows_in_its_header_at_once(
        qtbot: QtBot, d: Desk) -> None:
    chart = _chart(qtbot, d)
    view = _section(qtbot, chart, "alerts", Qt.Key.Key_G)
    qtbot.keyClick(view.table, Qt.Key.Key_Insert)
    dialog = _dialog(qtbot, chart, "alerts")
    assert isinstance(dialog, AlertDialog)
    dialog.description.setText("Latex")
    dialog.severity.setCurrentIndex(dialog.severity.findData("high"))
    dialog.reaction.setText("hives")
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.isVisible()
    chips = [w.text() for w in chart.view.header.allergies.widgets() if isinstance(w, QLabel)]
    assert chips == ["⚠ Latex — hives (high)", "⚠ Penicillin — anaphylaxis (high)",
                     "Sticking plaster — rash (low)"]


def test_start_and_close_an_encounter_with_a_required_summary(qtbot: QtBot, d: Desk) -> None:
    chart = _chart(qtbot, d, "khan")
    view = _section(qtbot, chart, "timeline", Qt.Key.Key_T)
    assert view.model.rowCount() == 0 and "No encounters yet" in view.status.text()
    qtbot.keyClick(view.table, Qt.Key.Key_Insert)
    dialog = chart.section("timeline").dialog  # type: ignore[attr-defined]
    assert isinstance(dialog, ReasonDialog)
    assert dialog.banner.text().startswith("Khan, Aisha · born 5 May 1990")
    dialog.set_text("Sore throat")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert view.model.rowCount() == 1
    assert "Open encounter since" in chart.view.header.today_line.text()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    closing = chart.section("timeline").dialog  # type: ignore[attr-defined]
    assert isinstance(closing, ReasonDialog) and "Sore throat" in closing.intro.text()
    qtbot.mouseClick(closing.save_button, Qt.MouseButton.LeftButton)
    assert closing.error_texts() == {
        "summary": "⚠ A summary is required to close the encounter."}
    closing.set_text("Viral pharyngitis; fluids and rest.")
    qtbot.mouseClick(closing.save_button, Qt.MouseButton.LeftButton)
    assert not closing.isVisible()
    assert view.model.index(0, 1).data() == "Closed"
    assert "Viral pharyngitis" in view.model.index(0, 3).data()
    assert "no open encounter" in chart.view.header.today_line.text()
    # A closed encounter cannot be closed again; the list says so.
    qtbot.keyClick(view.table, Qt.Key.Key_F2)
    assert "already closed" in view.status.text()


def test_an_action_without_a_chosen_row_says_what_to_do(qtbot: QtBot, d: Desk) -> None:
    chart = _chart(qtbot, d)
    view = _section(qtbot, chart, "problems", Qt.Key.Key_B)
    view.table.clearSelection()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert chart.section("problems").dialog is None  # type: ignore[attr-defined]
    assert "Choose a row first" in view.detail.text()


def test_a_long_timeline_is_shown_a_page_at_a_time_as_it_scrolls(
        qtbot: QtBot, d: Desk, qtmodeltester: ModelTester) -> None:
    from datetime import UTC, datetime, timedelta

    from ui.chart.list_section import PAGE

    first = datetime(2015, 1, 5, 9, 0, tzinfo=UTC)
    for i in range(2 * PAGE + 10):
        d.clinic.chart.seed_encounter(d.clinic.khan, first + timedelta(days=20 * i),
                                      f"Visit {i}", summary="Seen.")
    chart = _chart(qtbot, d, "khan")
    view = _section(qtbot, chart, "timeline", Qt.Key.Key_T)
    assert view.model.total() == 2 * PAGE + 10 and view.model.rowCount() == PAGE
    assert view.model.index(0, 3).data() == f"Visit {2 * PAGE + 9} — Seen."  # newest first
    # Ctrl+End goes to the last row shown; the view asks for more there.
    qtbot.keyClick(view.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.model.rowCount() > PAGE, timeout=2000)
    qtmodeltester.check(view.model)

"""Two fixes found by trying the app as a new user would (issue 11).

(a) The wrong-patient risk: open Anna Müller, then choose Seán O'Brien (restricted) and
cancel the break-the-glass dialog. The list used to highlight O'Brien while the header
still showed Müller, with Edit and Record death acting on Müller. Now the list goes back
to the patient shown, and the header says who is still shown.

(b) Recording a death was one step, dated today, without a source: now a form with the
patient's banner, a required date (never filled in for the user; not in the future, not
before birth), a required source, then a confirmation naming the patient with "Go back" as
the default.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from tests.gui.chart_support import Desk, close_dialogs, desk, search
from ui.auth.break_glass_dialog import BreakGlassDialog
from ui.chart.banner import PatientBanner
from ui.patients.deceased_dialog import MarkDeceasedDialog


@pytest.fixture
def d(qtbot: QtBot) -> Iterator[Desk]:
    yield desk(qtbot)
    close_dialogs()


def _choose(qtbot: QtBot, d: Desk, patient_id: int) -> None:
    """Select the patient's row in the list and press Enter."""
    d.window.show_patients()
    view = d.window.patient_list
    assert view.select_patient(patient_id)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)


def _selected_in_list(d: Desk) -> int | None:
    return d.window.patient_list._selected_id()  # noqa: SLF001 (what the list highlights)


def test_cancelling_break_the_glass_puts_the_list_back_on_the_shown_patient(
        qtbot: QtBot, d: Desk) -> None:
    search(qtbot, d, "M000000")  # every patient's MRN starts so
    _choose(qtbot, d, d.clinic.muller)
    header = d.window.patient_header
    assert header.record is not None and header.record.id == d.clinic.muller

    _choose(qtbot, d, d.clinic.obrien)
    glass = d.presenters.chart.break_glass_dialog
    assert isinstance(glass, BreakGlassDialog) and glass.isVisible()
    glass.reject()

    # Exactly one current patient: the list highlights the one the header shows.
    assert header.record is not None and header.record.id == d.clinic.muller
    assert _selected_in_list(d) == d.clinic.muller
    assert "not opened" in header.message.text()
    assert "Still shown: Müller, Anna" in header.message.text()
    # The actions carry that patient's id.
    with qtbot.waitSignal(header.edit_requested) as edit:
        qtbot.mouseClick(header.edit_button, Qt.MouseButton.LeftButton)
    assert edit.args == [d.clinic.muller]
    # No chart opened for the patient who was not opened.
    assert d.presenters.charts is not None and d.clinic.obrien not in d.presenters.charts.charts


def test_a_failed_open_with_nobody_shown_leaves_nothing_selected(
        qtbot: QtBot, d: Desk) -> None:
    search(qtbot, d, "M000000")
    _choose(qtbot, d, d.clinic.obrien)
    glass = d.presenters.chart.break_glass_dialog
    assert glass is not None
    glass.reject()
    assert d.window.patient_header.record is None
    assert _selected_in_list(d) is None


def test_the_header_buttons_wait_while_another_patient_is_being_opened(
        qtbot: QtBot, d: Desk) -> None:
    search(qtbot, d, "M000000")
    _choose(qtbot, d, d.clinic.muller)
    header = d.window.patient_header
    header.show_loading()  # what open() shows until the next record arrives
    assert not header.edit_button.isEnabled() and not header.deceased_button.isEnabled()
    header.show_message("The restricted chart was not opened.")
    assert header.edit_button.isEnabled() and header.deceased_button.isEnabled()


def _death_dialog(qtbot: QtBot, d: Desk) -> MarkDeceasedDialog:
    search(qtbot, d, "müller")
    _choose(qtbot, d, d.clinic.muller)
    d.window.show_patients()
    qtbot.mouseClick(d.window.patient_header.deceased_button, Qt.MouseButton.LeftButton)
    dialog = d.presenters.editor.deceased
    assert isinstance(dialog, MarkDeceasedDialog) and dialog.isVisible()
    return dialog


def test_recording_a_death_asks_for_the_date_and_source_then_confirms_naming_the_patient(
        qtbot: QtBot, d: Desk) -> None:
    dialog = _death_dialog(qtbot, d)
    first = dialog.layout().itemAt(0).widget()
    assert isinstance(first, PatientBanner) and first.patient_id == d.clinic.muller
    assert first.text().startswith("Müller, Anna · born 12 Mar 1984")
    assert dialog.date_field.text() == ""  # never today by default

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.date_error.text() == "⚠ Enter the date of death."
    assert dialog.source_error.text() == "⚠ Choose where the news of the death comes from."
    dialog.date_field.edit.setText("28 Nov 2026")  # the day after "today"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "cannot be in the future" in dialog.date_error.text()
    dialog.date_field.edit.setText("1 Jan 1980")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "cannot be before the date of birth (12 Mar 1984)" in dialog.date_error.text()
    assert dialog.confirmation is None
    assert d.clinic.patients.calls_to("mark_deceased") == []

    dialog.date_field.edit.setText("20 Nov 2026")
    dialog.source.setCurrentIndex(dialog.source.findData("hospital"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    box = dialog.confirmation
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert box.text() == "Record the death of Müller, Anna, born 12 Mar 1984, MRN M0000001?"
    assert "20 November 2026" in box.informativeText()
    assert "Hospital or hospice notification" in box.informativeText()
    # The default answer is the harmless one: Enter goes back, nothing is saved.
    assert box.defaultButton().text() == "Go back"
    box.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is box, timeout=2000)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert not box.isVisible() and dialog.isVisible()
    assert d.clinic.patients.calls_to("mark_deceased") == []

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    box = dialog.confirmation
    assert box is not None
    record = next(b for b in box.buttons() if b.text() == "Record death")
    qtbot.mouseClick(record, Qt.MouseButton.LeftButton)
    calls = d.clinic.patients.calls_to("mark_deceased")
    assert [(c.args[0], c.args[2], c.kwargs["source"]) for c in calls] == [
        (d.clinic.muller, date(2026, 11, 20), "hospital")]
    assert not dialog.isVisible()
    assert d.window.patient_header.deceased_badge.text() == "DECEASED 20 Nov 2026"


def test_a_service_refusal_of_the_date_shows_next_to_the_date(qtbot: QtBot, d: Desk) -> None:
    from backend_client.errors import ValidationError

    dialog = _death_dialog(qtbot, d)
    d.clinic.patients.fail["mark_deceased"] = ValidationError(
        "deceased_at", "the date of death cannot be in the future")
    dialog.date_field.edit.setText("20 Nov 2026")
    dialog.source.setCurrentIndex(1)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.confirmation is not None
    record = next(b for b in dialog.confirmation.buttons() if b.text() == "Record death")
    qtbot.mouseClick(record, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.date_error.text() == "⚠ The date of death cannot be in the future."

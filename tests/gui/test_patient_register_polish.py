"""The register form as a newcomer meets it (issue 13): a date like 12.03.1984 read in the
clinic's order and shown in words, an error that goes once its field is fixed, no empty
previous-name row, a save confirmed naming the patient. The whole wiring (MainWindow +
build_patient_presenters) over FakePatientsApi."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from backend_client.dto import ClinicLocale
from backend_client.errors import ValidationError
from desktop.bootstrap import PatientPresenters
from tests.gui.conftest import save_screenshot
from tests.gui.fake_patients import FakePatientsApi
from ui.main_window import MainWindow
from ui.patients.patient_dialog import PatientDialog

Desk = tuple[MainWindow, PatientPresenters, FakePatientsApi]


@pytest.fixture
def desk(reception_desk: Desk) -> Desk:
    reception_desk[0].resize(1280, 800)
    return reception_desk


def _register(qtbot: QtBot, window: MainWindow, presenters: PatientPresenters) -> PatientDialog:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = presenters.editor.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=2000)
    return dialog


def _save(qtbot: QtBot, dialog: PatientDialog) -> None:
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)


def _fill(qtbot: QtBot, dialog: PatientDialog, born: str) -> None:
    qtbot.keyClicks(dialog.given_name, "Ada")
    qtbot.keyClicks(dialog.family_name, "Okafor")
    qtbot.keyClicks(dialog.birth_date.edit, born)
    dialog.sex.setCurrentIndex(dialog.sex.findData("female"))
    qtbot.keyClicks(dialog.phone, "917 206 5843")


@pytest.mark.parametrize(("day_first", "echo", "born"), [
    (True, "= 12 March 1984, day first", date(1984, 3, 12)),
    (False, "= 3 December 1984, month first", date(1984, 12, 3)),
])
def test_an_ambiguous_date_is_read_in_the_clinics_order_and_shown_in_words(
        qtbot: QtBot, desk: Desk, day_first: bool, echo: str, born: date) -> None:
    window, presenters, api = desk
    api.clinic = ClinicLocale("US", day_first)
    dialog = _register(qtbot, window, presenters)
    qtbot.keyClicks(dialog.birth_date.edit, "12.03.1984")
    assert dialog.birth_date.echo.text() == echo
    dialog.birth_date.edit.setText("13.03.1984")  # only one reading is a date
    assert dialog.birth_date.echo.text() == "= 13 March 1984"
    dialog.birth_date.edit.clear()
    _fill(qtbot, dialog, "12.03.1984")
    _save(qtbot, dialog)
    assert not dialog.isVisible()
    saved = api.records[max(api.records)]
    assert saved.draft.birth_date == born  # the form showed what was saved


def test_until_the_clinics_order_is_known_such_a_date_is_called_ambiguous(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api = desk
    api.fail["clinic_locale"] = ConnectionError("no database")
    dialog = _register(qtbot, window, presenters)
    qtbot.keyClicks(dialog.birth_date.edit, "12.03.1984")
    assert dialog.birth_date.echo.text().startswith("⚠ Could be 12 March or 3 December")


def test_an_error_goes_when_its_field_is_changed_and_the_others_stay(
        qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api = desk
    dialog = _register(qtbot, window, presenters)
    _fill(qtbot, dialog, "12 Mar 1984")
    api.fail["register"] = ValidationError.of({
        "phone": "'917 206 5843x' is not a phone number",
        "email": "'ada@' is not an e-mail address like name@example.org",
        "identifiers.0.value": "is required (or remove the identifier)",
    })
    row = dialog.add_identifier_row()
    _save(qtbot, dialog)
    assert dialog.field_error("phone") == "⚠ '917 206 5843x' is not a phone number."
    assert dialog.summary_plain_text().startswith("Please correct these 3 things")

    qtbot.keyClick(dialog.phone, Qt.Key.Key_Backspace)
    assert dialog.field_error("phone") == ""
    assert dialog.phone.property("error") is False
    assert dialog.field_error("email") == "⚠ 'ada@' is not an e-mail address like " \
                                          "name@example.org."
    summary = dialog.summary_plain_text()
    assert summary.startswith("Please correct these 2 things") and "Phone" not in summary
    assert dialog.phone.hasFocus()  # typing is not interrupted

    qtbot.keyClicks(row.value, "AB1")
    assert dialog.field_error("identifiers.0.value") == ""
    qtbot.keyClicks(dialog.email, "x.org")
    assert dialog.field_error("email") == ""
    assert not dialog.summary.isVisible()


def test_a_new_patient_has_no_empty_previous_name_row(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, _ = desk
    dialog = _register(qtbot, window, presenters)
    assert dialog.previous_name_rows == []
    add = next(b for b in dialog.findChildren(type(dialog.save_button))
               if b.text() == "Add previous name")
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    assert len(dialog.previous_name_rows) == 1
    assert dialog.previous_name_rows[0].given.hasFocus()


def test_a_saved_patient_is_confirmed_naming_them(qtbot: QtBot, desk: Desk) -> None:
    window, presenters, api = desk
    dialog = _register(qtbot, window, presenters)
    _fill(qtbot, dialog, "24 Jun 1984")
    with qtbot.waitSignal(presenters.editor.saved_sentence, timeout=2000):
        _save(qtbot, dialog)
    record = api.records[max(api.records)]
    assert window.statusBar().currentMessage() == \
        f"Registered Okafor, Ada — MRN {record.mrn}."
    save_screenshot(window, "patients-saved-confirmation.png")

    presenters.editor.edit(record)
    edit = presenters.editor.dialog
    assert edit is not None
    qtbot.keyClicks(edit.email, "ada@example.org")
    _save(qtbot, edit)
    assert window.statusBar().currentMessage() == \
        f"Saved changes to Okafor, Ada — MRN {record.mrn}."


@pytest.mark.parametrize("width", [1280, 700])
def test_screenshot_of_the_register_form_with_a_phone_and_an_ambiguous_date(
        qtbot: QtBot, desk: Desk, width: int) -> None:
    window, presenters, api = desk
    api.clinic = ClinicLocale("US", False)
    dialog = _register(qtbot, window, presenters)
    _fill(qtbot, dialog, "03.04.1984")
    api.fail["register"] = ValidationError.of({
        "emergency_contact.phone": "'555-0199' has no area code; write it with the area code"})
    qtbot.keyClicks(dialog.contact_name, "Ben Okafor")
    qtbot.keyClicks(dialog.contact_phone, "555-0199")
    _save(qtbot, dialog)
    dialog.resize(width, 800 if width > 700 else 760)
    echo = dialog.birth_date.echo
    assert echo.text() == "= 4 March 1984, month first"
    save_screenshot(dialog, f"patients-register-{width}.png")
    # The reading is whole on one line: beside the field at 1280 px, under it at 700.
    assert echo.width() >= echo.fontMetrics().horizontalAdvance(echo.text())
    assert echo.height() < 2 * echo.fontMetrics().height()
    beside = echo.geometry().top() < dialog.birth_date.edit.geometry().bottom()
    assert beside == (width == 1280)

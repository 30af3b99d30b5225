"""Register and edit: field errors, the duplicate warning. The whole wiring (MainWindow +
build_patient_presenters) over FakePatientsApi. Someone else's save meeting an open form:
test_patient_conflict.py."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backend_client.dto import DuplicateCandidate
from backend_client.errors import ValidationError
from desktop.bootstrap import PatientPresenters
from tests.gui.conftest import TODAY, save_screenshot
from tests.gui.fake_patients import FakePatientsApi
from ui.main_window import MainWindow
from ui.patients.patient_dialog import DuplicateWarningDialog, PatientDialog, field_sentence


@pytest.fixture
def app(reception_desk: tuple[MainWindow, PatientPresenters, FakePatientsApi]
        ) -> tuple[MainWindow, PatientPresenters, FakePatientsApi]:
    return reception_desk


def _register_dialog(qtbot: QtBot, window: MainWindow,
                     presenters: PatientPresenters) -> PatientDialog:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = presenters.editor.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "Register patient"
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=2000)
    assert QApplication.focusWidget() is dialog.given_name
    return dialog


def _fill(qtbot: QtBot, dialog: PatientDialog, given: str, family: str, born: str,
          sex: str) -> None:
    qtbot.keyClicks(dialog.given_name, given)
    qtbot.keyClicks(dialog.family_name, family)
    qtbot.keyClicks(dialog.birth_date.edit, born)
    dialog.sex.setCurrentIndex(dialog.sex.findData(sex))


def test_field_errors_appear_next_to_each_field_and_in_a_summary(
        qtbot: QtBot, app: tuple[MainWindow, PatientPresenters, FakePatientsApi]) -> None:
    window, presenters, api = app
    dialog = _register_dialog(qtbot, window, presenters)
    qtbot.keyClicks(dialog.given_name, "Margret")
    qtbot.keyClicks(dialog.family_name, "Smith")
    qtbot.keyClicks(dialog.birth_date.edit, "31/02/1948")
    qtbot.keyClicks(dialog.phone, "12")
    row = dialog.add_identifier_row()
    qtbot.keyClicks(row.issuer, "NHS")
    qtbot.keyClicks(dialog.contact_relationship, "son")
    assert dialog.birth_date.echo.text() == "⚠ 31 February 1948 does not exist."
    api.fail["register"] = ValidationError.of({
        "birth_date": "31 February 1948 does not exist",
        "sex": "choose female, male, other or unknown",
        "phone": "a phone number has 7 to 15 digits (this one has 2)",
        "identifiers.0.value": "is required (or remove the identifier)",
        "emergency_contact.name": "is required for an emergency contact",
        "emergency_contact.phone": "give a phone number (or an e-mail address)",
    })
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    submitted = api.calls_to("register")[0].args[0]
    assert submitted.birth_date == "31/02/1948"  # as typed: the service explains
    assert dialog.isVisible()
    assert dialog.field_error("birth_date") == "⚠ 31 February 1948 does not exist."
    assert dialog.field_error("sex") == "⚠ Choose female, male, other or unknown."
    assert dialog.field_error("phone") == "⚠ A phone number has 7 to 15 digits (this one has 2)."
    assert dialog.field_error("identifiers.0.value") == (
        "⚠ Identifier 1 number is required (or remove the identifier).")
    assert dialog.field_error("emergency_contact.name") == (
        "⚠ Emergency contact name is required for an emergency contact.")
    assert dialog.field_error("given_name") == ""
    summary = dialog.summary_plain_text()
    assert summary.startswith("Please correct these 6 things before saving:")
    for line in ("Date of birth: 31 February 1948 does not exist.",
                 "Sex: Choose female, male, other or unknown.",
                 "Phone: A phone number has 7 to 15 digits (this one has 2).",
                 "Emergency contact phone: Give a phone number (or an e-mail address)."):
        assert line in summary
    # Colour is not the only sign: the editor's accessible description says it too.
    assert dialog.birth_date.edit.accessibleDescription().startswith("Date of birth:")
    assert dialog.birth_date.edit.property("error") is True
    # What was typed is all still there, and the first field in error has the focus.
    assert (dialog.given_name.text(), dialog.phone.text(), row.issuer.text()) == (
        "Margret", "12", "NHS")
    assert QApplication.focusWidget() is dialog.birth_date.edit
    save_screenshot(dialog, "patients-dialog-errors.png")

    # The summary's link takes the keyboard to the field.
    dialog.on_summary_text_link_activated("phone")
    assert QApplication.focusWidget() is dialog.phone
    dialog.on_summary_text_link_activated("identifiers.0.value")
    assert QApplication.focusWidget() is row.value
    save_screenshot(dialog, "patients-dialog-errors-identifiers.png")

    # Fixed and saved: the dialog closes, the header shows the new patient.
    dialog.birth_date.edit.setText("1948-02-29")
    dialog.sex.setCurrentIndex(dialog.sex.findData("female"))
    dialog.phone.setText("020 7946 0018")
    row.issuer.clear()
    dialog.contact_relationship.clear()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert window.patient_header.name.text() == "Smith, Margret"
    assert api.calls_to("register")[-1].args[0].identifiers == ()


def test_the_service_sentence_names_the_field() -> None:
    assert field_sentence("Given name", "is required") == "Given name is required."
    assert field_sentence("Sex", "choose female or male", named=True) == (
        "Sex: Choose female or male.")
    assert field_sentence("Sex", "choose female or male") == "Choose female or male."


def test_a_likely_duplicate_is_shown_before_saving_and_can_be_registered_anyway(
        qtbot: QtBot, app: tuple[MainWindow, PatientPresenters, FakePatientsApi],
        qtmodeltester: ModelTester) -> None:
    window, presenters, api = app
    existing = api.records[1]
    api.duplicates = [
        DuplicateCandidate(api.summary(existing), ("same date of birth and a similar name",)),
        DuplicateCandidate(api.summary(api.records[2]), ("same insurance number",)),
    ]
    dialog = _register_dialog(qtbot, window, presenters)
    _fill(qtbot, dialog, "Margret", "Smith", "24 Jun 1948", "female")
    assert dialog.birth_date.echo.text() == "= 24 June 1948"
    qtbot.keyClick(dialog.family_name, Qt.Key.Key_Return)  # Enter alone does not save...
    assert api.calls_to("register") == []
    qtbot.keyClick(dialog.family_name, Qt.Key.Key_Return,  # ...Ctrl+Enter does
                   Qt.KeyboardModifier.ControlModifier)

    warning = presenters.editor.duplicates
    assert isinstance(warning, DuplicateWarningDialog) and warning.isVisible()
    assert len(api.records) == 5  # nothing saved yet
    cells = [[warning.model.index(r, c).data() for c in range(5)] for r in range(2)]
    assert cells[0] == ["Smith, Margaret Ann", "24 Jun 1948", "Female", "M0000001",
                        "Same date of birth and a similar name"]
    assert cells[1][4] == "Same insurance number"
    assert warning.selected_patient_id() == existing.id
    qtmodeltester.check(warning.model)
    save_screenshot(warning, "patients-duplicate-warning.png")

    qtbot.mouseClick(warning.register_button, Qt.MouseButton.LeftButton)
    final = api.calls_to("register")[-1]
    assert final.kwargs["allow_duplicates"] is True
    assert final.args[0].given_name == "Margret"
    assert not dialog.isVisible()
    assert len(api.records) == 6
    assert window.patient_header.name.text() == "Smith, Margret"


def test_a_likely_duplicate_can_be_opened_instead(
        qtbot: QtBot, app: tuple[MainWindow, PatientPresenters, FakePatientsApi]) -> None:
    window, presenters, api = app
    existing = api.records[1]
    api.duplicates = [DuplicateCandidate(api.summary(existing), ("same MRN",))]
    dialog = _register_dialog(qtbot, window, presenters)
    _fill(qtbot, dialog, "Margaret", "Smith", "1948-06-24", "female")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    warning = presenters.editor.duplicates
    assert warning is not None
    qtbot.mouseClick(warning.open_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and not warning.isVisible()
    assert [c.kwargs["allow_duplicates"] for c in api.calls_to("register")] == [False]
    assert len(api.records) == 5
    assert window.patient_header.record is not None
    assert window.patient_header.record.id == existing.id


def test_closing_a_form_with_typing_in_it_asks_first(
        qtbot: QtBot, app: tuple[MainWindow, PatientPresenters, FakePatientsApi]) -> None:
    window, presenters, api = app
    dialog = _register_dialog(qtbot, window, presenters)
    qtbot.keyClicks(dialog.given_name, "Ann")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    box = dialog.discard_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert dialog.isVisible()
    keep = next(b for b in box.buttons() if b.text() == "Keep editing")
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.given_name.text() == "Ann"
    dialog.reject()
    discard = next(b for b in dialog.discard_box.buttons() if b.text() == "Discard changes")
    qtbot.mouseClick(discard, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert api.calls_to("register") == []


def test_recording_a_death_updates_the_header(
        qtbot: QtBot, app: tuple[MainWindow, PatientPresenters, FakePatientsApi]) -> None:
    window, presenters, api = app
    presenters.chart.open(2)
    qtbot.mouseClick(window.patient_header.deceased_button, Qt.MouseButton.LeftButton)
    dialog = presenters.editor.deceased
    assert dialog is not None and dialog.isVisible()
    dialog.date_field.edit.setText("03/04/2026")  # could be 3 April or 4 March
    dialog.source.setCurrentIndex(dialog.source.findData("certificate"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "Could be 3 April or 4 March" in dialog.date_error.text()
    save_screenshot(dialog, "patients-record-death.png")
    assert api.calls_to("mark_deceased") == []
    dialog.date_field.edit.setText("2026-11-20")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # The second step names the patient; only its "Record death" saves.
    assert dialog.confirmation is not None
    assert dialog.confirmation.text().startswith("Record the death of Smith, John")
    confirm = next(b for b in dialog.confirmation.buttons() if b.text() == "Record death")
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    assert api.records[2].deceased_at == date(2026, 11, 20)
    assert window.patient_header.deceased_badge.text() == "DECEASED 20 Nov 2026"
    assert not window.patient_header.deceased_button.isEnabled()


def test_screenshot_of_the_main_window_with_a_patient_open(
        qtbot: QtBot, app: tuple[MainWindow, PatientPresenters, FakePatientsApi]) -> None:
    window, presenters, api = app
    window.patient_list.model._today = lambda: TODAY  # noqa: SLF001 (fixed ages)
    with qtbot.waitSignal(presenters.list.results_shown, timeout=2000):
        qtbot.keyClicks(window.patient_list.search_box, "smi")
    qtbot.keyClick(window.patient_list.search_box, Qt.Key.Key_Down)
    qtbot.keyClick(window.patient_list.table, Qt.Key.Key_Down)
    qtbot.keyClick(window.patient_list.table, Qt.Key.Key_Down)
    qtbot.keyClick(window.patient_list.table, Qt.Key.Key_Down)
    with qtbot.waitSignal(presenters.chart.patient_opened, timeout=2000):
        qtbot.keyClick(window.patient_list.table, Qt.Key.Key_Return)
    assert window.patient_header.name.text() == "Smith, Margaret Ann “Peggy”"
    save_screenshot(window, "patients-main-window.png")


def test_quitting_with_typing_in_a_form_asks_first(
        qtbot: QtBot, app: tuple[MainWindow, PatientPresenters, FakePatientsApi]) -> None:
    window, presenters, api = app
    dialog = _register_dialog(qtbot, window, presenters)
    qtbot.keyClicks(dialog.given_name, "Ann")
    assert window.close() is False
    assert window.isVisible() and dialog.isVisible()
    assert dialog.discard_box is not None and dialog.discard_box.isVisible()
    discard = next(b for b in dialog.discard_box.buttons() if b.text() == "Discard changes")
    qtbot.mouseClick(discard, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert window.close() is True

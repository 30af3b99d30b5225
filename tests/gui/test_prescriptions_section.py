"""The chart's Prescriptions section against the fake OrdersApi: the table, the form's live
check (each field's sentence beside it, the computed quantity), saving a draft, signing
(only a prescriber; the service's refusal shown), discontinuing with a reason."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from backend_client.chart.dto import PrescriptionDraft
from desktop.presenters.orders import PrescriptionsSection, make_prescriptions_section
from desktop.tasks import InlineTaskRunner
from tests.gui.fake_orders import FakeOrdersApi, patient
from ui.orders.common import ReasonDialog
from ui.orders.prescription_dialog import PrescriptionDialog
from ui.orders.prescriptions_view import NOT_PRESCRIBER

TODAY = date(2026, 12, 2)
METFORMIN = PrescriptionDraft("Metformin", "500", "mg", frequency="twice daily",
                              duration_days=28, refills=2, instructions="With food")
SALBUTAMOL = PrescriptionDraft("Salbutamol", "100", "mcg", form="inhaler", dose="2",
                               route="inhaled", frequency="as needed", quantity="1")


@pytest.fixture
def api() -> FakeOrdersApi:
    api = FakeOrdersApi()
    api.add_prescription(7, METFORMIN, signed=True)
    api.add_prescription(7, SALBUTAMOL)
    return api


def make(qtbot: QtBot, api: FakeOrdersApi, *, can_prescribe: bool = True
         ) -> PrescriptionsSection:
    section = make_prescriptions_section(patient(), api, InlineTaskRunner(),
                                         can_prescribe=can_prescribe, today=lambda: TODAY,
                                         zone=ZoneInfo("Europe/Berlin"))
    qtbot.addWidget(section.widget())
    section.widget().resize(1100, 500)
    section.widget().show()
    qtbot.waitExposed(section.widget())
    section.widget().activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is section.widget(), timeout=2000)
    section.load(lambda: None)
    return section


def row(section: PrescriptionsSection, r: int) -> list[str]:
    model = section.view.model
    return [model.index(r, c).data() for c in range(model.columnCount())]


def shown_errors(dialog: PrescriptionDialog) -> dict[str, str]:
    return {k: v.text().removeprefix("⚠ ") for k, v in dialog.errors.items()
            if v.isVisible()}


def test_the_table_shows_every_part_of_a_prescription(
        qtbot: QtBot, api: FakeOrdersApi, qtmodeltester: ModelTester) -> None:
    section = make(qtbot, api)
    assert [section.view.model.headerData(c, Qt.Orientation.Horizontal)
            for c in range(11)] == ["Drug", "Strength", "Form", "Dose", "Route", "Frequency",
                                    "Duration", "Quantity", "Refills", "Status", "Signed"]
    assert row(section, 0)[:10] == ["Salbutamol", "100 mcg", "inhaler", "2", "inhaled",
                                    "as needed", "7 d", "1", "0", "Draft (not signed)"]
    assert row(section, 1)[:10] == ["Metformin", "500 mg", "tablet", "1", "oral",
                                    "twice daily", "28 d", "56", "2", "Active"]
    assert row(section, 1)[10] == "Dr Anna Demo, today 09:31"
    assert section.view.status.text() == "1 active, 1 waiting to be signed."
    qtmodeltester.check(section.view.model)


def test_the_form_checks_each_field_as_it_is_typed(
        qtbot: QtBot, api: FakeOrdersApi) -> None:
    section = make(qtbot, api)
    qtbot.keyClick(section.view.table, Qt.Key.Key_Insert)
    dialog = section.dialog
    assert isinstance(dialog, PrescriptionDialog)
    assert "Müller, Anna" in dialog.banner.text() and "MRN 000123" in dialog.banner.text()
    qtbot.keyClicks(dialog.drug, "123")
    qtbot.keyClicks(dialog.strength, "-5")
    dialog.frequency.setEditText("now and then")
    dialog.duration.setValue(400)
    dialog.refills.setValue(13)
    dialog.dose.setText("two")
    # The check runs a short pause after typing stops (no button needed).
    qtbot.waitUntil(lambda: "refills" in shown_errors(dialog), timeout=2000)
    assert shown_errors(dialog) == {
        "drug": "A drug's name has letters in it.",
        "strength": "Give the strength as a positive number, e.g. 500.",
        "dose": "Give the dose as a number of units, e.g. 1 or 2.",
        "frequency": "Say how often in words the app understands: once daily, twice daily, "
                     "every 8 hours, at night, as needed.",
        "duration_days": "The duration is 1 to 365 days.",
        "refills": "Refills are 0 to 12."}
    assert dialog.computed.text() == ""

    dialog.drug.setText("Amoxicillin")
    dialog.strength.setText("500")
    dialog.form.setCurrentText("capsule")
    dialog.dose.setText("1")
    dialog.frequency.setEditText("three times daily")
    dialog.duration.setValue(5)
    dialog.refills.setValue(0)
    dialog.check_now()
    assert shown_errors(dialog) == {}
    assert dialog.computed.text() == ("Supply 15 (computed: 1 capsule three times daily, "
                                      "oral, for 5 days)")
    # "As needed" cannot be computed: the quantity is asked for.
    dialog.frequency.setEditText("as needed")
    dialog.check_now()
    assert shown_errors(dialog) == {"quantity": "With “as needed”, say how many to supply."}
    qtbot.keyClicks(dialog.quantity, "20")
    dialog.check_now()
    assert shown_errors(dialog) == {}
    assert dialog.computed.text() == ""                         # typed, not computed
    dialog.starts.edit.setText("31/02/2027")
    dialog.on_save()
    assert "starts_on" in shown_errors(dialog)                  # not saved with a bad date
    assert not any(c[0] == "create_prescription" for c in api.calls)
    dialog.starts.edit.setText("3 Dec 2026")
    dialog.on_save()
    assert not dialog.isVisible()
    saved = section.view.selected()
    assert saved.draft.drug == "Amoxicillin" and saved.draft.starts_on == date(2026, 12, 3)
    assert saved.status == "draft"
    assert section.view.buttons["sign"].isEnabled()
    assert not section.view.buttons["print"].isEnabled()        # unsigned: nothing to print


def test_a_prescriber_signs_a_draft(qtbot: QtBot, api: FakeOrdersApi) -> None:
    section = make(qtbot, api)
    view = section.view
    view.table.selectRow(0)                                     # the Salbutamol draft
    assert view.buttons["sign"].isEnabled()
    qtbot.keyClick(view.buttons["sign"], Qt.Key.Key_Space)
    assert row(section, 0)[9] == "Active"
    assert row(section, 0)[10].startswith("Dr Anna Demo, today ")
    assert view.status.text() == "Signed: Salbutamol 100 mcg inhaler."
    assert not view.buttons["sign"].isEnabled()                 # signed once
    assert view.buttons["print"].isEnabled()


def test_sign_is_off_for_a_non_prescriber_and_the_service_refuses_anyway(
        qtbot: QtBot, api: FakeOrdersApi) -> None:
    nurse = make(qtbot, api, can_prescribe=False)
    nurse.view.table.selectRow(0)
    assert not nurse.view.buttons["sign"].isEnabled()
    assert nurse.view.buttons["sign"].toolTip() == NOT_PRESCRIBER
    assert nurse.view.buttons["new"].isEnabled()                # a nurse may prepare one

    # The screen thought this person could sign (a role changed meanwhile): the service's
    # refusal is what they read, and nothing changes.
    api.prescriber = False
    doctor = make(qtbot, api, can_prescribe=True)
    doctor.view.table.selectRow(0)
    doctor.view.buttons["sign"].click()
    assert doctor.view.message.isVisible()
    assert doctor.view.message.text() == ("Only a prescriber can sign a prescription; your "
                                          "role does not include prescribing.")
    assert row(doctor, 0)[9] == "Draft (not signed)"


def test_discontinue_asks_why(qtbot: QtBot, api: FakeOrdersApi) -> None:
    section = make(qtbot, api)
    view = section.view
    view.table.selectRow(1)                                     # Metformin, signed
    view.buttons["discontinue"].click()
    dialog = section.dialog
    assert isinstance(dialog, ReasonDialog)
    assert dialog.what.text() == "Discontinue: Metformin 500 mg tablet"
    assert dialog.banner is not None and "Müller, Anna" in dialog.banner.text()
    dialog.confirm_button.click()
    assert dialog.error.text() == "⚠ Say why it is discontinued: pick a reason or type one."
    qtbot.keyClicks(dialog.reason, "Side effects: diarrhoea")
    dialog.confirm_button.click()
    assert not dialog.isVisible()
    assert row(section, 1)[9] == "Stopped: Side effects: diarrhoea"
    assert not view.buttons["print"].isEnabled()
    assert not view.buttons["discontinue"].isEnabled()


def test_a_drug_the_patient_is_allergic_to_is_named_and_needs_a_deliberate_tick(
        qtbot: QtBot, api: FakeOrdersApi) -> None:
    from dataclasses import replace

    from backend_client.dto import AlertSummary

    allergic = replace(patient(), alerts=(AlertSummary("allergy", "high", "Penicillin"),
                                          AlertSummary("clinical", "low", "Falls risk")))
    section = make_prescriptions_section(allergic, api, InlineTaskRunner(),
                                         can_prescribe=True, today=lambda: TODAY)
    qtbot.addWidget(section.widget())
    section.load(lambda: None)
    section.on_view_new_requested()
    dialog = section.dialog
    assert isinstance(dialog, PrescriptionDialog)
    dialog.show()
    qtbot.keyClicks(dialog.drug, "Amoxicillin")
    dialog.strength.setText("500")
    dialog.check_now()
    assert dialog.allergy_warning.isVisible()
    assert dialog.allergy_warning.text() == (
        "⚠ Allergic to Penicillin (high): Amoxicillin is a penicillin.")
    before = len(api.prescriptions(7))
    dialog.on_save()  # not ticked: nothing saved, and the form says what to do
    assert len(api.prescriptions(7)) == before and dialog.isVisible()
    assert "clashes with a recorded allergy" in dialog.failure.text()
    dialog.allergy_ack.setChecked(True)
    dialog.on_save()
    assert len(api.prescriptions(7)) == before + 1
    assert api.prescriptions(7)[0].draft.drug == "Amoxicillin"

    # Another drug: no warning, no tick needed.
    section.on_view_new_requested()
    other = section.dialog
    assert isinstance(other, PrescriptionDialog) and other is not dialog
    other.show()
    qtbot.keyClicks(other.drug, "Metformin")
    other.strength.setText("500")
    other.check_now()
    assert not other.allergy_warning.isVisible() and not other.allergy_ack.isVisible()

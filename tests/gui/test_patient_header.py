"""The patient header: who this is at a glance, in words as well as colours."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date

import pytest
from pytestqt.qtbot import QtBot

from backend_client.dto import AlertSummary, PatientRecord
from backend_client.errors import Unavailable
from desktop.presenters.patient_chart import PatientChartPresenter
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.conftest import TODAY, save_screenshot
from tests.gui.fake_patients import FakePatientsApi, draft
from ui.patients.patient_header import NO_PATIENT, PatientHeaderView


def _header(qtbot: QtBot) -> PatientHeaderView:
    view = PatientHeaderView()
    qtbot.addWidget(view)
    view.resize(460, 10)
    view.show()
    return view


def _fit(view: PatientHeaderView, width: int) -> None:
    """As a layout would size it: the height its width needs (its labels wrap)."""
    view.resize(width, view.heightForWidth(width))


def test_header_shows_name_age_sex_mrn_and_alerts_in_words(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    view = _header(qtbot)
    assert view.message.text() == NO_PATIENT and view.details.isHidden()
    view.show_patient(clinic.records[1], TODAY)
    assert view.name.text() == "Smith, Margaret Ann “Peggy”"
    facts = view.facts.text().replace("&nbsp;", " ")
    for part in ("78 y", "Female", "Born 24 Jun 1948", "MRN <b>M0000001</b>"):
        assert part in facts
    # Most severe first; severity written out, never colour alone.
    assert view.chip_texts() == ["⚠ Allergy: Penicillin — anaphylaxis (HIGH)",
                                 "Clinical: Falls risk (moderate)",
                                 "Allergy: Sticking plaster (low)"]
    chips = view.alerts.widgets()
    assert chips[0].accessibleName() == "high severity alert: Allergy: Penicillin — " \
                                        "anaphylaxis (HIGH)"
    assert all(c.geometry().right() <= view.alerts.width() for c in chips)  # nothing clipped
    assert view.deceased_badge.isHidden()
    _fit(view, 460)
    save_screenshot(view, "patients-header.png")


def test_header_of_a_deceased_child_without_alerts(qtbot: QtBot) -> None:
    api = FakePatientsApi()
    baby = api.add(draft("Noah", "Osei", date(2026, 2, 14), sex="male"),
                   deceased_at=date(2026, 10, 1))
    view = _header(qtbot)
    view.show_patient(baby, TODAY)
    _fit(view, 460)
    assert view.facts.accessibleName().startswith("7 mo at death, Male, Born 14 Feb 2026")
    assert view.deceased_badge.text() == "DECEASED 1 Oct 2026"
    assert view.deceased_badge.accessibleName() == "Deceased on 1 October 2026"
    assert not view.deceased_badge.isHidden()
    assert view.chip_texts() == ["No alerts recorded"]  # not "no known allergies"
    assert not view.deceased_button.isEnabled()
    save_screenshot(view, "patients-header-deceased.png")


def test_long_alerts_wrap_inside_the_header(qtbot: QtBot, clinic: FakePatientsApi) -> None:
    long = AlertSummary("clinical", "high", "Difficult airway — see anaesthetic record of "
                                            "March 2024 before any sedation or intubation")
    record = replace(clinic.records[2], alerts=(long,))
    view = _header(qtbot)
    view.resize(360, 10)
    view.show_patient(record, TODAY)
    _fit(view, 360)
    chip = view.alerts.widgets()[0]
    assert chip.geometry().right() <= view.alerts.width()
    assert chip.height() > chip.fontMetrics().height() * 2  # wrapped onto lines


def test_opening_a_patient_newest_request_wins(qtbot: QtBot, clinic: FakePatientsApi,
                                               runner: TaskRunner) -> None:
    view = _header(qtbot)
    chart = PatientChartPresenter(view, clinic, runner, today=lambda: TODAY, parent=view)
    original_get = clinic.get

    def slow_for_margaret(patient_id: int, *,
                          break_glass_reason: str | None = None) -> PatientRecord:
        if patient_id == 1:
            time.sleep(0.4)
        return original_get(patient_id, break_glass_reason=break_glass_reason)

    clinic.get = slow_for_margaret  # type: ignore[method-assign]
    chart.open(1)
    assert view.message.text() == "Opening the patient…"
    with qtbot.waitSignal(chart.patient_opened, timeout=2000):
        chart.open(2)
    qtbot.waitUntil(lambda: runner.active() == 0, timeout=2000)
    qtbot.wait(50)
    assert view.name.text() == "Smith, John"
    assert chart.current is not None and chart.current.id == 2


def test_opening_a_patient_that_fails_says_why(qtbot: QtBot,
                                               clinic: FakePatientsApi) -> None:
    view = _header(qtbot)
    chart = PatientChartPresenter(view, clinic, InlineTaskRunner(), today=lambda: TODAY)
    chart.open(999)
    assert view.message.text().startswith("⚠ This patient's record no longer exists.")
    clinic.fail["get"] = Unavailable("postgres", "The clinic database cannot be reached "
                                                 "right now; try again in a moment.")
    chart.open(1)
    assert view.message.text() == ("⚠ The patient cannot be opened right now: the clinic "
                                   "database cannot be reached right now; try again in a "
                                   "moment.")


def test_reception_is_told_alerts_are_withheld_not_that_there_are_none(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    view = _header(qtbot)
    view.show_patient(replace(clinic.records[1], alerts=(), clinical=False), TODAY)
    assert view.chip_texts() == ["Alerts are not shown for your role"]


def test_a_restricted_chart_asks_why_and_opens_with_the_reason(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    clinic.records[1] = replace(clinic.records[1], restricted=True)
    view = _header(qtbot)
    presenter = PatientChartPresenter(view, clinic, InlineTaskRunner(), today=lambda: TODAY)
    presenter.open(1)
    dialog = presenter.break_glass_dialog
    assert dialog is not None and dialog.isVisible()
    assert "restricted" in dialog.sentence_label.text()
    assert presenter.current is None
    assert view.message.text() == "⚠ This chart is restricted. It opens once you give a reason."
    assert not dialog.open_button.isEnabled()
    dialog.reason_buttons[0].click()  # Emergency care
    assert dialog.open_button.isEnabled()
    dialog.open_button.click()
    assert presenter.current is not None and presenter.current.id == 1
    assert clinic.calls[-1].kwargs == {"break_glass_reason": "Emergency care"}
    assert view.chip_texts()[0] == "Restricted record"

    # Cancelling opens nothing and says so.
    presenter.current = None
    presenter.open(1)
    dialog = presenter.break_glass_dialog
    assert dialog is not None
    dialog.reject()
    assert presenter.current is None
    assert view.message.text() == "⚠ The restricted chart was not opened."


def test_restricted_chip_screenshot(qtbot: QtBot, clinic: FakePatientsApi) -> None:
    view = _header(qtbot)
    view.show_patient(replace(clinic.records[1], restricted=True), TODAY)
    _fit(view, 460)
    save_screenshot(view, "patients-header-restricted.png")
    assert view.chip_texts()[0] == "Restricted record"


def test_a_doctor_restricts_a_record_from_the_header(
        qtbot: QtBot, clinic: FakePatientsApi, monkeypatch: pytest.MonkeyPatch) -> None:
    view = _header(qtbot)
    presenter = PatientChartPresenter(view, clinic, InlineTaskRunner(), today=lambda: TODAY)
    presenter.open(1)
    assert view.restrict_button.isHidden()  # only roles that may restrict see it
    presenter.set_can_restrict(True)
    assert view.restrict_button.isVisible()
    assert view.restrict_button.text() == "Restrict record…"
    monkeypatch.setattr(presenter, "confirm_restrict", lambda restricted, proceed: None)
    view.restrict_button.click()
    assert not clinic.records[1].restricted  # cancelled: nothing asked of the service
    monkeypatch.setattr(presenter, "confirm_restrict",
                        lambda restricted, proceed: proceed())
    view.restrict_button.click()
    assert clinic.records[1].restricted and clinic.calls[-1].method == "set_restricted"
    assert view.chip_texts()[0] == "Restricted record"
    assert view.restrict_button.text() == "Lift restriction…"


def test_the_restrict_confirmation_asks_without_blocking(
        qtbot: QtBot, clinic: FakePatientsApi) -> None:
    from PySide6.QtWidgets import QMessageBox

    view = _header(qtbot)
    presenter = PatientChartPresenter(view, clinic, InlineTaskRunner(), today=lambda: TODAY)
    presenter.open(1)
    presenter.set_can_restrict(True)
    view.restrict_button.click()  # returns at once: the question is a window, not a loop
    boxes = [b for b in view.window().findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "Restrict this record?" == boxes[0].windowTitle()
    assert not clinic.records[1].restricted
    boxes[0].button(QMessageBox.StandardButton.Yes).click()
    assert clinic.records[1].restricted

"""Booking an appointment at the desk: patient search in the dialog, warnings and the
override reason, clashes, repeating appointments. Against fakes at our own seams."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from backend_client.dto import BookingResult, Recurrence
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.booking import BookingPresenter
from desktop.tasks import InlineTaskRunner, TaskRunner
from tests.gui.fake_booking_api import (  # noqa: F401 - fixtures
    NOW,
    ZONE,
    FakeSchedulingApi,
    api_fixture,
    at,
    clipped_text,
    shot,
    window_fixture,
)
from tests.gui.fake_patients import FakePatientsApi


def make_presenter(window: QMainWindow, api: FakeSchedulingApi, clinic: FakePatientsApi,
                   tasks: TaskRunner | InlineTaskRunner) -> BookingPresenter:
    return BookingPresenter(window, api, clinic, tasks, ChangeNotifications(),
                            current_user_id=lambda: 7, now=lambda: NOW, zone=ZONE,
                            debounce_ms=10, parent=window)


@pytest.fixture
def desk(window: QMainWindow, api: FakeSchedulingApi,
         clinic: FakePatientsApi) -> BookingPresenter:
    return make_presenter(window, api, clinic, InlineTaskRunner())


def find_patient(qtbot: QtBot, desk: BookingPresenter, text: str, rows: int) -> None:
    dialog = desk.booking
    assert dialog is not None
    qtbot.keyClicks(dialog.patient.search, text)
    qtbot.waitUntil(lambda: dialog.patient.results.count() == rows, timeout=3000)


def test_a_booking_is_made_with_the_keyboard_alone(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    saved: list[object] = []
    desk.saved.connect(saved.append)
    desk.book(1, at(10, 40))
    dialog = desk.booking
    assert dialog is not None and dialog.isVisible()
    assert dialog.provider.currentText() == "Dr Anna Demo (General practice)"
    assert dialog.time.time().toString("HH:mm") == "10:40"
    qtbot.waitUntil(lambda: dialog.patient.search.hasFocus(), timeout=2000)

    find_patient(qtbot, desk, "smithe", 1)
    assert dialog.patient.results.item(0).text() == \
        "Smithers, Ella · born 1 Sep 2024 · MRN M0000003"
    qtbot.keyClick(dialog.patient.search, Qt.Key.Key_Return)   # Enter picks
    assert dialog.patient.patient_id == 3
    assert not api.calls_to("book")                             # ... and does not book
    qtbot.waitUntil(dialog.type.hasFocus, timeout=2000)
    qtbot.keyClick(dialog.type, Qt.Key.Key_Down)                # Consultation, 15 min
    assert dialog.minutes.value() == 15
    assert dialog.ends_label.text() == "ends 10:55"
    qtbot.keyClick(dialog.type, Qt.Key.Key_Tab)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    qtbot.keyClicks(QApplication.focusWidget(), "Cough for three weeks")
    assert dialog.reason.text() == "Cough for three weeks"
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)            # Enter books

    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2000)
    [call] = api.calls_to("book")
    request = call.args[0]
    assert (request.patient_id, request.provider_id, request.type_id, request.reason) == (
        3, 1, 1, "Cough for three weeks")
    assert (request.starts_at, request.ends_at) == (at(10, 40), at(10, 55))
    assert request.recurrence is None and request.override_reason == ""
    assert isinstance(saved[0], BookingResult)
    assert saved[0].appointments[0].patient_name == "Smithers, Ella"


def test_patient_search_in_the_dialog_drops_stale_answers(
        qtbot: QtBot, window: QMainWindow, api: FakeSchedulingApi,
        clinic: FakePatientsApi, runner: TaskRunner) -> None:
    desk = make_presenter(window, api, clinic, runner)
    desk.book(1, at(10, 40))
    qtbot.waitUntil(lambda: desk.booking is not None, timeout=3000)
    dialog = desk.booking
    assert dialog is not None
    clinic.search_delays["sm"] = 0.6          # the first, broad search answers late
    qtbot.keyClicks(dialog.patient.search, "sm")
    qtbot.waitUntil(lambda: len(clinic.calls_to("search")) == 1, timeout=3000)
    qtbot.keyClicks(dialog.patient.search, "ithe")
    qtbot.waitUntil(lambda: dialog.patient.results.count() == 1, timeout=3000)
    slow = clinic.calls_to("search")[0]
    qtbot.waitUntil(lambda: slow.finished, timeout=3000)
    qtbot.wait(100)   # the late answer reaches the GUI thread, and is dropped
    assert [dialog.patient.results.item(i).text().split(" · ")[0]
            for i in range(dialog.patient.results.count())] == ["Smithers, Ella"]
    assert [c.args[0] for c in clinic.calls_to("search")] == ["sm", "smithe"]


def test_enter_before_the_answer_picks_the_answer_to_what_was_typed(
        qtbot: QtBot, window: QMainWindow, api: FakeSchedulingApi,
        clinic: FakePatientsApi, runner: TaskRunner) -> None:
    desk = make_presenter(window, api, clinic, runner)
    desk.book(1, at(10, 40))
    qtbot.waitUntil(lambda: desk.booking is not None, timeout=3000)
    dialog = desk.booking
    assert dialog is not None
    find_patient(qtbot, desk, "sm", 5)   # Smith ×3, Smithers, Khan (née Smithson)
    clinic.search_delays["smk"] = 0.0
    clinic.search_delays["kh"] = 0.3
    dialog.patient.search.setText("kh")
    qtbot.keyClick(dialog.patient.search, Qt.Key.Key_Return)   # the "sm" list is stale
    assert dialog.patient.patient_id is None
    qtbot.waitUntil(lambda: dialog.patient.patient_id is not None, timeout=3000)
    assert dialog.patient.patient_text.startswith("Khan, Aisha")


def test_warnings_show_inline_and_booking_asks_for_a_reason(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    api.add(2, 2, at(7, 30))                 # John Smith is with Dr Okafor then
    desk.book(1, at(7, 30), patient_id=2)    # before Dr Demo's hours, too
    dialog = desk.booking
    assert dialog is not None
    assert dialog.patient.chosen_label.text().startswith("Smith, John · born 3 Jan 1975")
    qtbot.waitUntil(dialog.warnings.isVisible, timeout=2000)
    text = dialog.warnings_text.text()
    assert "Smith, John is already booked with Dr Ben Okafor 07:30–07:45 that day." in text
    assert "07:30 is outside Dr Anna Demo's working hours." in text
    dialog.type.setCurrentIndex(2)
    dialog.reason.setText("Blood pressure review")
    qtbot.waitUntil(dialog.warnings.isVisible, timeout=2000)
    shot(dialog, "booking-dialog-warnings.png")

    dialog.book_button.click()
    override = desk.override
    assert override is not None and override.isVisible()
    assert [w.text() for w in override.warning_labels] == [
        "⚠ Smith, John is already booked with Dr Ben Okafor 07:30–07:45 that day.",
        "⚠ 07:30 is outside Dr Anna Demo's working hours."]
    shot(override, "override-dialog.png")
    override.go_button.click()               # no reason: refused, nothing booked
    assert override.isVisible() and override.error.isVisible()
    assert "Say why" in override.error.text()
    assert len(api.calls_to("book")) == 1
    override.reason.setText("Patient can only come before work")
    override.go_button.click()
    assert not override.isVisible()
    calls = api.calls_to("book")
    assert [c.args[0].override_reason for c in calls] == ["", "Patient can only come "
                                                               "before work"]
    assert not dialog.isVisible()
    [booked] = [a for a in api.appointments.values() if a.provider_id == 1]
    assert booked.override_reason == "Patient can only come before work"


def test_a_clash_is_named_at_the_time_and_nothing_typed_is_lost(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    api.add(2, 1, at(10, 40))
    desk.book(1, at(10, 45), patient_id=3)
    dialog = desk.booking
    assert dialog is not None
    dialog.reason.setText("Follow-up of the rash")
    dialog.type.setCurrentIndex(2)          # Long consultation, 30 min
    sentence = "Dr Anna Demo is already booked 10:40–10:55 with Smith, John (Consultation)."
    qtbot.waitUntil(lambda: dialog.errors["time"].isVisible(), timeout=2000)
    assert dialog.errors["time"].text() == "⚠ " + sentence
    shot(dialog, "booking-dialog-clash.png")
    dialog.book_button.click()
    assert dialog.isVisible()
    assert dialog.errors["time"].text() == "⚠ " + sentence
    assert (dialog.reason.text(), dialog.minutes.value(), dialog.patient.patient_id) == (
        "Follow-up of the rash", 30, 3)
    assert dialog.time.hasFocus() or not QApplication.activeWindow()
    dialog.time.setTime(dialog.time.time().addSecs(15 * 60))    # 11:00 is free
    qtbot.waitUntil(lambda: not dialog.errors["time"].isVisible(), timeout=2000)
    dialog.book_button.click()
    assert not dialog.isVisible()
    assert api.calls_to("book")[-1].args[0].reason == "Follow-up of the rash"


def test_a_validation_error_is_shown_at_its_field(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    from backend_client.errors import ValidationError

    desk.book(1, at(10, 40), patient_id=1)
    dialog = desk.booking
    assert dialog is not None
    api.fail["book"] = ValidationError.of({"reason": "is too long (at most 200 characters)"})
    dialog.reason.setText("x" * 300)
    dialog.book_button.click()
    assert dialog.errors["reason"].text() == "⚠ Is too long (at most 200 characters)."
    assert dialog.reason.text() == "x" * 300


def test_a_series_is_described_and_booked_and_skipped_dates_are_told(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi,
        window: QMainWindow) -> None:
    api.add(2, 1, at(10, 40, date(2026, 12, 29)))   # the third occurrence clashes
    desk.book(1, at(10, 40))
    dialog = desk.booking
    assert dialog is not None
    find_patient(qtbot, desk, "smith", 5)
    dialog.repeat.setCurrentIndex(3)                 # every N weeks
    dialog.interval.setValue(2)
    dialog.count.setValue(4)
    assert dialog.repeat_description.text() == \
        "Every 2 weeks on Tuesday at 10:40, from 1 Dec 2026, 4 times."
    shot(dialog, "booking-dialog-1280.png")
    dialog.resize(700, dialog.height())
    shot(dialog, "booking-dialog-700.png")
    assert clipped_text(dialog) == []
    dialog.by_until.setChecked(True)
    dialog.until.setDate(dialog.until.date().fromString("2027-01-12", "yyyy-MM-dd"))
    assert dialog.repeat_description.text() == \
        "Every 2 weeks on Tuesday at 10:40, from 1 Dec 2026, until 12 Jan 2027."
    dialog.by_count.setChecked(True)
    qtbot.keyClick(dialog.patient.search, Qt.Key.Key_Return)
    dialog.book_button.click()
    request = api.calls_to("book")[-1].args[0]
    assert request.recurrence == Recurrence("weekly", 2, count=4)
    booked = sorted(a.starts_at for a in api.appointments.values() if a.series_id)
    assert booked == [at(10, 40, DAY_) for DAY_ in (date(2026, 12, 1), date(2026, 12, 15),
                                                    date(2027, 1, 12))]
    box = desk.message
    assert box is not None and box.isVisible()
    assert box.text().startswith("3 appointments booked. Not booked:\n• Tue 29 Dec 10:40: "
                                 "Dr Anna Demo is already booked 10:40–10:55 with Smith, John")


def test_monthly_rules_are_described_by_date_and_by_weekday(
        desk: BookingPresenter) -> None:
    desk.book(1, at(9, 0, date(2026, 12, 8)), patient_id=1)
    dialog = desk.booking
    assert dialog is not None
    dialog.repeat.setCurrentIndex(4)
    assert dialog.repeat_description.text() == \
        "Every month on the 8th at 09:00, from 8 Dec 2026, 6 times."
    dialog.repeat.setCurrentIndex(5)
    assert dialog.repeat_description.text() == \
        "Every month on the 2nd Tuesday at 09:00, from 8 Dec 2026, 6 times."
    assert dialog.recurrence() == Recurrence("monthly_weekday", 1, count=6)
    dialog.repeat.setCurrentIndex(0)
    assert dialog.recurrence() is None and not dialog.repeat_description.isVisible()


def test_book_without_a_patient_says_so_and_calls_nothing(
        desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    desk.book(1, at(10, 40))
    dialog = desk.booking
    assert dialog is not None
    dialog.book_button.click()
    assert dialog.errors["patient"].isVisible()
    assert "Choose the patient first" in dialog.errors["patient"].text()
    assert not api.calls_to("book") and dialog.isVisible()


def test_the_booking_dialog_fits_at_700_px_with_results_and_a_repeat_rule(
        qtbot: QtBot, desk: BookingPresenter, window: QMainWindow) -> None:
    window.resize(700, 800)
    desk.book(1, at(10, 40) + timedelta(days=7))
    dialog = desk.booking
    assert dialog is not None
    find_patient(qtbot, desk, "smi", 5)
    dialog.repeat.setCurrentIndex(5)
    dialog.by_until.setChecked(True)
    dialog.resize(700, 760)
    assert dialog.minimumSizeHint().width() <= 700
    qtbot.waitUntil(lambda: clipped_text(dialog) == [], timeout=2000)
    shot(dialog, "booking-dialog-results-700.png")


def test_booking_through_the_thread_pools(
        qtbot: QtBot, window: QMainWindow, api: FakeSchedulingApi,
        clinic: FakePatientsApi, runner: TaskRunner) -> None:
    desk = make_presenter(window, api, clinic, runner)
    desk.book(1, at(11, 0), patient_id=2)
    qtbot.waitUntil(lambda: desk.booking is not None and desk.booking.isVisible(),
                    timeout=3000)
    dialog = desk.booking
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.patient.patient_id == 2, timeout=3000)
    api.delays["book"] = 0.2
    with qtbot.waitSignal(desk.finished, timeout=3000):
        dialog.book_button.click()
        assert dialog.book_button.text() == "Booking…"      # the window stays responsive
        assert not dialog.book_button.isEnabled()
    assert not dialog.isVisible()
    assert [a.patient_id for a in api.appointments.values()] == [2]


def test_the_schedule_unreachable_says_so_and_booking_can_be_tried_again(
        desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    from backend_client.errors import Unavailable

    api.fail["providers"] = Unavailable("postgres", "The clinic's database does not answer.")
    desk.book(1, at(10, 40))
    assert desk.booking is None
    assert desk.message is not None and desk.message.isVisible()
    assert desk.message.text() == ("The schedule cannot be read right now: the clinic's "
                                   "database does not answer.")
    desk.book(1, at(10, 40))
    assert desk.booking is not None and desk.booking.isVisible()


def test_closing_the_dialog_while_a_search_runs_drops_its_answer(
        qtbot: QtBot, window: QMainWindow, api: FakeSchedulingApi,
        clinic: FakePatientsApi, runner: TaskRunner, caplog: pytest.LogCaptureFixture) -> None:
    desk = make_presenter(window, api, clinic, runner)
    desk.book(1, at(10, 40))
    qtbot.waitUntil(lambda: desk.booking is not None, timeout=3000)
    dialog = desk.booking
    assert dialog is not None
    clinic.search_delays["sm"] = 0.3
    qtbot.keyClicks(dialog.patient.search, "sm")
    qtbot.waitUntil(lambda: len(clinic.calls_to("search")) == 1, timeout=3000)
    gone: list[object] = []
    dialog.destroyed.connect(lambda *_: gone.append(None))
    dialog.reject()
    qtbot.waitUntil(lambda: bool(gone), timeout=2000)   # the dialog is deleted
    assert desk.booking is None
    slow = clinic.calls_to("search")[0]
    qtbot.waitUntil(lambda: slow.finished, timeout=3000)
    qtbot.wait(150)   # the answer arrives for a dialog that is gone: nothing happens
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    desk.book(1, at(10, 40))
    qtbot.waitUntil(lambda: desk.booking is not None, timeout=3000)
    assert desk.booking.patient.results.count() == 0


def test_a_booking_that_cannot_reach_the_database_keeps_the_form(
        desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    from backend_client.errors import Unavailable

    finished: list[None] = []
    desk.finished.connect(lambda: finished.append(None))
    desk.book(1, at(10, 40), patient_id=2)
    dialog = desk.booking
    assert dialog is not None
    dialog.reason.setText("Annual review")
    api.fail["book"] = Unavailable("postgres", "The clinic's database does not answer.")
    dialog.book_button.click()
    assert dialog.isVisible() and dialog.failure.isVisible()
    assert dialog.failure.text() == ("The appointment cannot be booked right now: the "
                                     "clinic's database does not answer.")
    assert (dialog.reason.text(), dialog.patient.patient_id) == ("Annual review", 2)
    assert dialog.book_button.isEnabled() and finished == [None]
    dialog.book_button.click()                    # the database is back: booked
    assert not dialog.isVisible() and len(finished) == 2

"""Moving, cancelling, the waitlist offer, status steps and arrival notices at the desk."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from backend_client.dto import SlotOffer
from backend_client.errors import IllegalTransition
from backend_client.sync.events import ChangeEvent
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.booking import BookingPresenter
from desktop.tasks import InlineTaskRunner
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


@pytest.fixture
def notifications() -> ChangeNotifications:
    return ChangeNotifications()


@pytest.fixture
def me() -> list[int | None]:
    return [7]    # Dr Anna Demo's account


@pytest.fixture
def desk(window: QMainWindow, api: FakeSchedulingApi, clinic: FakePatientsApi,
         notifications: ChangeNotifications, me: list[int | None]) -> BookingPresenter:
    return BookingPresenter(window, api, clinic, InlineTaskRunner(), notifications,
                            current_user_id=lambda: me[0], now=lambda: NOW, zone=ZONE,
                            debounce_ms=10, notice_seconds=2, parent=window)


def test_moving_a_series_occurrence_asks_which_ones_by_keyboard(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    first = api.add(1, 1, at(9, 0), series_id=50)
    second = api.add(1, 1, at(9, 0, date(2026, 12, 8)), series_id=50)
    finished: list[None] = []
    desk.finished.connect(lambda: finished.append(None))
    desk.move(first, 1, at(9, 30), at(9, 45))
    scope = desk.scope
    assert scope is not None and scope.isVisible()
    assert not api.calls_to("move")
    assert scope.chooser.one.isChecked()
    qtbot.waitUntil(scope.chooser.one.hasFocus, timeout=2000)
    qtbot.keyClick(scope.chooser.one, Qt.Key.Key_Down)      # "This and following"
    assert scope.chooser.following.isChecked()
    qtbot.keyClick(scope.chooser.following, Qt.Key.Key_Return)
    [call] = api.calls_to("move")
    assert call.kwargs["scope"] == "following"
    assert api.appointments[second.id].starts_at == at(9, 30, date(2026, 12, 8))
    assert finished == [None]

    single = api.add(2, 2, at(11, 0))
    desk.move(single, 2, at(11, 30), at(11, 45))             # not a series: no question
    assert api.calls_to("move")[-1].kwargs["scope"] == "one"
    assert len(finished) == 2


def test_a_move_someone_else_beat_says_who_and_when(
        desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    appt = api.add(1, 1, at(9, 0))
    api.change_behind_the_back(appt.id, "Maria Rossi", 9, 12)
    finished: list[None] = []
    desk.finished.connect(lambda: finished.append(None))
    desk.move(appt, 1, at(10, 0), at(10, 15))
    assert desk.message is not None and desk.message.isVisible()
    assert desk.message.text() == ("Changed by Maria Rossi at 09:12; the schedule shows the "
                                   "current times. Nothing was moved.")
    assert finished == [None]


def test_a_move_into_a_clash_or_past_warnings(
        desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    appt = api.add(1, 1, at(9, 0))
    api.add(2, 1, at(10, 0))
    desk.move(appt, 1, at(10, 5), at(10, 20))
    assert desk.message is not None
    assert desk.message.text() == ("Dr Anna Demo is already booked 10:00–10:15 with Smith, "
                                   "John (Consultation)")
    desk.move(appt, 1, at(17, 0), at(17, 15))                 # after hours: a reason
    override = desk.override
    assert override is not None and override.isVisible()
    assert override.go_button.text() == "Move anyway"
    override.reason.setText("Doctor stays late on Tuesdays")
    override.go_button.click()
    assert api.calls_to("move")[-1].kwargs["override_reason"] == \
        "Doctor stays late on Tuesdays"
    assert api.appointments[appt.id].starts_at == at(17, 0)


def test_cancelling_needs_a_reason_and_offers_the_slot_to_the_waitlist(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi,
        window: QMainWindow) -> None:
    appt = api.add(1, 1, at(10, 40), 20)
    khan = api.add_to_waitlist(5, provider_id=1, type_id=3, minutes=20,
                               earliest=date(2026, 11, 20), latest=None)
    ella = api.add_to_waitlist(3, provider_id=None, type_id=None, minutes=15,
                               earliest=date(2026, 11, 25), latest=None,
                               part_of_day="morning", note="Prefers mornings")
    api.offer_list = [SlotOffer(1, at(10, 40), at(11, 0), (khan, ella))]

    desk.cancel(appt)
    dialog = desk.cancelling
    assert dialog is not None and dialog.isVisible()
    assert dialog.scope is None                              # not a series
    dialog.cancel_button.click()
    assert dialog.isVisible() and not api.calls_to("cancel")
    assert dialog.error.text() == ("⚠ Say why it is cancelled: pick a common reason or type "
                                   "one.")
    shot(dialog, "cancel-dialog.png")
    dialog.quick_buttons[1].click()                          # "Patient unwell"
    assert dialog.reason.text() == "Patient unwell"
    dialog.cancel_button.click()
    [call] = api.calls_to("cancel")
    assert call.args[2:] == ("Patient unwell",) and call.kwargs == {"scope": "one"}
    assert not dialog.isVisible()

    offer = desk.offer
    assert offer is not None and offer.isVisible()
    assert offer.heading.text() == ("2 patients on the waitlist fit 10:40–11:00 with "
                                    "Dr Anna Demo:")
    shot(offer, "waitlist-offer.png")
    assert [b.text() for b in offer.book_buttons] == ["Book Khan, Aisha…",
                                                      "Book Smithers, Ella…"]
    offer.book_buttons[0].click()
    booking = desk.booking
    assert booking is not None and booking.isVisible()
    assert booking.patient.patient_id == 5
    assert booking.time.time().toString("HH:mm") == "10:40"
    assert (booking.type.currentData(), booking.minutes.value()) == (3, 20)
    booking.book_button.click()
    assert not booking.isVisible()
    assert api.calls_to("book")[-1].args[0].patient_id == 5
    assert api.calls_to("remove_from_waitlist")[-1].args[:2] == (khan.id, khan.version)
    assert list(api.entries) == [ella.id]


def test_cancelling_one_of_a_series_asks_the_scope(
        desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    appt = api.add(1, 1, at(9, 0), series_id=50)
    later = api.add(1, 1, at(9, 0, date(2026, 12, 8)), series_id=50)
    desk.cancel(appt)
    dialog = desk.cancelling
    assert dialog is not None and dialog.scope is not None
    dialog.reason.setText("Course of treatment ended")
    dialog.scope.following.setChecked(True)
    dialog.cancel_button.click()
    assert api.calls_to("cancel")[-1].kwargs == {"scope": "following"}
    assert api.appointments[later.id].status == "cancelled"


def test_the_appointment_shows_only_legal_status_steps(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    appt = api.add(1, 1, at(9, 40))
    opened: list[int] = []
    desk.open_patient_requested.connect(opened.append)
    desk.edit(appt)
    dialog = desk.appointment
    assert dialog is not None and dialog.isVisible()
    assert dialog.when.text() == "Tue 1 Dec 2026, 09:40–09:55 with Dr Anna Demo"
    assert dialog.status.text() == "Booked"
    assert [b.text() for b in dialog.status_buttons.values()] == ["Arrived", "No-show"]
    assert dialog.cancel_button.isEnabled()
    shot(dialog, "appointment-dialog.png")

    dialog.status_buttons["checked_in"].click()
    assert api.calls_to("set_status")[-1].args[2] == "checked_in"
    assert dialog.status.text() == "Arrived"
    assert [b.text() for b in dialog.status_buttons.values()] == [
        "In room", "Undo arrival", "No-show"]

    api.fail["set_status"] = IllegalTransition(
        "An appointment that was cancelled cannot be marked in room.")
    dialog.status_buttons["in_progress"].click()
    assert dialog.error.isVisible()
    assert dialog.error.text() == "⚠ An appointment that was cancelled cannot be marked in room."

    dialog.status_buttons["in_progress"].click()
    dialog.status_buttons["completed"].click()
    assert dialog.status.text() == "Completed"
    assert dialog.status_buttons == {} and not dialog.steps.isVisible()
    assert not dialog.cancel_button.isEnabled()
    dialog.open_patient_button.click()
    assert opened == [1] and not dialog.isVisible()


def test_an_open_appointment_follows_another_workstations_change(
        desk: BookingPresenter, api: FakeSchedulingApi,
        notifications: ChangeNotifications) -> None:
    appt = api.add(1, 1, at(9, 40))
    desk.edit(appt)
    dialog = desk.appointment
    assert dialog is not None
    notifications.changed.emit((ChangeEvent("appointment", appt.id + 1, 2, "updated",
                                            origin="elsewhere"),))   # another one
    assert not api.calls_to("get")
    api.change_behind_the_back(appt.id, "Maria Rossi", 9, 12)
    notifications.changed.emit((ChangeEvent("appointment", appt.id, 2, "updated",
                                            origin="elsewhere"),))
    assert dialog.when.text() == "Tue 1 Dec 2026, 10:10–10:25 with Dr Anna Demo"
    assert dialog.notice.isVisible()
    assert dialog.notice.text() == ("Changed by Maria Rossi at 09:12; this shows it as it "
                                    "is now.")
    dialog.status_buttons["checked_in"].click()      # with the current version: accepted
    assert api.appointments[appt.id].status == "checked_in"


def test_change_time_from_the_appointment_moves_it(
        desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    appt = api.add(1, 1, at(9, 40))
    desk.edit(appt)
    dialog = desk.appointment
    assert dialog is not None
    dialog.change_time_button.click()
    change = desk.change_time
    assert change is not None and change.isVisible()
    change.time.setTime(change.time.time().addSecs(3600))
    change.provider.setCurrentIndex(1)
    change.move_button.click()
    call = api.calls_to("move")[-1]
    assert (call.kwargs["provider_id"], call.kwargs["starts_at"]) == (2, at(10, 40))
    assert dialog.when.text() == "Tue 1 Dec 2026, 10:40–10:55 with Dr Ben Okafor"


def checked_in(appt_id: int, notify: int | None, *, mine: bool = False) -> ChangeEvent:
    return ChangeEvent("appointment", appt_id, 2, "checked_in", user_id=3,
                       notify_user_id=notify, **({} if mine else {"origin": "elsewhere"}))


def test_an_arrival_notice_is_for_me_and_never_takes_the_focus(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi,
        window: QMainWindow, notifications: ChangeNotifications) -> None:
    editor = window.centralWidget()
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    qtbot.keyClicks(editor, "Cough for")
    ella = api.set_status(api.add(3, 1, at(9, 40)).id, 1, "checked_in")
    other = api.set_status(api.add(2, 2, at(9, 45)).id, 1, "checked_in")

    notifications.changed.emit((checked_in(other.id, 8),))          # Dr Okafor's patient
    notifications.changed.emit((ChangeEvent("appointment", ella.id, 2, "updated",
                                            notify_user_id=7),))     # not a check-in
    assert desk.arrivals.area.notices == []
    notifications.changed.emit((checked_in(ella.id, 7),))
    [notice] = desk.arrivals.area.notices
    assert notice.isVisible()
    assert notice.sentence == "Ella Smithers has arrived — 09:40 with Dr Anna Demo"
    assert notice.accessibleName() == notice.sentence
    assert (notice.headline.text(), notice.detail.text()) == (
        "Ella Smithers has arrived", "09:40 with Dr Anna Demo")
    assert editor.hasFocus()
    qtbot.keyClicks(editor, " three weeks")
    assert editor.text() == "Cough for three weeks"
    right = window.width() - notice.geometry().right()
    assert 0 < right < 40 and notice.geometry().top() < 60
    shot(window, "arrival-notice-1280.png")

    notifications.changed.emit((checked_in(ella.id, 7),))           # heard twice: one
    margaret = api.set_status(api.add(1, 1, at(10, 0)).id, 1, "checked_in")
    notifications.changed.emit((checked_in(margaret.id, 7, mine=True),))  # my own too
    assert [n.sentence for n in desk.arrivals.area.notices] == [
        "Ella Smithers has arrived — 09:40 with Dr Anna Demo",
        "Margaret Smith has arrived — 10:00 with Dr Anna Demo"]
    first, second = desk.arrivals.area.notices
    assert second.geometry().top() > first.geometry().bottom()
    window.resize(700, 800)
    qtbot.waitUntil(lambda: window.width() - second.geometry().right() < 40, timeout=2000)
    assert clipped_text(first) == [] and clipped_text(second) == []
    shot(window, "arrival-notice-700.png")

    opened: list[int] = []
    desk.open_patient_requested.connect(opened.append)
    first.open_button.click()
    assert opened == [3]
    assert editor.hasFocus()
    assert desk.arrivals.area.notices == [second]

    # The keyboard path: F6 to the newest notice, Tab, Enter dismisses, and the focus is
    # back where the doctor was typing.
    qtbot.keyClick(editor, Qt.Key.Key_F6)
    assert second.open_button.hasFocus()
    qtbot.keyClick(second.open_button, Qt.Key.Key_Tab)
    assert second.dismiss_button.hasFocus()
    qtbot.keyClick(second.dismiss_button, Qt.Key.Key_Space)
    assert desk.arrivals.area.notices == [] and opened == [3]
    assert editor.hasFocus()
    notifications.changed.emit((checked_in(api.set_status(
        api.add(2, 1, at(10, 20)).id, 1, "checked_in").id, 7),))
    qtbot.waitUntil(lambda: desk.arrivals.area.notices == [], timeout=4000)  # times out


def test_no_arrival_notice_when_nobody_is_signed_in(
        desk: BookingPresenter, api: FakeSchedulingApi,
        notifications: ChangeNotifications, me: list[int | None]) -> None:
    ella = api.set_status(api.add(3, 1, at(9, 40)).id, 1, "checked_in")
    me[0] = None
    notifications.changed.emit((checked_in(ella.id, 7),))
    assert desk.arrivals.area.notices == [] and not api.calls_to("get")


def test_the_waitlist_lists_adds_removes_and_books_todays_offers(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi) -> None:
    khan = api.add_to_waitlist(5, provider_id=1, type_id=None, minutes=20,
                               earliest=date(2026, 11, 20), latest=date(2026, 12, 20))
    api.offer_list = [SlotOffer(1, at(14, 0), at(14, 20), (khan,))]
    desk.show_waitlist()
    panel = desk.waitlist
    assert panel is not None and panel.isVisible()
    assert panel.table.rowCount() == 1
    assert [panel.table.item(0, c).text() for c in range(5)] == [
        "Khan, Aisha", "Dr Anna Demo", "20 min", "20 Nov 2026 – 20 Dec 2026", ""]
    assert panel.offers.item(0).text() == \
        "14:00–14:20 with Dr Anna Demo: Khan, Aisha (20 min, any time)"

    panel.add_button.click()
    qtbot.keyClicks(panel.patient.search, "smithe")
    qtbot.waitUntil(lambda: panel.patient.results.count() == 1, timeout=2000)
    qtbot.keyClick(panel.patient.search, Qt.Key.Key_Return)
    panel.note.setText("Any cancellation this week")
    panel.minutes.setValue(30)
    shot(panel, "waitlist-panel.png")
    panel.resize(700, 600)
    qtbot.waitUntil(lambda: clipped_text(panel) == [], timeout=2000)
    [button] = [b for b in panel.add_box.findChildren(type(panel.add_button))
                if b.text() == "Add to waitlist"]
    button.click()
    assert api.calls_to("add_to_waitlist")[-1].kwargs["minutes"] == 30
    assert panel.table.rowCount() == 2 and not panel.add_box.isVisible()

    panel.table.selectRow(0)
    panel.remove_button.click()
    panel.remove_reason.setText("")
    qtbot.keyClick(panel.remove_reason, Qt.Key.Key_Return)
    assert panel.remove_error.isVisible() and not api.calls_to("remove_from_waitlist")
    panel.offers.setCurrentRow(0)
    panel.book_offer_button.click()
    booking = desk.booking
    assert booking is not None and booking.patient.patient_id == 5
    assert booking.time.time().toString("HH:mm") == "14:00"


@pytest.mark.parametrize("which", ["cancel", "appointment", "override", "scope", "offer"])
def test_every_dialog_fits_700_px_without_clipped_text(
        qtbot: QtBot, desk: BookingPresenter, api: FakeSchedulingApi,
        which: str) -> None:
    appt = api.add(1, 1, at(9, 40), series_id=50)
    if which == "cancel":
        desk.cancel(appt)
        dialog = desk.cancelling
    elif which == "appointment":
        desk.edit(api.set_status(appt.id, 1, "checked_in"))
        dialog = desk.appointment
    elif which == "override":
        desk.move(api.add(2, 2, at(7, 0)), 1, at(7, 5), at(7, 20))
        dialog = desk.override
    elif which == "scope":
        desk.move(appt, 1, at(9, 50), at(10, 5))
        dialog = desk.scope
    else:
        khan = api.add_to_waitlist(5, provider_id=1, type_id=None, minutes=20,
                                   earliest=date(2026, 11, 20), latest=None,
                                   note="Needs the interpreter; prefers Dr Demo")
        api.offer_list = [SlotOffer(1, at(9, 40), at(10, 0), (khan,))]
        desk.cancel(appt)
        assert desk.cancelling is not None
        desk.cancelling.reason.setText("Patient unwell")
        desk.cancelling.cancel_button.click()
        dialog = desk.offer
    assert dialog is not None and dialog.isVisible()
    assert dialog.minimumSizeHint().width() <= 700
    width = min(700, max(dialog.width(), dialog.sizeHint().width()))
    dialog.resize(width, max(dialog.height(), dialog.heightForWidth(width)))
    try:
        qtbot.waitUntil(lambda: clipped_text(dialog) == [], timeout=2000)
    finally:
        shot(dialog, f"fit-700-{which}.png")
    assert clipped_text(dialog) == []

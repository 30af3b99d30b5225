"""The day sheet as the front desk uses it: appointments in their provider's column at
their time, drag and drop, edge drag, the keyboard for everything, statuses. The fake
scheduling service at our own seam; the booking presenter is a recorder."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from pytestqt.qtbot import QtBot

from tests.gui.schedule_support import DAY, ZONE, local, make_sheet
from ui.scheduling.grid_model import minute_of
from ui.scheduling.schedule_grid import ScheduleGridView


def _press_drag_release(qtbot: QtBot, grid: ScheduleGridView, start: QPoint,
                        end: QPoint) -> None:
    vp: QWidget = grid.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    middle = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    qtbot.mouseMove(vp, middle)
    qtbot.mouseMove(vp, end)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)


def _y(grid: ScheduleGridView, minute: float) -> int:
    return int(round(grid.geometry_.y_of(minute)))


def test_each_appointment_is_in_its_providers_column_at_its_time(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    names = [c.title for c in grid.data.columns]
    assert names == ["Dr Anna Demo", "Dr Amara Okafor", "Dr Jonathan Fitzgerald-Hawthorne",
                     "Nurse Li Wei", "Dr Sofia Rossi", "Dr Kwame Mensah"]
    shown = 0
    for appt in s.api.agenda(DAY, DAY):
        block = grid.data.block_of(appt.id)
        if appt.status == "cancelled":
            assert block is None, "cancelled appointments are hidden until asked for"
            continue
        assert block is not None, appt.patient_name
        assert grid.data.columns[block.column].provider_id == appt.provider_id
        start = minute_of(appt.starts_at, DAY, ZONE)
        assert (block.start, block.end) == (start, start + appt.minutes)
        rect = grid.block_rect(appt.id)
        geo = grid.geometry_
        assert geo.x_of(block.column) <= rect.left() < geo.x_of(block.column) + geo.col_w
        assert abs(rect.top() - geo.y_of(start)) <= 2
        shown += 1
    assert shown == 24
    # The axis covers the earliest hours (07:30) and the latest (19:30 for Dr Rossi).
    assert (grid.data.first_minute, grid.data.last_minute) == (7 * 60, 20 * 60)
    # Show cancelled: the two cancelled ones appear (faded), beside their replacements.
    s.view.cancelled_check.setChecked(True)
    schmidt = s.appt("Schmidt, Jürgen", 1)
    kowalski = s.appt("Kowalski, Piotr", 1)
    both = grid.data.block_of(schmidt.id), grid.data.block_of(kowalski.id)
    assert all(b is not None and b.lanes == 2 for b in both)
    # Today's date and the now line (the workstation's clock labels it).
    assert s.view.today_label.text() == "Today: Wed 2 Dec 2026"
    assert s.view.date_label.full_text() == "Wednesday 2 December 2026 · today"
    assert grid.now_minute() == 9 * 60 + 47


def test_dragging_a_block_to_another_column_and_time_asks_for_the_snapped_move(
        qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    obrien = s.appt("O'Brien, Siobhan", 1)          # 09:15–09:30 with Dr Demo
    s.booking.auto_finish = False
    grab = grid.block_rect(obrien.id).center()
    held = grid.geometry_.minute_at(grab.y()) - (9 * 60 + 15)
    # Dropped on Dr Okafor's column at 11:32 (where it is held): it snaps to 11:30.
    geo = grid.geometry_
    target = QPoint(geo.x_of(1) + geo.col_w // 2, _y(grid, 11 * 60 + 32 + held))
    assert grid.viewport().rect().contains(target)
    _press_drag_release(qtbot, grid, grab, target)
    assert s.booking.calls == [("move", (obrien.id, 2, local(s.api, "11:30"),
                                         local(s.api, "11:45")))]
    # Until the record says otherwise the block shows where it was put, marked moving.
    moved = grid.data.block_of(obrien.id)
    assert moved is not None and moved.pending
    assert (grid.data.columns[moved.column].provider_id, moved.start) == (2, 11 * 60 + 30)
    assert "moving" in s.view.selection_label.full_text()
    # The write was refused (nothing changed): the refresh puts it back.
    s.booking.finished.emit()
    back = grid.data.block_of(obrien.id)
    assert back is not None and not back.pending
    assert (back.column, back.start) == (0, 9 * 60 + 15)


def test_a_move_that_is_saved_shows_at_its_new_place(qtbot: QtBot) -> None:
    s = make_sheet(qtbot, apply=True)
    grid = s.view.day_grid
    tanaka = s.appt("Tanaka, Hiroshi", 2)
    grab = grid.block_rect(tanaka.id).center()
    held = grid.geometry_.minute_at(grab.y()) - (10 * 60 + 15)
    target = QPoint(grab.x(), _y(grid, 10 * 60 + 48 + held))   # 10:48 → 10:50
    _press_drag_release(qtbot, grid, grab, target)
    assert s.booking.refused == []
    block = grid.data.block_of(tanaka.id)
    assert block is not None and not block.pending
    assert (block.start, block.end) == (10 * 60 + 50, 11 * 60 + 5)
    assert s.api.get(tanaka.id).starts_at == local(s.api, "10:50")


def test_dragging_the_bottom_edge_asks_for_a_new_end(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    lars = s.appt("Andersson, Lars", 1)       # 16:30–16:45
    grid.scroll_to_minute(15 * 60 + 30, third=False)   # both ends well inside the view
    rect = grid.block_rect(lars.id)
    edge = QPoint(rect.center().x(), rect.bottom() - 1)
    _press_drag_release(qtbot, grid, edge, QPoint(edge.x(), _y(grid, 17 * 60 + 12)))
    assert s.booking.calls == [("move", (lars.id, 1, local(s.api, "16:30"),
                                         local(s.api, "17:10")))]
    # Dragging the edge above the start keeps the minimum length of 5 minutes.
    s.booking.calls.clear()
    rect = grid.block_rect(lars.id)
    edge = QPoint(rect.center().x(), rect.bottom() - 1)
    _press_drag_release(qtbot, grid, edge, QPoint(edge.x(), _y(grid, 16 * 60)))
    assert s.booking.calls == [("move", (lars.id, 1, local(s.api, "16:30"),
                                         local(s.api, "16:35")))]


def test_double_clicking_a_free_slot_books_there_and_a_block_opens_it(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    point = grid.slot_point(1, 15 * 60 + 5)       # Dr Okafor, 15:05–15:10
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert s.booking.calls == [("book", (2, local(s.api, "15:00")))]
    rossi = s.appt("Rossi, Giulia", 2)
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton,
                      pos=grid.block_rect(rossi.id).center())
    assert s.booking.calls[-1] == ("edit", (rossi.id,))


def test_the_keyboard_walks_slots_and_appointments_and_books_or_opens(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    grid.setFocus()
    nguyen, obrien = s.appt("Nguyen, Bao", 1), s.appt("O'Brien, Siobhan", 1)
    garcia, rossi = s.appt("García López, María José", 1), s.appt("Rossi, Giulia", 2)
    grid.select_appointment(nguyen.id)
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert grid.sel_appt == obrien.id
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert grid.sel_slot == (0, 9 * 60 + 30)          # free 09:30–09:40
    assert s.view.selection_label.full_text().startswith("09:30–09:40 free with Dr Anna Demo")
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    assert grid.sel_appt == garcia.id
    qtbot.keyClick(grid, Qt.Key.Key_Up)
    assert grid.sel_slot == (0, 9 * 60 + 30)
    qtbot.keyClick(grid, Qt.Key.Key_Right)             # Dr Okafor is busy then
    assert grid.sel_appt == rossi.id
    qtbot.keyClick(grid, Qt.Key.Key_Left)
    assert grid.sel_slot == (0, 9 * 60 + 30)
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert s.booking.calls == [("book", (1, local(s.api, "09:30")))]
    qtbot.keyClick(grid, Qt.Key.Key_Down)
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert s.booking.calls[-1] == ("edit", (garcia.id,))
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    assert s.booking.calls[-1] == ("cancel", (garcia.id,))


def test_the_keyboard_moves_and_resizes_the_selected_appointment(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    s.booking.auto_finish = False
    grid = s.view.day_grid
    grid.setFocus()
    garcia = s.appt("García López, María José", 1)     # 09:40–09:55 with Dr Demo
    grid.select_appointment(garcia.id)
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(grid, Qt.Key.Key_Down, ctrl)
    qtbot.keyClick(grid, Qt.Key.Key_Down, ctrl)
    qtbot.keyClick(grid, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(grid, Qt.Key.Key_Down, shift)
    # Shown at once where the keys put it; one move is asked when the keys rest.
    block = grid.data.block_of(garcia.id)
    assert block is not None and block.pending and block.column == 1
    assert (block.start, block.end) == (9 * 60 + 50, 10 * 60 + 10)
    assert s.booking.calls == []
    with qtbot.waitSignal(grid.move_requested, timeout=3000):
        pass
    assert s.booking.calls == [("move", (garcia.id, 2, local(s.api, "09:50"),
                                         local(s.api, "10:10")))]
    # Enter sends a gathered keyboard move at once; Shift+Up shortens to no less than 5.
    s.booking.finished.emit()
    grid.select_appointment(garcia.id)
    for _ in range(4):
        qtbot.keyClick(grid, Qt.Key.Key_Up, shift)
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert s.booking.calls[-1] == ("move", (garcia.id, 1, local(s.api, "09:40"),
                                            local(s.api, "09:45")))


def test_status_keys_follow_the_status_flow(qtbot: QtBot) -> None:
    s = make_sheet(qtbot, apply=True)
    grid = s.view.day_grid
    grid.setFocus()
    obrien = s.appt("O'Brien, Siobhan", 1)
    grid.select_appointment(obrien.id)
    cs = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(grid, Qt.Key.Key_A, cs)
    assert s.booking.calls == [("set_status", (obrien.id, "checked_in"))]
    assert s.api.get(obrien.id).status == "checked_in"
    block = grid.data.block_of(obrien.id)
    assert block is not None and block.appointment.status_label == "Arrived"
    qtbot.keyClick(grid, Qt.Key.Key_U, cs)              # undo arrival
    assert s.api.get(obrien.id).status == "booked"
    # Completed cannot become Arrived: nothing is asked, the sentence says why.
    done = s.appt("Müller, Anna", 1)
    grid.select_appointment(done.id)
    qtbot.keyClick(grid, Qt.Key.Key_A, cs)
    assert s.booking.calls[-1] == ("set_status", (obrien.id, "booked"))
    assert s.view.message.text() == ("An appointment that is Completed cannot be marked "
                                     "Arrived.")


def test_days_change_with_page_keys_and_t_goes_back_to_today(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_PageDown)
    assert s.presenter.day.isoformat() == "2026-12-03"
    assert s.view.date_label.full_text() == "Thursday 3 December 2026"
    assert grid.now_minute() is None            # no now line on another day
    qtbot.keyClick(grid, Qt.Key.Key_PageUp)
    qtbot.keyClick(grid, Qt.Key.Key_PageUp)
    assert s.presenter.day.isoformat() == "2026-12-01"
    qtbot.keyClick(grid, Qt.Key.Key_T)
    assert s.presenter.day == DAY
    assert grid.now_minute() == 9 * 60 + 47



@pytest.mark.parametrize(("hour", "minute", "shown"), [
    (22, 15, "19:45–20:00"),   # after the last hour: the day's last slot, not "22:15–20:00"
    (5, 40, "07:00–07:15"),    # before the first: its first slot
])
def test_the_grid_offers_a_slot_inside_the_day_when_now_is_outside_it(
        qtbot: QtBot, hour: int, minute: int, shown: str) -> None:
    """Tabbing into today's grid picks the free slot at now; out of hours that is the
    nearest slot the grid shows, one that starts before it ends."""
    s = make_sheet(qtbot, now=datetime.combine(DAY, time(hour, minute), tzinfo=ZONE))
    grid = s.view.day_grid
    grid.setFocus()
    qtbot.waitUntil(grid.hasFocus)
    assert grid.viewport().accessibleDescription() == (
        f"{shown} free with Dr Anna Demo, Wed 2 Dec — Enter to book")



# A popup menu on the offscreen platform: it cannot raise or grab the keyboard there.
@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")
def test_the_context_menu_offers_the_statuses_the_flow_allows(qtbot: QtBot) -> None:
    s = make_sheet(qtbot, apply=True)
    grid = s.view.day_grid
    grid.setFocus()
    arrived = s.appt("Nguyen, Bao", 1)
    grid.select_appointment(arrived.id)
    seen: dict[str, bool] = {}

    def choose_in_room() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        for action in menu.actions():
            if action.text():
                seen[action.text()] = action.isEnabled()
        target = next(a for a in menu.actions() if a.text() == "In room")
        target.trigger()
        menu.close()

    QTimer.singleShot(0, choose_in_room)
    qtbot.keyClick(grid, Qt.Key.Key_Menu)      # the keyboard's way to the menu
    assert seen == {"Open…": True, "Arrived": False, "In room": True, "Completed": False,
                    "No-show": True, "Undo arrival": True, "Cancel appointment…": True}
    assert s.booking.calls == [("set_status", (arrived.id, "in_progress"))]
    assert s.api.get(arrived.id).status == "in_progress"
    # A free slot's menu: book there, or the waitlist.
    grid.select_slot(1, 15 * 60)
    seen.clear()

    def choose_waitlist() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        seen.update({a.text(): a.isEnabled() for a in menu.actions() if a.text()})
        next(a for a in menu.actions() if a.text() == "Waitlist…").trigger()
        menu.close()

    QTimer.singleShot(0, choose_waitlist)
    qtbot.keyClick(grid, Qt.Key.Key_Menu)
    assert seen == {"Book here…": True, "Waitlist…": True}
    assert s.booking.calls[-1] == ("show_waitlist", ())


def test_dragging_to_the_bottom_edge_scrolls_the_sheet(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    grid.scroll_to_minute(9 * 60, third=False)
    before = grid.verticalScrollBar().value()
    wojcik = s.appt("Wójcik, Zofia", 3)
    grab = grid.block_rect(wojcik.id).center()
    vp: QWidget = grid.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=grab)
    bottom = QPoint(grab.x(), vp.height() - 4)
    for _ in range(5):
        qtbot.mouseMove(vp, bottom)
    assert grid.verticalScrollBar().value() > before
    qtbot.keyClick(grid, Qt.Key.Key_Escape)           # Escape drops the drag
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=bottom)
    assert s.booking.calls == []


def test_a_move_in_flight_stays_put_through_another_workstations_change(
        qtbot: QtBot) -> None:
    from backend_client.sync.events import ChangeEvent

    s = make_sheet(qtbot)
    s.booking.auto_finish = False
    grid = s.view.day_grid
    grid.setFocus()
    kowalski = s.appt("Kowalski, Piotr", 1)           # 10:00–10:10
    grid.select_appointment(kowalski.id)
    qtbot.keyClick(grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert s.booking.calls == [("move", (kowalski.id, 2, local(s.api, "10:00"),
                                         local(s.api, "10:10")))]
    # Meanwhile someone books Dr Rossi: the sheet changes, the move in flight stays.
    s.api.add(5, DAY, "16:00", 15, "Fischer, Lena")
    s.notifications.changed.emit((ChangeEvent("appointment", 999),))
    block = grid.data.block_of(kowalski.id)
    assert block is not None and block.pending and block.column == 1
    assert any(b.appointment.patient_name == "Fischer, Lena" for b in grid.data.blocks[4])
    # The write is over (refused here): the record's place again.
    s.booking.finished.emit()
    block = grid.data.block_of(kowalski.id)
    assert block is not None and not block.pending and block.column == 0


def test_what_has_happened_cannot_be_dragged_or_moved_by_keys(qtbot: QtBot) -> None:
    s = make_sheet(qtbot)
    grid = s.view.day_grid
    grid.setFocus()
    done = s.appt("Müller, Anna", 1)                  # completed at 08:00
    grab = grid.block_rect(done.id).center()
    _press_drag_release(qtbot, grid, grab, QPoint(grab.x() + 200, grab.y() + 80))
    assert s.booking.calls == []
    assert grid.sel_appt == done.id                   # the click still selects it
    qtbot.keyClick(grid, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert s.view.message.text() == "An appointment that is Completed cannot be moved."
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    assert s.booking.calls == [("edit", (done.id,))]  # opening it is still fine


def test_an_arrival_notice_on_screen_leaves_ctrl_shift_a_to_the_day_sheet(
        qtbot: QtBot) -> None:
    """A doctor with an arrival notice showing still checks the chosen patient in with
    Ctrl+Shift+A; the notice has its own key (F6)."""
    from ui.scheduling.arrival_notice import ArrivalNoticeArea

    s = make_sheet(qtbot, apply=True)
    grid = s.view.day_grid
    area = ArrivalNoticeArea(s.view.window())
    area.show_notice("Anna Müller has arrived\n09:40 with Dr Demo", 1)
    window = s.view.window()
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # shortcuts need it
    grid.setFocus()
    obrien = s.appt("O'Brien, Siobhan", 1)
    grid.select_appointment(obrien.id)
    qtbot.keyClick(grid, Qt.Key.Key_A,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert s.booking.calls == [("set_status", (obrien.id, "checked_in"))]
    qtbot.keyClick(grid, Qt.Key.Key_F6)
    assert area.notices[-1].open_button.hasFocus()

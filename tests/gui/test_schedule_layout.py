"""The schedule in the main window at 1280×800 and 700 px wide: nothing clipped (long
names elided with the whole name in the tooltip), columns never squashed (the sheet
scrolls sideways instead), the Schedule and Patients tabs on Ctrl+1 and Ctrl+2.
Screenshots of the day sheet, the week view and the agenda."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractButton, QComboBox, QDateEdit, QWidget
from pytestqt.qtbot import QtBot

from backend_client.dto import PresenceInfo
from desktop.bridges.notifications import ChangeNotifications
from desktop.presenters.schedule import SchedulePresenter
from desktop.tasks import InlineTaskRunner
from tests.gui.conftest import save_screenshot
from tests.gui.fake_scheduling import demo_clinic
from tests.gui.schedule_support import DAY, FakeBooking
from ui.main_window import MainWindow
from ui.scheduling.grid_mouse import tooltip_at
from ui.scheduling.grid_painter import block_lines
from ui.scheduling.schedule_grid import MIN_COLUMN_WIDTH, ScheduleGridView
from ui.scheduling.schedule_view import ScheduleView

SHOTS = Path("/tmp/shots-sheet")


def _window(qtbot: QtBot) -> tuple[MainWindow, SchedulePresenter]:
    window = MainWindow()
    qtbot.addWidget(window)
    # The window's view shows the workstation's zone; the fake builds its times on the
    # same wall clock, so what is asserted holds in any zone.
    api = demo_clinic(DAY)
    now = datetime.combine(DAY, time(9, 47)).astimezone()
    presenter = SchedulePresenter(window.schedule_view, api, InlineTaskRunner(),
                                  ChangeNotifications(), FakeBooking(api), today=lambda: DAY,
                                  now=lambda: now, parent=window)
    window.set_signed_in("Rita Desk (receptionist)")
    window.set_schedule_available(True)
    window.show_work()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    presenter.start()
    presenter.presence_changed((PresenceInfo(11, "Dr Anna Demo", "room-3", "with_patient"),
                                PresenceInfo(12, "Dr Amara Okafor", "room-1", "available"),
                                PresenceInfo(14, "Nurse Li Wei", "desk-2", "away")))
    return window, presenter


def _clipped(view: ScheduleView) -> list[str]:
    """Toolbar controls narrower than their text needs, and labels that cut text."""
    out = []
    for widget in view.findChildren(QWidget):
        if not widget.isVisibleTo(view) or widget.parent() is not view:
            continue
        if isinstance(widget, QAbstractButton | QComboBox | QDateEdit) and \
                widget.width() < widget.minimumSizeHint().width():
            out.append(f"{widget.objectName() or type(widget).__name__}: {widget.width()} "
                       f"< {widget.minimumSizeHint().width()}")
    for label in (view.date_label, view.selection_label):
        if label.text() != label.full_text() and (not label.text().endswith("…")
                                                  or label.toolTip() != label.full_text()):
            out.append(f"{label.objectName()}: {label.text()!r}")
    return out


def _headers_fit(grid: ScheduleGridView) -> list[str]:
    out = []
    for col in range(len(grid.data.columns)):
        for shown, full in grid.header_lines(col):
            if shown != full and not shown.endswith("…"):
                out.append(full)
        tip = tooltip_at(grid, QPoint(grid.geometry_.x_of(col) + 5, 5))
        if any(shown != full for shown, full in grid.header_lines(col)):
            assert grid.data.columns[col].title in tip, "an elided header has its tooltip"
    return out


def test_the_schedule_fits_at_1280_and_at_700_pixels(qtbot: QtBot) -> None:
    window, _presenter = _window(qtbot)
    view = window.schedule_view
    assert window.work_tabs.currentWidget() is view
    grid = view.day_grid
    qtbot.waitUntil(lambda: _clipped(view) == [], timeout=2000)
    assert _headers_fit(grid) == []
    assert grid.horizontalScrollBar().maximum() == 0        # six providers fit
    assert grid.geometry_.col_w >= MIN_COLUMN_WIDTH
    # The long cardiologist's name is elided in its header, whole in the tooltip.
    title = grid.header_lines(2)[0]
    assert title[1] == "Dr Jonathan Fitzgerald-Hawthorne"
    save_screenshot(window, "schedule-day-1280.png")
    SHOTS.mkdir(exist_ok=True)
    window.grab().save(str(SHOTS / "day-1280.png"))

    window.resize(700, 800)
    qtbot.waitUntil(lambda: view.width() < 700, timeout=2000)
    qtbot.waitUntil(lambda: _clipped(view) == [], timeout=2000)
    assert grid.geometry_.col_w == MIN_COLUMN_WIDTH          # not squashed: scrolls
    assert grid.horizontalScrollBar().maximum() > 0
    assert _headers_fit(grid) == []
    # Block text is elided within its block, never painted past it.
    block = grid.data.blocks[0][0]
    assert block_lines(block)[0].startswith("08:00 Müller, Anna")
    window.grab().save(str(SHOTS / "day-700.png"))
    save_screenshot(window, "schedule-day-700.png")

    view.cancelled_check.setChecked(True)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: grid.horizontalScrollBar().maximum() == 0, timeout=2000)
    window.grab().save(str(SHOTS / "day-1280-cancelled.png"))
    view.cancelled_check.setChecked(False)

    view.mode_buttons["week"].click()
    qtbot.waitUntil(lambda: _clipped(view) == [], timeout=2000)
    assert _headers_fit(view.week_grid) == []
    window.grab().save(str(SHOTS / "week-1280.png"))
    save_screenshot(window, "schedule-week-1280.png")
    window.resize(700, 800)
    qtbot.waitUntil(lambda: _clipped(view) == [], timeout=2000)
    window.grab().save(str(SHOTS / "week-700.png"))

    window.resize(1280, 800)
    view.mode_buttons["agenda"].click()
    qtbot.waitUntil(lambda: _clipped(view) == [], timeout=2000)
    window.grab().save(str(SHOTS / "agenda-1280.png"))
    save_screenshot(window, "schedule-agenda-1280.png")


def test_ctrl_1_and_ctrl_2_switch_between_schedule_and_patients(qtbot: QtBot) -> None:
    window, _presenter = _window(qtbot)
    assert window.schedule_action.shortcut().toString() == "Ctrl+1"
    assert window.patients_action.shortcut().toString() == "Ctrl+2"
    window.patients_action.trigger()
    assert window.work_tabs.currentWidget() is window.splitter
    assert window.focusWidget() is window.patient_list.search_box
    window.schedule_action.trigger()
    assert window.work_tabs.currentWidget() is window.schedule_view
    assert window.focusWidget() is window.schedule_view.day_grid
    window.find_action.trigger()                  # Ctrl+F finds a patient from anywhere
    assert window.work_tabs.currentWidget() is window.splitter
    # Locked: neither switches (the lock screen covers the work).
    window.set_locked(True)
    assert not window.schedule_action.isEnabled() and not window.patients_action.isEnabled()
    window.set_locked(False)
    assert window.schedule_action.isEnabled()


def test_without_scheduling_the_window_is_the_patient_list_as_before(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.set_signed_in("Dr Ann Lee (doctor)")
    window.show_work()
    assert not window.work_tabs.isTabVisible(0)
    assert window.work_tabs.currentWidget() is window.splitter
    assert not window.schedule_action.isEnabled()
    window.schedule_action.trigger()
    assert window.work_tabs.currentWidget() is window.splitter

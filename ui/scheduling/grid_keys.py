"""The schedule grid's keyboard and context menu: every mouse action has a key.

Arrows move the selection between free slots and appointments (Left/Right: the next
column); Enter opens an appointment or books the free slot; Delete cancels;
Ctrl (or Alt) + arrows move the selected appointment by 5 minutes or to the next column;
Shift+Up/Down shorten or lengthen it by 5 minutes; Home or T goes to today; PageUp and
PageDown to the previous and next day; Ctrl+Shift+A/I/D/N/U set the status.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QMenu

from backend_client.dto import (
    APPOINTMENT_STATUS_LABELS,
    APPOINTMENT_TRANSITIONS,
    AppointmentInfo,
)
from ui.scheduling.grid_model import SNAP_MINUTES

if TYPE_CHECKING:
    from ui.scheduling.schedule_grid import ScheduleGridView

# (menu text, status, shortcut)
STATUS_ACTIONS = (
    ("Arrived", "checked_in", "Ctrl+Shift+A"),
    ("In room", "in_progress", "Ctrl+Shift+I"),
    ("Completed", "completed", "Ctrl+Shift+D"),
    ("No-show", "no_show", "Ctrl+Shift+N"),
    ("Undo arrival", "booked", "Ctrl+Shift+U"),
)
_STATUS_KEYS = {Qt.Key.Key_A: "checked_in", Qt.Key.Key_I: "in_progress",
                Qt.Key.Key_D: "completed", Qt.Key.Key_N: "no_show", Qt.Key.Key_U: "booked"}
_CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def allowed(status_from: str, status_to: str) -> bool:
    return status_to in APPOINTMENT_TRANSITIONS.get(status_from, ())


def activate(grid: ScheduleGridView) -> None:
    """Enter or a double-click: open the appointment, or book the free slot."""
    appt = grid.selected_appointment()
    if appt is not None:
        grid.open_requested.emit(appt)
        return
    slot = grid.selected_slot_time()
    if slot is not None:
        grid.book_requested.emit(*slot)


def status_for_key(event: QKeyEvent) -> str | None:
    """The status Ctrl+Shift+A/I/D/N/U asks for, or None for any other key."""
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if mods == _CTRL_SHIFT and event.key() in _STATUS_KEYS:
        return _STATUS_KEYS[Qt.Key(event.key())]
    return None


def refusal(appt: AppointmentInfo, status: str) -> str:
    """Why the flow does not allow it, or "" when it does."""
    if allowed(appt.status, status):
        return ""
    wanted = ("back to booked" if status == "booked"
              else APPOINTMENT_STATUS_LABELS.get(status, status))
    return f"An appointment that is {appt.status_label} cannot be marked {wanted}."


def set_status(grid: ScheduleGridView, status: str) -> None:
    appt = grid.selected_appointment()
    if appt is None:
        grid.notice.emit("Select an appointment first.")
        return
    sentence = refusal(appt, status)
    if sentence:
        grid.notice.emit(sentence)
        return
    grid.status_requested.emit(appt, status)


def cancel(grid: ScheduleGridView) -> None:
    appt = grid.selected_appointment()
    if appt is not None and appt.status in APPOINTMENT_TRANSITIONS \
            and "cancelled" in APPOINTMENT_TRANSITIONS[appt.status]:
        grid.cancel_requested.emit(appt)
    elif appt is not None:
        grid.notice.emit(f"An appointment that is {appt.status_label} cannot be cancelled.")


def handle_key(grid: ScheduleGridView, event: QKeyEvent) -> bool:
    """True when the key was the grid's."""
    key, mods = event.key(), event.modifiers()
    mods &= ~Qt.KeyboardModifier.KeypadModifier
    ctrl_or_alt = mods in (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier)
    status = status_for_key(event)
    if status is not None:
        set_status(grid, status)
        return True
    arrows = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right)
    if key in arrows and ctrl_or_alt:
        cols = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(Qt.Key(key), 0)
        minutes = {Qt.Key.Key_Up: -SNAP_MINUTES, Qt.Key.Key_Down: SNAP_MINUTES}.get(
            Qt.Key(key), 0)
        grid.nudge(cols, minutes, 0)
        return True
    if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and mods == Qt.KeyboardModifier.ShiftModifier:
        grid.nudge(0, 0, SNAP_MINUTES if key == Qt.Key.Key_Down else -SNAP_MINUTES)
        return True
    if key in arrows and mods == Qt.KeyboardModifier.NoModifier:
        _navigate(grid, Qt.Key(key))
        return True
    if mods != Qt.KeyboardModifier.NoModifier and key not in (Qt.Key.Key_Menu,):
        return False
    if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        if grid.pending_keyboard_move():
            grid.commit_keyboard_move()
        else:
            activate(grid)
    elif key == Qt.Key.Key_Delete:
        cancel(grid)
    elif key in (Qt.Key.Key_Home, Qt.Key.Key_T):
        grid.today_requested.emit()
    elif key == Qt.Key.Key_PageUp:
        grid.day_step_requested.emit(-1)
    elif key == Qt.Key.Key_PageDown:
        grid.day_step_requested.emit(1)
    elif key == Qt.Key.Key_Menu:
        context_menu(grid, None)
    else:
        return False
    return True


def _navigate(grid: ScheduleGridView, key: Qt.Key) -> None:
    data = grid.data
    if not data.columns:
        return
    block = grid.selected_block()
    if block is not None:
        col, start, end = block.column, block.start, block.end
    elif grid.sel_slot is not None:
        col, start = grid.sel_slot
        end = data.slot_end(col, start)
    else:
        grid.select_slot(max(0, grid.today_column()), data.first_minute)
        return
    if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
        col = col + (1 if key == Qt.Key.Key_Right else -1)
        if not 0 <= col < len(data.columns):
            return
        grid.select_at(col, start)
        return
    kind, value = data.step_down(col, end) if key == Qt.Key.Key_Down else data.step_up(col, start)
    if kind == "appt":
        grid.select_appointment(value)
    elif kind == "slot":
        grid.select_slot(col, value)


def context_menu(grid: ScheduleGridView, global_pos: QPoint | None) -> None:
    """The selected appointment's actions (open, statuses, cancel) or the free slot's
    (book, waitlist), each showing its key."""
    menu = QMenu(grid)
    appt = grid.selected_appointment()
    if appt is not None:
        _add(menu, "Open…", "Return", lambda: grid.open_requested.emit(appt))
        menu.addSeparator()
        for text, status, keys in STATUS_ACTIONS:
            action = _add(menu, text, keys, partial(set_status, grid, status))
            action.setEnabled(allowed(appt.status, status))
        menu.addSeparator()
        action = _add(menu, "Cancel appointment…", "Delete", lambda: cancel(grid))
        action.setEnabled(allowed(appt.status, "cancelled"))
    elif grid.sel_slot is not None:
        _add(menu, "Book here…", "Return", lambda: activate(grid))
        _add(menu, "Waitlist…", "", grid.waitlist_requested.emit)
    else:
        return
    if global_pos is None:
        block = grid.selected_block()
        if block is not None:
            rect = grid.block_rect(block.appointment.id)
            global_pos = grid.viewport().mapToGlobal(rect.center())
        else:
            global_pos = grid.viewport().mapToGlobal(grid.viewport().rect().center())
    menu.exec(global_pos)


def _add(menu: QMenu, text: str, keys: str, slot: Callable[[], object]) -> QAction:
    action = menu.addAction(text)
    if keys:
        # Shown for the user to learn; the grid's keyPressEvent does the work.
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    action.triggered.connect(slot)
    return action

"""The schedule grid: columns of one day's time, appointments as blocks; the day sheet's
and the week view's widget. Renders what it is given and emits intents; it writes
nothing itself. The mouse is ``grid_mouse.py``, the keyboard (everything the mouse does)
``grid_keys.py``, the pictures ``grid_painter.py``, the minutes ``grid_model.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QToolTip, QWidget

from backend_client.dto import AppointmentInfo
from ui.patients.formatting import MONTHS
from ui.scheduling import grid_keys, grid_mouse
from ui.scheduling.grid_model import (
    MOVABLE_STATUSES,
    SNAP_MINUTES,
    Block,
    GridColumn,
    GridData,
    Placement,
    at_minute,
    build_grid,
    hhmm,
    minute_of,
)
from ui.scheduling.grid_painter import (
    GridGeometry,
    GridPainter,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIN_COLUMN_WIDTH = 150
KEYBOARD_MOVE_MS = 700    # keyboard moves gather for this long, then one move is asked


class ScheduleGridView(QAbstractScrollArea):
    """Signals:
        book_requested(int, object): book with this provider at this aware datetime.
        open_requested(object): open this AppointmentInfo.
        move_requested(object, int, object, object): appointment, provider id, new start,
            new end (drag and drop, edge drag, keyboard move).
        cancel_requested(object): cancel this appointment (Delete).
        status_requested(object, str): move it along the status flow.
        waitlist_requested(): show the waitlist (context menu of a free slot).
        day_step_requested(int): previous (-1) or next (+1) day (PageUp/PageDown).
        today_requested(): go to today (Home or T).
        selection_changed(str): what is selected, as a sentence ("" for nothing).
        notice(str): a sentence for the status line (e.g. a status change not allowed).
    """

    book_requested = Signal(int, object)
    open_requested = Signal(object)
    move_requested = Signal(object, int, object, object)
    cancel_requested = Signal(object)
    status_requested = Signal(object, str)
    waitlist_requested = Signal()
    day_step_requested = Signal(int)
    today_requested = Signal()
    selection_changed = Signal(str)
    notice = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, zone: tzinfo | None = None,
                 min_column_width: int = MIN_COLUMN_WIDTH) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._zone = zone
        self._min_w = min_column_width
        self._painter = GridPainter(self.font())
        self._geo = GridGeometry(header_h=self._painter.header_height())
        self._columns: list[GridColumn] = []
        self._show_cancelled = False
        self._pending: dict[int, Placement] = {}
        self._data = GridData()
        self._now: datetime | None = None
        self.sel_appt: int | None = None
        self.sel_slot: tuple[int, int] | None = None      # (column, start minute)
        self._drag = grid_mouse.DragTracker(self)
        self._key_move = QTimer(self)
        self._key_move.setSingleShot(True)
        self._key_move.setInterval(KEYBOARD_MOVE_MS)
        self._key_move.timeout.connect(self.commit_keyboard_move)
        self._key_move_id: int | None = None

    # ------------------------------------------------------------------ data in

    def set_columns(self, columns: list[GridColumn], *, clear_pending: bool = True) -> None:
        """Show these columns; a move in flight goes back to where the record says."""
        self._columns = list(columns)
        if clear_pending:
            self._pending.clear()
            self._key_move.stop()
            self._key_move_id = None
        self._rebuild()
        if self.hasFocus():
            # Focused before the first sheet came (just signed in): the keyboard starts
            # on a slot, as it does when the focus arrives later.
            self._select_default()

    def set_badges(self, badges: dict[int, str]) -> None:
        self._columns = [replace(c, badge=badges.get(c.provider_id, ""))
                         for c in self._columns]
        self._rebuild()

    def set_show_cancelled(self, show: bool) -> None:
        self._show_cancelled = show
        self._rebuild()

    def set_now(self, now: datetime | None) -> None:
        self._now = now
        self.viewport().update()

    def clear_pending(self) -> None:
        if self._pending:
            self._pending.clear()
            self._rebuild()

    @property
    def data(self) -> GridData:
        return self._data

    @property
    def geometry_(self) -> GridGeometry:
        return self._geo

    @property
    def zone(self) -> tzinfo | None:
        return self._zone

    def pending(self) -> dict[int, Placement]:
        return dict(self._pending)

    def _rebuild(self) -> None:
        self._data = build_grid(self._columns, zone=self._zone,
                                show_cancelled=self._show_cancelled, pending=self._pending)
        self._geo.first, self._geo.last = self._data.first_minute, self._data.last_minute
        if self.sel_appt is not None and self._data.block_of(self.sel_appt) is None:
            self.sel_appt = None
        if self.sel_slot is not None and self.sel_slot[0] >= len(self._columns):
            self.sel_slot = None
        if self.sel_slot is not None:
            # The chosen free slot was just booked (here or at another desk): the keyboard
            # is now on that appointment, so the next key (check in, open) acts on it.
            column, minute = self.sel_slot
            taken = next((b for b in self._data.blocks[column]
                          if b.start <= minute < b.end and not b.pending
                          and b.appointment.status not in ("cancelled", "no_show")), None)
            if taken is not None:
                self.sel_appt, self.sel_slot = taken.appointment.id, None
        self._relayout()
        self._announce_selection()

    # ------------------------------------------------------------------ geometry

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self) -> None:
        geo, vp = self._geo, self.viewport()
        n = max(1, len(self._columns))
        geo.col_w = max(self._min_w, (vp.width() - geo.axis_w) // n)
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        hbar.setRange(0, max(0, n * geo.col_w - (vp.width() - geo.axis_w)))
        hbar.setPageStep(max(1, vp.width() - geo.axis_w))
        hbar.setSingleStep(geo.col_w // 3)
        vbar.setRange(0, max(0, geo.content_height() - (vp.height() - geo.header_h)))
        vbar.setPageStep(max(1, vp.height() - geo.header_h))
        vbar.setSingleStep(int(geo.ppm * 15))
        geo.dx, geo.dy = hbar.value(), vbar.value()
        vp.update()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (Qt API)
        self._geo.dx = self.horizontalScrollBar().value()
        self._geo.dy = self.verticalScrollBar().value()
        self.viewport().update()

    def today_column(self) -> int:
        return next((i for i, c in enumerate(self._columns) if c.is_today), -1)

    def now_minute(self) -> int | None:
        col = self.today_column()
        if col < 0 or self._now is None:
            return None
        return minute_of(self._now, self._columns[col].day, self._zone)

    def scroll_to_start(self) -> None:
        """Today: the "now" line a third of the way down; another day: its first hours."""
        minute = self.now_minute()
        if minute is None:
            starts = [a for c in self._data.columns for a, _ in c.working]
            starts += [b.start for col in self._data.blocks for b in col]
            minute = min(starts) if starts else self._data.first_minute
            self.scroll_to_minute(minute, third=False)
        else:
            self.scroll_to_minute(minute, third=True)

    def scroll_to_minute(self, minute: int, *, third: bool) -> None:
        room = self.viewport().height() - self._geo.header_h
        offset = room // 3 if third else 12
        self.verticalScrollBar().setValue(
            int((minute - self._geo.first) * self._geo.ppm) - offset)

    def ensure_visible(self, column: int, start: int, end: int) -> None:
        geo, vp = self._geo, self.viewport()
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        left = column * geo.col_w
        if left < hbar.value():
            hbar.setValue(left)
        elif left + geo.col_w > hbar.value() + vp.width() - geo.axis_w:
            hbar.setValue(left + geo.col_w - (vp.width() - geo.axis_w))
        top, bottom = (start - geo.first) * geo.ppm, (end - geo.first) * geo.ppm
        room = vp.height() - geo.header_h
        if top < vbar.value():
            vbar.setValue(int(top) - 4)
        elif bottom > vbar.value() + room:
            vbar.setValue(int(min(top, bottom - room)) + 4)

    # ------------------------------------------------------------------ lookups

    def block_at(self, pos: QPoint) -> Block | None:
        geo = self._geo
        if pos.x() < geo.axis_w or pos.y() < geo.header_h:
            return None
        col = geo.column_at(pos.x())
        if not 0 <= col < len(self._data.blocks):
            return None
        for block in reversed(self._data.blocks[col]):   # the topmost painted first
            if geo.block_rect(block).contains(pos):
                return block
        return None

    def cell_at(self, pos: QPoint) -> tuple[int, float] | None:
        geo = self._geo
        if pos.x() < geo.axis_w or pos.y() < geo.header_h:
            return None
        col = geo.column_at(pos.x())
        if not 0 <= col < len(self._columns):
            return None
        minute = geo.minute_at(pos.y())
        if not geo.first <= minute < geo.last:
            return None
        return col, minute

    def block_rect(self, appointment_id: int) -> QRect:
        """Where an appointment is on screen (scrolled into view first): tests, menus."""
        block = self._data.block_of(appointment_id)
        if block is None:
            return QRect()
        self.ensure_visible(block.column, block.start, block.end)
        return self._geo.block_rect(block).toAlignedRect()

    def slot_point(self, column: int, minute: int) -> QPoint:
        """The point in the middle of a 5-minute step (scrolled into view first)."""
        self.ensure_visible(column, minute, minute + SNAP_MINUTES)
        geo = self._geo
        return QPoint(geo.x_of(column) + geo.col_w // 2,
                      int(geo.y_of(minute + SNAP_MINUTES / 2)))

    def header_lines(self, column: int) -> list[tuple[str, str]]:
        """(shown, full) per header line at the current width."""
        return self._painter.header_texts(self._columns[column], self._geo.col_w - 14)

    def selected_appointment(self) -> AppointmentInfo | None:
        block = self._data.block_of(self.sel_appt) if self.sel_appt is not None else None
        return block.appointment if block is not None else None

    def selected_block(self) -> Block | None:
        return self._data.block_of(self.sel_appt) if self.sel_appt is not None else None

    def column_name(self, column: int) -> str:
        """ "Dr Anna Demo, Wed 2 Dec": who and which day, for sentences and tooltips."""
        if not 0 <= column < len(self._columns):
            return ""
        c = self._columns[column]
        return (f"{c.provider_name or c.title}, {WEEKDAYS[c.day.weekday()]} {c.day.day} "
                f"{MONTHS[c.day.month - 1]}")

    # ------------------------------------------------------------------ selection

    def select_appointment(self, appointment_id: int, *, scroll: bool = True) -> None:
        block = self._data.block_of(appointment_id)
        if block is None:
            return
        self.sel_appt, self.sel_slot = appointment_id, None
        if scroll:   # not under a mouse press: the block must stay under the pointer
            self.ensure_visible(block.column, block.start, block.end)
        self._announce_selection()

    def select_at(self, column: int, minute: int) -> None:
        """The appointment at that time in that column, or else the free slot there. A
        minute off the axis (now, out of hours) is taken as the nearest one on it."""
        if not 0 <= column < len(self._columns):
            return
        minute = max(self._data.first_minute, min(minute, self._data.last_minute - 1))
        hit = self._data.covering(column, minute)
        if hit is not None:
            self.select_appointment(hit.appointment.id)
        else:
            self.select_slot(column, minute)

    def select_slot(self, column: int, minute: int) -> None:
        if not 0 <= column < len(self._columns):
            return
        start = self._data.slot_start_at(column, minute)
        self.sel_appt, self.sel_slot = None, (column, start)
        self.ensure_visible(column, start, self._data.slot_end(column, start))
        self._announce_selection()

    def selected_slot_time(self) -> tuple[int, datetime] | None:
        """(provider id, start) of the selected free slot."""
        if self.sel_slot is None:
            return None
        col, start = self.sel_slot
        column = self._columns[col]
        return column.provider_id, at_minute(column.day, start, self._zone)

    def _announce_selection(self) -> None:
        self.viewport().update()
        block = self.selected_block()
        if block is not None:
            appt = block.appointment
            text = (f"{hhmm(block.start)}–{hhmm(block.end)} {appt.patient_name}, "
                    f"{appt.type_name or 'appointment'} with {self.column_name(block.column)}"
                    f" — {appt.status_label}" + (" (moving…)" if block.pending else ""))
        elif self.sel_slot is not None:
            col, start = self.sel_slot
            text = (f"{hhmm(start)}–{hhmm(self._data.slot_end(col, start))} free with "
                    f"{self.column_name(col)} — Enter to book")
        else:
            text = ""
        self.viewport().setAccessibleDescription(text)
        self.selection_changed.emit(text)

    # ------------------------------------------------------------------ moves

    def request_move(self, block: Block, column: int, start: int, end: int) -> None:
        """Show the block at its new place at once and ask for the move."""
        target = self._columns[column]
        starts = at_minute(target.day, start, self._zone)
        ends = at_minute(target.day, end, self._zone)
        appt = block.appointment
        self._pending[appt.id] = Placement(target.provider_id, starts, ends)
        self._rebuild()
        self.move_requested.emit(appt, target.provider_id, starts, ends)

    def nudge(self, columns: int, minutes: int, length: int) -> None:
        """A keyboard move: shift the selected block; the move is asked once the keys
        rest (one request for several presses, not one per press)."""
        block = self.selected_block()
        if block is None:
            self.notice.emit("Select an appointment first.")
            return
        if block.appointment.status not in MOVABLE_STATUSES:
            self.notice.emit(f"An appointment that is {block.appointment.status_label} "
                             "cannot be moved.")
            return
        col = block.column + columns
        start, end = block.start + minutes, block.end + minutes + length
        if not 0 <= col < len(self._columns) or start < 0 or end > 24 * 60 \
                or end - start < SNAP_MINUTES:
            return
        target = self._columns[col]
        self._pending[block.appointment.id] = Placement(
            target.provider_id, at_minute(target.day, start, self._zone),
            at_minute(target.day, end, self._zone))
        self._key_move_id = block.appointment.id
        self._rebuild()
        self.ensure_visible(col, start, end)
        self._key_move.start()

    def pending_keyboard_move(self) -> bool:
        return self._key_move_id is not None

    def commit_keyboard_move(self) -> None:
        self._key_move.stop()
        appt_id, self._key_move_id = self._key_move_id, None
        block = self._data.block_of(appt_id) if appt_id is not None else None
        place = self._pending.get(appt_id) if appt_id is not None else None
        if block is None or place is None:
            return
        self.move_requested.emit(block.appointment, place.provider_id, place.starts_at,
                                 place.ends_at)

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self.viewport())
        vp = self.viewport()
        slot = None
        if self.sel_slot is not None:
            col, start = self.sel_slot
            slot = (col, start, self._data.slot_end(col, start))
        self._painter.paint(p, self._data, self._geo, vp.width(), vp.height(),
                            selected_appt=self.sel_appt, selected_slot=slot,
                            now_minute=self.now_minute(), ghost=self._drag.ghost,
                            focused=self.hasFocus())
        p.end()

    def focusInEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().focusInEvent(event)
        self._select_default()

    def _select_default(self) -> None:
        """Now's slot on today's column (or the first shown hour), if nothing is chosen."""
        if self.sel_appt is None and self.sel_slot is None and self._columns:
            minute = self.now_minute()
            self.select_at(max(0, self.today_column()),
                           minute if minute is not None else self._geo.first
                           + int(self.verticalScrollBar().value() / self._geo.ppm) + 15)
        self.viewport().update()

    def focusOutEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().focusOutEvent(event)
        if self._key_move_id is not None:
            self.commit_keyboard_move()
        self.viewport().update()

    # ------------------------------------------------------------------ mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._drag.press(event.position().toPoint(), event.button())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self._drag.move(event.position().toPoint())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self._drag.release()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self._drag.double_click(event.position().toPoint())

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt API)
        if event.reason() == QContextMenuEvent.Reason.Mouse:
            pos = event.pos()
            block = self.block_at(pos)
            if block is not None:
                self.select_appointment(block.appointment.id)
            elif (cell := self.cell_at(pos)) is not None:
                self.select_slot(cell[0], int(cell[1]))
            else:
                return
            grid_keys.context_menu(self, event.globalPos())
        else:
            grid_keys.context_menu(self, None)

    # ------------------------------------------------------------------ keys, tips

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Escape and self._drag.ghost is not None:
            self._drag.cancel()
            return
        if not grid_keys.handle_key(self, event):
            super().keyPressEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = grid_mouse.tooltip_at(self, event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

"""The schedule grid's mouse: click selects, double-click opens or books, dragging a block
moves it (another time or column), dragging its bottom edge changes its length; both snap
to 5 minutes and scroll when the pointer nears an edge. And what the tooltips say."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from ui.scheduling import grid_keys
from ui.scheduling.grid_model import DAY_MINUTES, MOVABLE_STATUSES, SNAP_MINUTES, Block, hhmm
from ui.scheduling.grid_painter import PRESENCE_LABELS, block_tooltip

if TYPE_CHECKING:
    from ui.scheduling.schedule_grid import ScheduleGridView

EDGE_PX = 6               # the bottom edge's grip for changing the length
SCROLL_MARGIN = 24        # dragging this close to an edge scrolls


def snap(minute: float) -> int:
    return int(round(minute / SNAP_MINUTES)) * SNAP_MINUTES


class DragTracker:
    """A press on a block, then (past the drag distance) a ghost of where it would go."""

    def __init__(self, grid: ScheduleGridView) -> None:
        self.grid = grid
        self.pressed: tuple[QPoint, Block, str, float] | None = None
        self.ghost: tuple[Block, int, int, int] | None = None   # block, column, start, end

    def press(self, pos: QPoint, button: Qt.MouseButton) -> None:
        grid = self.grid
        block = grid.block_at(pos)
        if block is not None:
            grid.select_appointment(block.appointment.id, scroll=False)
            if button == Qt.MouseButton.LeftButton \
                    and block.appointment.status in MOVABLE_STATUSES:
                rect = grid.geometry_.block_rect(block)
                mode = "resize" if rect.bottom() - pos.y() <= EDGE_PX else "move"
                grab = grid.geometry_.minute_at(pos.y()) - block.start
                self.pressed = (pos, block, mode, grab)
            return
        cell = grid.cell_at(pos)
        if cell is not None:
            grid.select_slot(cell[0], int(cell[1]))

    def move(self, pos: QPoint) -> None:
        grid, geo = self.grid, self.grid.geometry_
        if self.pressed is None:
            block = grid.block_at(pos)
            if block is not None and block.appointment.status in MOVABLE_STATUSES:
                near_edge = geo.block_rect(block).bottom() - pos.y() <= EDGE_PX
                grid.viewport().setCursor(Qt.CursorShape.SizeVerCursor if near_edge
                                          else Qt.CursorShape.OpenHandCursor)
            else:
                grid.viewport().unsetCursor()
            return
        origin, block, mode, grab = self.pressed
        if self.ghost is None and (pos - origin).manhattanLength() \
                < QApplication.startDragDistance():
            return
        self._autoscroll(pos)
        length = block.end - block.start
        if mode == "move":
            col = min(max(0, geo.column_at(pos.x())), len(grid.data.columns) - 1)
            start = min(max(0, snap(geo.minute_at(pos.y()) - grab)), DAY_MINUTES - length)
            self.ghost = (block, col, start, start + length)
        else:
            end = max(block.start + SNAP_MINUTES, min(DAY_MINUTES, snap(geo.minute_at(pos.y()))))
            self.ghost = (block, block.column, block.start, end)
        grid.viewport().update()

    def release(self) -> None:
        ghost, self.ghost, self.pressed = self.ghost, None, None
        if ghost is None:
            return
        block, col, start, end = ghost
        if (col, start, end) == (block.column, block.start, block.end):
            self.grid.viewport().update()
            return
        self.grid.request_move(block, col, start, end)

    def cancel(self) -> None:
        self.ghost = self.pressed = None
        self.grid.viewport().update()

    def double_click(self, pos: QPoint) -> None:
        self.ghost = self.pressed = None
        grid = self.grid
        block = grid.block_at(pos)
        if block is not None:
            grid.open_requested.emit(block.appointment)
            return
        cell = grid.cell_at(pos)
        if cell is not None:
            grid.select_slot(cell[0], int(cell[1]))
            grid_keys.activate(grid)

    def _autoscroll(self, pos: QPoint) -> None:
        """Dragging near an edge scrolls that way, so a block can go anywhere."""
        grid = self.grid
        vp, geo, edge = grid.viewport(), grid.geometry_, SCROLL_MARGIN
        vbar, hbar = grid.verticalScrollBar(), grid.horizontalScrollBar()
        if pos.y() < geo.header_h + edge:
            vbar.setValue(vbar.value() - vbar.singleStep() // 2)
        elif pos.y() > vp.height() - edge:
            vbar.setValue(vbar.value() + vbar.singleStep() // 2)
        if geo.axis_w <= pos.x() < geo.axis_w + edge:
            hbar.setValue(hbar.value() - hbar.singleStep() // 2)
        elif pos.x() > vp.width() - edge:
            hbar.setValue(hbar.value() + hbar.singleStep() // 2)


def tooltip_at(grid: ScheduleGridView, pos: QPoint) -> str:
    """A header's whole name and presence, a block's details, or a free slot's time."""
    geo = grid.geometry_
    columns = grid.data.columns
    col = geo.column_at(pos.x())
    if pos.y() < geo.header_h and pos.x() >= geo.axis_w and 0 <= col < len(columns):
        column = columns[col]
        lines = [column.title, column.subtitle]
        if column.badge:
            lines.append(PRESENCE_LABELS.get(column.badge, column.badge))
        return "\n".join(line for line in lines if line)
    block = grid.block_at(pos)
    if block is not None:
        return block_tooltip(block, grid.column_name(block.column))
    cell = grid.cell_at(pos)
    if cell is not None:
        start = grid.data.slot_start_at(cell[0], int(cell[1]))
        return (f"{hhmm(start)} free with {grid.column_name(cell[0])}\n"
                "Double-click or Enter to book")
    return ""

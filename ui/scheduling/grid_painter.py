"""Painting the schedule grid: columns, hours, appointment blocks, the "now" line.

Only what is on screen is painted (a 50-provider day has 1,500 blocks; a frame paints the
few dozen in view). Status is shown by words as well as colour (Arrived, In room,
Completed, No-show, Cancelled), so nobody has to tell green from blue.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen

from ui.scheduling.grid_model import SLOT_MINUTES, Block, GridColumn, GridData, hhmm

PRESENCE_LABELS = {"available": "Available", "with_patient": "With a patient",
                   "away": "Away", "signed_out": "Not signed in"}
PRESENCE_COLOURS = {"available": "#2e7d32", "with_patient": "#ef6c00", "away": "#8d6e63",
                    "signed_out": "#9e9e9e"}
# Words first, colour second: the chip text is what tells the status.
STATUS_CHIPS = {"checked_in": ("#2e7d32", "✓ Arrived"), "in_progress": ("#1565c0", "● In room"),
                "completed": ("#546e7a", "✔ Completed"), "no_show": ("#c62828", "✗ No-show"),
                "cancelled": ("#616161", "⊘ Cancelled")}

OUT_OF_HOURS = QColor("#e9edf1")
WORKING = QColor("#ffffff")
HOUR_LINE = QColor("#cfd6dd")
HALF_LINE = QColor("#eceff3")
COLUMN_LINE = QColor("#c3ccd5")
HEADER_BG = QColor("#f5f7fa")
TODAY_BG = QColor("#e3f2fd")
NOW = QColor("#d32f2f")
SELECTION = QColor("#0d47a1")
TEXT = QColor("#1f2933")
MUTED = QColor("#52606d")
NO_SHOW_HATCH = QBrush(QColor(198, 40, 40, 70), Qt.BrushStyle.BDiagPattern)
SELECTED_PEN = QPen(SELECTION, 2)
PENDING_PEN = QPen(QColor("#37474f"), 1.5, Qt.PenStyle.DashLine)


@dataclass
class GridGeometry:
    """Pixels for minutes and columns; ``dx``/``dy`` are the scroll offsets."""

    axis_w: int = 56
    header_h: int = 62
    ppm: float = 2.4                    # pixels per minute: a 5-minute step is 12 px
    col_w: int = 150
    dx: int = 0
    dy: int = 0
    first: int = 7 * 60
    last: int = 19 * 60

    def x_of(self, column: int) -> int:
        return self.axis_w + column * self.col_w - self.dx

    def y_of(self, minute: float) -> float:
        return self.header_h + (minute - self.first) * self.ppm - self.dy

    def column_at(self, x: float) -> int:
        return int((x - self.axis_w + self.dx) // self.col_w)

    def minute_at(self, y: float) -> float:
        return self.first + (y - self.header_h + self.dy) / self.ppm

    def content_height(self) -> int:
        return int((self.last - self.first) * self.ppm)

    def block_rect(self, block: Block) -> QRectF:
        inner = self.col_w - 8
        width = inner / block.lanes
        x = self.x_of(block.column) + 3 + block.lane * width
        top = self.y_of(block.start) + 1
        return QRectF(x, top, width - 2, max(6.0, (block.end - block.start) * self.ppm - 2))


def blend(colour: QColor, other: QColor, amount: float) -> QColor:
    """``amount`` of ``other`` mixed into ``colour``."""
    return QColor(int(colour.red() + (other.red() - colour.red()) * amount),
                  int(colour.green() + (other.green() - colour.green()) * amount),
                  int(colour.blue() + (other.blue() - colour.blue()) * amount))


def block_lines(block: Block) -> tuple[str, str]:
    """The two lines of a block: "09:40 Müller, Anna" and "✓ Arrived · Consultation"."""
    appt = block.appointment
    first = f"{hhmm(block.start)} {appt.patient_name}"
    kind = ("↻ " if appt.series_id else "") + (appt.type_name or "Appointment")
    chip = STATUS_CHIPS.get(appt.status)
    second = f"{chip[1]} · {kind}" if chip else kind
    if block.pending:
        second = f"Moving… · {second}"
    return first, second


def block_tooltip(block: Block, provider_name: str) -> str:
    appt = block.appointment
    lines = [appt.patient_name + (f" ({appt.patient_mrn})" if appt.patient_mrn else ""),
             f"{hhmm(block.start)}–{hhmm(block.end)} with {provider_name}",
             f"{appt.type_name or 'Appointment'} · {appt.status_label}"]
    if appt.reason:
        lines.append(f"Reason: {appt.reason}")
    if appt.series_id:
        lines.append("Part of a series")
    if appt.cancel_reason:
        lines.append(f"Cancelled: {appt.cancel_reason}")
    if appt.override_reason:
        lines.append(f"Booked despite a warning: {appt.override_reason}")
    if block.pending:
        lines.append("Moving… (waiting for the clinic's record)")
    lines.append("Enter or double-click to open · drag to move · Delete to cancel")
    return "\n".join(lines)


class GridPainter:
    """Paints a :class:`GridData` through a :class:`GridGeometry` onto a widget."""

    def __init__(self, font: QFont) -> None:
        self.font = QFont(font)
        self.bold = QFont(font)
        self.bold.setBold(True)
        self.strike = QFont(self.bold)
        self.strike.setStrikeOut(True)
        self.fm = QFontMetrics(self.font)
        self.fm_bold = QFontMetrics(self.bold)
        self.line_h = self.fm.height()
        self._colour_cache: dict[tuple[str, str], tuple[QColor, QColor, QPen]] = {}
        self._elided: dict[tuple[str, int, bool], str] = {}

    def header_height(self) -> int:
        return self.fm.height() * 3 + 14

    # ------------------------------------------------------------------ whole frame

    def paint(self, p: QPainter, data: GridData, geo: GridGeometry, width: int, height: int,
              *, selected_appt: int | None, selected_slot: tuple[int, int, int] | None,
              now_minute: int | None, ghost: tuple[Block, int, int, int] | None,
              focused: bool) -> None:
        cols = self.visible_columns(data, geo, width)
        p.fillRect(0, 0, width, height, OUT_OF_HOURS)
        p.save()
        p.setClipRect(geo.axis_w, geo.header_h, width - geo.axis_w, height - geo.header_h)
        for c in cols:
            self._column_body(p, data.columns[c], c, geo, height)
        self._hour_lines(p, geo, width, height)
        if selected_slot is not None and selected_slot[0] in cols:
            col, start, end = selected_slot
            rect = QRectF(geo.x_of(col) + 1, geo.y_of(start), geo.col_w - 2,
                          (end - start) * geo.ppm)
            fill = QColor("#bbdefb")
            p.fillRect(rect, fill)
            p.setPen(QPen(SELECTION if focused else QColor("#64b5f6"), 2))
            p.drawRect(rect.adjusted(1, 1, -1, -1))
            p.setPen(QPen(SELECTION))
            p.setFont(self.font)
            p.drawText(rect.adjusted(6, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter,
                       f"{hhmm(start)} free")
        top = geo.minute_at(geo.header_h) - 1
        bottom = geo.minute_at(height) + 1
        for c in cols:
            for block in data.blocks[c]:
                if block.end < top or block.start > bottom:
                    continue    # off screen: a column has 30, a frame shows a dozen
                dragged = ghost is not None and ghost[0].appointment.id == block.appointment.id
                self._block(p, block, geo, selected=block.appointment.id == selected_appt,
                            faded=dragged)
        if ghost is not None:
            block, col, start, end = ghost
            placed = Block(block.appointment, col, start, end, pending=True)
            self._block(p, placed, geo, selected=True, faded=False)
        if now_minute is not None:
            self._now_line(p, data, geo, cols, now_minute)
        p.restore()
        self._header(p, data, geo, cols, width)
        self._axis(p, geo, height, now_minute if any(
            data.columns[c].is_today for c in cols) else None)
        p.fillRect(0, 0, geo.axis_w, geo.header_h, HEADER_BG)

    def visible_columns(self, data: GridData, geo: GridGeometry, width: int) -> range:
        if not data.columns:
            return range(0)
        first = max(0, geo.column_at(geo.axis_w))
        last = min(len(data.columns) - 1, geo.column_at(width - 1))
        return range(first, last + 1)

    # ------------------------------------------------------------------ pieces

    def _column_body(self, p: QPainter, column: GridColumn, c: int, geo: GridGeometry,
                     height: int) -> None:
        x = geo.x_of(c)
        for a, b in column.working:
            top, bottom = geo.y_of(a), geo.y_of(b)
            p.fillRect(QRectF(x, top, geo.col_w, bottom - top), WORKING)
        p.setPen(QPen(COLUMN_LINE))
        p.drawLine(x + geo.col_w - 1, geo.header_h, x + geo.col_w - 1, height)

    def _hour_lines(self, p: QPainter, geo: GridGeometry, width: int, height: int) -> None:
        start = geo.first + (30 - geo.first % 30) % 30
        for minute in range(start, geo.last + 1, 30):
            y = geo.y_of(minute)
            if y < geo.header_h or y > height:
                continue
            p.setPen(QPen(HOUR_LINE if minute % 60 == 0 else HALF_LINE))
            p.drawLine(QPointF(geo.axis_w, y), QPointF(width, y))

    def _colours(self, colour: str, status: str) -> tuple[QColor, QColor, QPen]:
        """(stripe, fill, border) for a type colour and status, made once."""
        key = (colour, status)
        found = self._colour_cache.get(key)
        if found is None:
            base = QColor(colour) if QColor.isValidColorName(colour) else QColor("#607d8b")
            if status == "completed":
                fill = blend(base, QColor("#eceff1"), 0.88)
            else:
                fill = blend(base, QColor("#ffffff"), 0.78)
            chip = STATUS_CHIPS.get(status)
            if status == "in_progress" and chip:
                pen = QPen(QColor(chip[0]), 2)
            else:
                pen = QPen(base.darker(125), 1)
            found = self._colour_cache[key] = (base, fill, pen)
        return found

    def _elide(self, text: str, width: int, bold: bool) -> str:
        key = (text, width, bold)
        found = self._elided.get(key)
        if found is None:
            if len(self._elided) > 20_000:
                self._elided.clear()
            fm = self.fm_bold if bold else self.fm
            found = self._elided[key] = fm.elidedText(text, Qt.TextElideMode.ElideRight, width)
        return found

    def _block(self, p: QPainter, block: Block, geo: GridGeometry, *, selected: bool,
               faded: bool) -> None:
        appt = block.appointment
        rect = geo.block_rect(block)
        base, fill, pen = self._colours(appt.colour, appt.status)
        dim = appt.status == "cancelled" or faded
        if dim:
            p.setOpacity(0.45)
        p.fillRect(rect, fill)
        if appt.status == "no_show":
            p.fillRect(rect, NO_SHOW_HATCH)
        p.fillRect(QRectF(rect.x(), rect.y(), 4, rect.height()), base)
        chip = STATUS_CHIPS.get(appt.status)
        if chip is not None:  # a status stripe on the right as well as the words
            p.fillRect(QRectF(rect.right() - 3, rect.y(), 3, rect.height()),
                       self._colours(chip[0], "")[0])
        if selected:
            pen = SELECTED_PEN
        elif block.pending:
            pen = PENDING_PEN
        p.setPen(pen)
        p.drawRect(rect.adjusted(0.5, 0.5, -0.5, -0.5))
        self._block_text(p, block, rect, chip)
        if dim:
            p.setOpacity(1.0)

    def _block_text(self, p: QPainter, block: Block, rect: QRectF,
                    chip: tuple[str, str] | None) -> None:
        text_rect = rect.adjusted(7, 1, -6, -1)
        width = int(text_rect.width())
        if width < 12 or text_rect.height() < 8:
            return
        first, second = block_lines(block)
        line_h = self.line_h
        x, y, height = text_rect.x(), text_rect.y(), text_rect.height()
        if height < 2 * line_h and chip is not None:
            first = f"{chip[1].split()[0]} {first}"   # one line: the status glyph leads
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        p.setFont(self.strike if block.appointment.status == "cancelled" else self.bold)
        p.setPen(TEXT)
        p.drawText(QRectF(x, y, width, line_h), left, self._elide(first, width, True))
        if height >= 2 * line_h:
            p.setFont(self.font)
            p.setPen(self._colours(chip[0], "")[0] if chip else MUTED)
            p.drawText(QRectF(x, y + line_h, width, line_h), left,
                       self._elide(second, width, False))
        reason = block.appointment.reason
        if reason and height >= 3 * line_h:
            p.setPen(MUTED)
            p.drawText(QRectF(x, y + 2 * line_h, width, line_h), left,
                       self._elide(reason, width, False))

    def _now_line(self, p: QPainter, data: GridData, geo: GridGeometry, cols: range,
                  now_minute: int) -> None:
        y = geo.y_of(now_minute)
        p.setPen(QPen(NOW, 2))
        for c in cols:
            if data.columns[c].is_today:
                x = geo.x_of(c)
                p.drawLine(QPointF(x, y), QPointF(x + geo.col_w - 1, y))
                p.setBrush(NOW)
                p.drawEllipse(QPointF(x + 3, y), 3.5, 3.5)
                p.setBrush(Qt.BrushStyle.NoBrush)

    def header_texts(self, column: GridColumn, width: int) -> list[tuple[str, str]]:
        """(shown, full) for each header line: long names are elided, never clipped."""
        lines = [(self.bold, column.title), (self.font, column.subtitle)]
        if column.badge:
            lines.append((self.font, PRESENCE_LABELS.get(column.badge, column.badge)))
        out = []
        for i, (font, text) in enumerate(lines):
            room = width - (14 if i == 2 else 0)
            out.append((QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight,
                                                      room), text))
        return out

    def _header(self, p: QPainter, data: GridData, geo: GridGeometry, cols: range,
                width: int) -> None:
        p.save()
        p.setClipRect(geo.axis_w, 0, width - geo.axis_w, geo.header_h)
        p.fillRect(geo.axis_w, 0, width - geo.axis_w, geo.header_h, HEADER_BG)
        line_h = self.fm.height()
        for c in cols:
            column = data.columns[c]
            x = geo.x_of(c)
            if column.is_today:
                p.fillRect(QRectF(x, 0, geo.col_w, geo.header_h), TODAY_BG)
            room = geo.col_w - 14
            texts = self.header_texts(column, room)
            for i, (shown, _full) in enumerate(texts):
                y = 6 + i * line_h
                if i == 0:
                    p.setFont(self.bold)
                    p.setPen(QPen(TEXT))
                    p.drawText(QRectF(x + 7, y, room, line_h), Qt.AlignmentFlag.AlignVCenter,
                               shown)
                elif i == 1:
                    p.setFont(self.font)
                    p.setPen(QPen(MUTED))
                    p.drawText(QRectF(x + 7, y, room, line_h), Qt.AlignmentFlag.AlignVCenter,
                               shown)
                else:
                    colour = QColor(PRESENCE_COLOURS.get(column.badge, "#9e9e9e"))
                    p.setPen(QPen(colour, 1.5))
                    p.setBrush(colour if column.badge != "signed_out" else Qt.BrushStyle.NoBrush)
                    p.drawEllipse(QPointF(x + 11, y + line_h / 2), 4, 4)
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.setFont(self.font)
                    p.drawText(QRectF(x + 21, y, room - 14, line_h),
                               Qt.AlignmentFlag.AlignVCenter, shown)
            p.setPen(QPen(COLUMN_LINE))
            p.drawLine(x + geo.col_w - 1, 0, x + geo.col_w - 1, geo.header_h)
        p.drawLine(geo.axis_w, geo.header_h - 1, width, geo.header_h - 1)
        p.restore()

    def _axis(self, p: QPainter, geo: GridGeometry, height: int, now_minute: int | None
              ) -> None:
        p.save()
        p.setClipRect(0, geo.header_h, geo.axis_w, height - geo.header_h)
        p.fillRect(0, geo.header_h, geo.axis_w, height - geo.header_h, HEADER_BG)
        p.setFont(self.font)
        line_h = self.fm.height()
        for minute in range(geo.first - geo.first % 60, geo.last + 1, 60):
            y = geo.y_of(minute)
            p.setPen(QPen(MUTED))
            p.drawText(QRectF(0, y - 1, geo.axis_w - 8, line_h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, hhmm(minute))
            p.setPen(QPen(HOUR_LINE))
            p.drawLine(QPointF(geo.axis_w - 6, y), QPointF(geo.axis_w, y))
        for minute in range(geo.first, geo.last, SLOT_MINUTES):
            if minute % 60:
                y = geo.y_of(minute)
                p.drawLine(QPointF(geo.axis_w - 3, y), QPointF(geo.axis_w, y))
        if now_minute is not None:
            y = geo.y_of(now_minute)
            label = QRectF(2, y - line_h / 2, geo.axis_w - 4, line_h)
            p.fillRect(label, NOW)
            p.setPen(QPen(QColor("#ffffff")))
            p.drawText(label, Qt.AlignmentFlag.AlignCenter, hhmm(now_minute))
        p.setPen(QPen(COLUMN_LINE))
        p.drawLine(geo.axis_w - 1, geo.header_h, geo.axis_w - 1, height)
        p.restore()

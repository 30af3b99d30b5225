"""A date typed as text, echoed back in words so a day is never read as a month.

A line edit rather than a QDateEdit: a date of birth is often unknown at first (blank must
be possible), and what the user typed is submitted as typed — a plausibility problem such
as a date in the future is the service's to report, next to the field.

A date like 12.03.1984 is read in the clinic's order once the form knows it
(:meth:`DateField.set_day_first`), and the echo says which order it took ("= 12 March 1984,
day first"); until then such a date is shown as ambiguous.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QLabel, QLineEdit, QWidget

from ui.patients.formatting import (
    DATE_FORMAT_HINT,
    DateFormatError,
    format_date,
    is_ambiguous,
    read_date,
)


class DateField(QWidget):
    """Signals:
        text_changed(str): what is typed changed.
    """

    text_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.day_first: bool | None = None
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("e.g. 24 Jun 1984")
        self.edit.setToolTip(f"Write the date like {DATE_FORMAT_HINT}")
        self.edit.setMaxLength(30)
        self.edit.setMinimumWidth(120)
        self.edit.setMaximumWidth(150)
        self.edit.textChanged.connect(self.on_edit_text_changed)
        self.echo = QLabel(self)
        self.echo.setObjectName("date-echo")
        self.echo.setTextFormat(Qt.TextFormat.PlainText)
        self.echo.setWordWrap(True)
        # The reading beside the field when it fits, else under it: a wrapped label beside
        # a line edit in a form row is cut off, not given more lines (700 px wide).
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        layout = self._layout
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.edit, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.echo, 1)
        self.setFocusProxy(self.edit)

    def text(self) -> str:
        return self.edit.text()

    def set_date(self, value: date | None) -> None:
        self.edit.setText("" if value is None else format_date(value))

    def value(self) -> date | None:
        """The typed date, ``None`` if blank. Raises :class:`DateFormatError`."""
        return read_date(self.edit.text(), self.day_first)

    def set_day_first(self, day_first: bool | None) -> None:
        """The clinic's reading of 12.03.1984 (``None``: such a date is ambiguous); what
        is typed is echoed again in it."""
        self.day_first = day_first
        self._echo_reading(self.edit.text())

    @Slot(str)
    def on_edit_text_changed(self, text: str) -> None:
        self._echo_reading(text)
        self.text_changed.emit(text)

    def _echo_reading(self, text: str) -> None:
        try:
            parsed = read_date(text, self.day_first)
        except DateFormatError as exc:
            # A half-typed date is not an error yet; a whole one that cannot be read
            # (31/02/1980, or 03/04/1980 which could be either month) is said at once.
            problem = "" if str(exc).startswith("Write the date") else str(exc)
            self._echo("⚠ " + problem if problem else "", warn=True)
        else:
            words = "" if parsed is None else "= " + format_date(parsed, long=True)
            if words and self.day_first is not None and is_ambiguous(text):
                words += ", day first" if self.day_first else ", month first"
            self._echo(words)

    def clear_echo(self) -> None:
        self._echo("")

    def _echo(self, text: str, *, warn: bool = False) -> None:
        self.echo.setText(text)
        self.echo.setStyleSheet("color: #8a4b00;" if warn else "color: #455a64;")
        self._place_echo(self.width())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._place_echo(event.size().width())

    def _place_echo(self, width: int) -> None:
        needed = (self.edit.maximumWidth() + self._layout.spacing()
                  + self.echo.fontMetrics().horizontalAdvance(self.echo.text()) + 4)
        direction = (QBoxLayout.Direction.LeftToRight if needed <= width
                     else QBoxLayout.Direction.TopToBottom)
        if self._layout.direction() != direction:
            self._layout.setDirection(direction)

"""Pieces the orders, prescriptions and tasks sections share: a table section with its
buttons and a line for what went wrong, a table model over frozen items, and the dialog
that asks why (discontinue, cancel) before anything is stopped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, tzinfo
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import PatientRecord
from ui.chart.banner import PatientBanner
from ui.patients.formatting import format_date
from ui.scheduling.booking_dialog import STYLE, error_label, required_reason, show_error
from ui.scheduling.booking_text import local

T = TypeVar("T")
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1       # the row's frozen item
Index = QModelIndex | QPersistentModelIndex
MESSAGE_STYLE = ("QLabel#section-message { background: #fdecea; color: #7f1d1d;"
                 " border: 1px solid #e57373; border-radius: 4px; padding: 6px 10px; }")


def when_text(value: datetime | None, zone: tzinfo | None, today: date | None = None) -> str:
    """"09:40" today, otherwise "2 Dec 2026 09:40"; "" for none."""
    if value is None:
        return ""
    moment = local(value, zone)
    if today is not None and moment.date() == today:
        return f"today {moment:%H:%M}"
    return f"{format_date(moment.date())} {moment:%H:%M}"


class ItemTableModel(QAbstractTableModel, Generic[T]):
    """Rows of frozen items; ``columns`` are (header, text of an item). ``data()`` never
    does I/O. ``emphasis(item)`` True makes a row bold (an overdue task, a draft)."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[T], str]]],
                 emphasis: Callable[[T], bool] | None = None,
                 tooltip: Callable[[T], str] | None = None) -> None:
        super().__init__()
        self._columns = tuple(columns)
        self._emphasis = emphasis
        self._tooltip = tooltip
        self.items: tuple[T, ...] = ()

    def set_items(self, items: Sequence[T]) -> None:
        self.beginResetModel()
        self.items = tuple(items)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._columns):
            return self._columns[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items) \
                or not 0 <= index.column() < len(self._columns):
            return None
        item = self.items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._columns[index.column()][1](item)
        if role == Qt.ItemDataRole.ToolTipRole:
            text = self._columns[index.column()][1](item)
            extra = self._tooltip(item) if self._tooltip else ""
            return "\n".join(t for t in (text, extra) if t) or None
        if role == Qt.ItemDataRole.FontRole and self._emphasis and self._emphasis(item):
            font = QFont()
            font.setBold(True)
            return font
        if role == ITEM_ROLE:
            return item
        return None


class SectionView(QWidget):
    """A row of buttons over a table, and a line saying what went wrong (hidden while all
    is well). ``buttons`` maps a key to its button; a button's mnemonic is its keyboard
    path, and ``shortcut(keys, fn)`` adds another while focus is in the section.

    Signals:
        selection_changed(): another row (or none) is chosen.
    """

    selection_changed = Signal()

    def __init__(self, name: str, model: QAbstractTableModel,
                 buttons: Sequence[tuple[str, str, str]], parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setStyleSheet(MESSAGE_STYLE)
        self.message = QLabel(self)
        self.message.setObjectName("section-message")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.hide()
        self.status = QLabel(self)
        self.status.setObjectName("section-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in buttons:
            button = QPushButton(text, self)
            button.setObjectName(f"{key}-button")
            button.setToolTip(tip)
            button.setAutoDefault(False)
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        self.table = QTableView(self)
        self.table.setObjectName(f"{name}-table")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self.on_table_selection_changed)
        model.modelReset.connect(self._fit_columns)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.setFocusProxy(self.table)

    def shortcut(self, keys: str, fn: Callable[[], None]) -> QShortcut:
        sc = QShortcut(QKeySequence(keys), self, fn)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        return sc

    def _fit_columns(self) -> None:
        self.table.resizeColumnsToContents()
        for col in range(self.table.model().columnCount()):
            if self.table.columnWidth(col) > 320:
                self.table.setColumnWidth(col, 320)   # the tooltip has the whole text

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ITEM_ROLE) if rows else None

    def select_id(self, item_id: int) -> None:
        model = self.table.model()
        for r in range(model.rowCount()):
            item = model.index(r, 0).data(ITEM_ROLE)
            if getattr(item, "id", None) == item_id:
                self.table.selectRow(r)
                return

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.message.setVisible(bool(text))

    @Slot()
    def on_table_selection_changed(self) -> None:
        self.selection_changed.emit()


class ReasonDialog(QDialog):
    """Asks why before something is stopped (discontinue an order, cancel a task). The
    patient is named on its first line.

    Signals:
        reason_given(str): the reason, never blank.
    """

    reason_given = Signal(str)

    def __init__(self, parent: QWidget | None, *, record: PatientRecord | None, today: date,
                 title: str, what: str, confirm: str, missing: str,
                 quick: Sequence[str] = ()) -> None:
        super().__init__(parent)
        self.setObjectName("reason-dialog")
        self.setWindowTitle(title)
        self.setStyleSheet(STYLE)
        layout = QVBoxLayout(self)
        if record is not None:
            self.banner: PatientBanner | None = PatientBanner(record, today, self)
            layout.addWidget(self.banner)
        else:
            self.banner = None
        self.what = QLabel(what, self)
        self.what.setObjectName("reason-what")
        self.what.setTextFormat(Qt.TextFormat.PlainText)
        self.what.setWordWrap(True)
        layout.addWidget(self.what)
        if quick:
            picks = QHBoxLayout()
            for text in quick:
                button = QPushButton(text, self)
                button.setAutoDefault(False)
                button.clicked.connect(lambda _=False, t=text: self._pick(t))
                picks.addWidget(button)
            picks.addStretch(1)
            layout.addLayout(picks)
        caption = QLabel("&Reason (required)", self)
        self.reason = QLineEdit(self)
        self.reason.setAccessibleName("Reason")
        self.reason.setMaxLength(500)
        caption.setBuddy(self.reason)
        self.error = error_label(self)
        self._missing = missing
        layout.addWidget(caption)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.back_button = QPushButton("Go back", self)
        self.back_button.setAutoDefault(False)
        self.back_button.clicked.connect(self.reject)
        self.confirm_button = QPushButton(confirm, self)
        self.confirm_button.setObjectName("confirm-button")
        self.confirm_button.setDefault(True)
        self._confirm = confirm
        self.confirm_button.clicked.connect(self.on_confirm_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.confirm_button)
        layout.addLayout(buttons)
        self.resize(520, self.sizeHint().height())
        self.reason.setFocus()

    def _pick(self, text: str) -> None:
        self.reason.setText(text)
        show_error(self.error, "")
        self.reason.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.confirm_button.setEnabled(not busy)
        self.confirm_button.setText("Saving…" if busy else self._confirm)

    def show_failure(self, text: str) -> None:
        show_error(self.error, text)

    @Slot()
    def on_confirm_button_clicked(self) -> None:
        reason = required_reason(self.reason, self.error, self._missing)
        if reason:
            self.reason_given.emit(reason)


def dialog_buttons(dialog: QDialog, confirm: str, on_confirm: Callable[[], None]
                   ) -> tuple[QHBoxLayout, QPushButton]:
    """Cancel and the default button (Enter, or Ctrl+Enter from a multi-line field)."""
    cancel = QPushButton("Cancel", dialog)
    cancel.setAutoDefault(False)
    cancel.clicked.connect(dialog.reject)
    ok = QPushButton(confirm, dialog)
    ok.setObjectName("confirm-button")
    ok.setDefault(True)
    ok.setToolTip(f"{confirm.rstrip('…')} (Ctrl+Enter)")
    ok.clicked.connect(on_confirm)
    for keys in ("Ctrl+Return", "Ctrl+Enter"):
        QShortcut(QKeySequence(keys), dialog, on_confirm)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(ok)
    return row, ok


def show_field_errors(errors: dict[str, QLabel], failure: QLabel,
                      found: dict[str, str]) -> None:
    """Each field's sentence next to it; a sentence about no field we show goes on the
    dialog's failure line; fields not named are cleared."""
    for key, label in errors.items():
        show_error(label, found.get(key, ""))
    rest = [f"{k}: {v}" for k, v in found.items() if k not in errors]
    show_error(failure, " ".join(rest))

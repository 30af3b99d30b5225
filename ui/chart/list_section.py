"""A chart list (timeline, problems, medications, allergies and alerts): a table of items
with who recorded each and when, and the actions on it, each with a key.

Insert adds, Enter or F2 edits (closes an encounter), Delete retires; the buttons say the
same. The model is a ``QAbstractTableModel`` over frozen DTOs; ``data()`` never does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from backend_client.chart.dto import Stamp
from ui.patients.formatting import format_date
from ui.patients.patient_table_model import ReadOnlyTableModel, row_table

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's DTO (an ``EncounterItem``, ``ProblemItem``, ...)."""
ITEM_ID_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's item id (int)."""

INACTIVE = ("retired", "inactive", "resolved", "stopped", "closed", "cancelled")
GREY = QColor("#616161")

Index = QModelIndex | QPersistentModelIndex


def when_text(moment: datetime) -> str:
    """"27 Nov 2026 10:42" in the workstation's zone."""
    local = moment.astimezone()
    return f"{format_date(local.date())} {local:%H:%M}"


def stamp_text(stamp: Stamp) -> str:
    """Who recorded it and when; who changed it last, when that is someone or something
    else."""
    text = f"Recorded by {stamp.recorded_by}, {when_text(stamp.recorded_at)}"
    if (stamp.updated_by, stamp.updated_at) != (stamp.recorded_by, stamp.recorded_at):
        text += f"; changed by {stamp.updated_by}, {when_text(stamp.updated_at)}"
    return text


# Narrower than this, a list hides its optional columns (who recorded a row and when is
# then in the line under the table and in each row's tooltip), rather than scrolling
# sideways with half a column showing.
NARROW = 760


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[Any], str]
    stretch: bool = False
    optional: bool = False   # hidden when the list is narrow


class CellDelegate(QStyledItemDelegate):
    """Fills a cell's style option in one call to the model, instead of one ``data()``
    call per role (a dozen, each a trip into Python): laying out a long list measures
    every cell several times, and the GUI thread must not stall on it."""

    def initStyleOption(self, option: QStyleOptionViewItem,  # noqa: N802 (Qt API)
                        index: QModelIndex | QPersistentModelIndex) -> None:
        model = index.model()
        if not isinstance(model, ItemTableModel):
            super().initStyleOption(option, index)
            return
        option.index = model.index(index.row(), index.column())
        text, inactive = model.cell(index.row(), index.column())
        option.text = text
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        option.displayAlignment = (Qt.AlignmentFlag.AlignLeft
                                   | Qt.AlignmentFlag.AlignVCenter)
        if inactive:
            option.font = model.italic
            option.fontMetrics = QFontMetrics(model.italic)
            option.palette.setBrush(QPalette.ColorRole.Text, model.grey)


# Rows shown at first, and added each time the view scrolls to the end (``fetchMore``):
# laying out and measuring a long timeline at once would stall the GUI thread.
PAGE = 20


class ItemTableModel(ReadOnlyTableModel):
    """Rows of chart items; inactive ones (retired, resolved, closed) in grey italics.

    The whole answer is in hand (no I/O here); it is shown a page at a time, as the view
    scrolls, and each page's texts are made once, not on every ``data()`` call: a long
    chart is asked for them tens of thousands of times while it is laid out.
    """

    def __init__(self, columns: Sequence[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.HEADERS = tuple(c.header for c in columns)
        self._rows: list[Any] = []
        self._texts: list[tuple[str, ...]] = []
        self._tips: list[str] = []
        self._inactive: list[bool] = []
        self._grey = QBrush(GREY)
        self._italic = QFont()
        self._italic.setItalic(True)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._texts)

    def total(self) -> int:
        """Every row of the answer, shown yet or not."""
        return len(self._rows)

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._texts, self._tips, self._inactive = [], [], []
        self._make(min(PAGE, len(self._rows)))
        self.endResetModel()

    def _make(self, upto: int) -> None:
        for item in self._rows[len(self._texts):upto]:
            self._texts.append(tuple(c.text(item) for c in self.columns))
            self._tips.append(stamp_text(item.stamp))
            self._inactive.append(getattr(item, "status", "") in INACTIVE)

    def cell(self, row: int, column: int) -> tuple[str, bool]:
        """The cell's text and whether its row is inactive (for ``CellDelegate``)."""
        if not 0 <= row < len(self._texts) or not 0 <= column < len(self.columns):
            return "", False
        return self._texts[row][column], self._inactive[row]

    @property
    def grey(self) -> QBrush:
        return self._grey

    @property
    def italic(self) -> QFont:
        return self._italic

    def canFetchMore(self, parent: Index) -> bool:  # noqa: N802 (Qt API)
        return not parent.isValid() and len(self._texts) < len(self._rows)

    def fetchMore(self, parent: Index) -> None:  # noqa: N802 (Qt API)
        self._show_upto(len(self._texts) + PAGE)

    def _show_upto(self, upto: int) -> None:
        first, last = len(self._texts), min(upto, len(self._rows))
        if last <= first:
            return
        self.beginInsertRows(QModelIndex(), first, last - 1)
        self._make(last)
        self.endInsertRows()

    def item_at(self, row: int) -> Any:
        return self._rows[row]

    def items(self) -> list[Any]:
        return list(self._rows)

    def row_of(self, item_id: int) -> int:
        """The item's row, shown first if it was further down."""
        row = next((i for i, r in enumerate(self._rows) if r.id == item_id), -1)
        if row >= len(self._texts):
            self._show_upto(row + 1)
        return row

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row, column = index.row(), index.column()
        if not index.isValid() or not 0 <= row < len(self._texts) \
                or not 0 <= column < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[row][column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tips[row]
        if role == ITEM_ROLE:
            return self._rows[row]
        if role == ITEM_ID_ROLE:
            return self._rows[row].id
        if role == Qt.ItemDataRole.ForegroundRole and self._inactive[row]:
            return self._grey
        if role == Qt.ItemDataRole.FontRole and self._inactive[row]:
            return self._italic
        return None


@dataclass(frozen=True)
class Action:
    """One thing the user can do from the list: its key, button text, shortcut, whether it
    needs a chosen row."""

    key: str
    text: str
    shortcut: str
    needs_item: bool


class ListSectionView(QWidget):
    """Signals:
        action_requested(str, object): the user asked for this action (its key) on this
            item (None for actions that need none).
        show_retired_toggled(bool): show or hide retired items.
    """

    action_requested = Signal(str, object)
    show_retired_toggled = Signal(bool)

    def __init__(self, name: str, columns: Sequence[Column], actions: Sequence[Action], *,
                 retired_toggle: str = "", empty: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.model = ItemTableModel(columns, self)
        self._empty = empty
        self.table = row_table(self, self.model, f"{name}-table", name.replace("-", " "),
                               wrap=True)
        self.table.setItemDelegate(CellDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        # Column widths from the first rows only: measuring all of a long timeline on
        # every refresh would stall the GUI thread (the rest wrap within those widths).
        header.setResizeContentsPrecision(60)
        for i, column in enumerate(columns):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.Stretch if column.stretch
                                        else QHeaderView.ResizeMode.ResizeToContents)
        # Rows as tall as their wrapped text: nothing is cut at 700 px.
        self.table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self._optional = [i for i, c in enumerate(columns) if c.optional]
        self.table.doubleClicked.connect(self.on_table_double_clicked)
        # Enter on a row edits it: handled on the table itself, not as a shortcut, so that
        # Enter in a form over this window never reaches the list.
        self.table.installEventFilter(self)
        # The selection, not the current index: it changes after the current row does.
        # Made here and kept: a wrapper fetched with table.selectionModel() can come back
        # as a stale one of another type when a pool job's QRunnable was freed at the
        # same address (seen in benchmarks/bench_chart_gui.py).
        self.selection = QItemSelectionModel(self.model, self.table)
        self.table.setSelectionModel(self.selection)
        self.selection.selectionChanged.connect(self.on_table_selection_changed)
        self.setFocusProxy(self.table)

        self.buttons: dict[str, QPushButton] = {}
        self.actions_: dict[str, QAction] = {}
        row = QHBoxLayout()
        row.setSpacing(6)
        for action in actions:
            button = QPushButton(action.text, self)
            button.setObjectName(f"{name}-{action.key}")
            button.setToolTip(f"{action.text.rstrip('…')} ({action.shortcut}"
                              + (" or Enter" if action.key in ("edit", "close") else "") + ")")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, k=action.key: self._request(k))
            row.addWidget(button)
            self.buttons[action.key] = button
            qaction = QAction(action.text, self)
            keys = [QKeySequence(s) for s in action.shortcut.split(" or ")]
            qaction.setShortcuts(keys)
            qaction.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            qaction.triggered.connect(lambda _=False, k=action.key: self._request(k))
            self.addAction(qaction)
            self.actions_[action.key] = qaction
        self._needs_item = {a.key for a in actions if a.needs_item}
        row.addStretch(1)
        self.retired_box: QCheckBox | None = None
        if retired_toggle:
            self.retired_box = QCheckBox(retired_toggle, self)
            self.retired_box.toggled.connect(self.show_retired_toggled)
            row.addWidget(self.retired_box)

        self.detail = QLabel(self)
        self.detail.setObjectName(f"{name}-detail")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setStyleSheet("color: #455a64;")
        self.status = QLabel("Loading…", self)
        self.status.setObjectName(f"{name}-status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        self._update_buttons()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        narrow = self.width() < NARROW
        for column in self._optional:
            self.table.setColumnHidden(column, narrow)

    # ------------------------------------------------------------- for presenters

    def show_items(self, items: Sequence[Any], select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else self.selected_id()
        self.model.set_rows(items)
        self.status.setVisible(not items)
        if not items:
            self.status.setText(self._empty)
        row = self.model.row_of(keep) if keep is not None else -1
        if row >= 0 or items:
            self.table.selectRow(max(row, 0))
        self._update_buttons()
        self._show_detail()

    def show_error(self, sentence: str) -> None:
        """The items shown stay (they are the last good answer); the sentence says why."""
        self.status.setText("⚠ " + sentence)
        self.status.show()

    def selected_item(self) -> Any:
        index = self.table.currentIndex()
        if not index.isValid() or not self.selection.isRowSelected(
                index.row(), QModelIndex()):
            return None
        return self.model.item_at(index.row())

    def selected_id(self) -> int | None:
        item = self.selected_item()
        return None if item is None else int(item.id)

    def set_action_enabled(self, key: str, enabled: bool) -> None:
        self.buttons[key].setEnabled(enabled)
        self.actions_[key].setEnabled(enabled)

    # ------------------------------------------------------------------ slots

    @Slot(QModelIndex)
    def on_table_double_clicked(self, _index: QModelIndex) -> None:
        self._edit()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if obj is self.table and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent) \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self._edit()
            return True
        return super().eventFilter(obj, event)

    def _edit(self) -> None:
        edit = next((k for k in self.buttons if k in ("edit", "close")), None)
        if edit is not None:
            self._request(edit)

    @Slot(QItemSelection, QItemSelection)
    def on_table_selection_changed(self, _selected: QItemSelection,
                                   _deselected: QItemSelection) -> None:
        self._update_buttons()
        self._show_detail()

    # -------------------------------------------------------------- internals

    def _request(self, key: str) -> None:
        item = self.selected_item()
        if key in self._needs_item and item is None:
            self.detail.setText("Choose a row first (arrow keys), then the action again.")
            return
        if not self.buttons[key].isEnabled():
            return
        self.action_requested.emit(key, item if key in self._needs_item else None)

    def _update_buttons(self) -> None:
        has = self.selected_item() is not None
        for key in self._needs_item:
            self.buttons[key].setEnabled(has)
            self.actions_[key].setEnabled(True)  # the key says "choose a row first"

    def _show_detail(self) -> None:
        item = self.selected_item()
        if item is None:
            self.detail.setText("")
            return
        text = stamp_text(item.stamp)
        reason = getattr(item, "retired_reason", "")
        if reason:
            text += f". Retired because: {reason}"
        self.detail.setText(text)

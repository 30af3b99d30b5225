"""One patient's chart, as a tab of the main window: the header always visible at the top,
the sections below, chosen from a list on the left (each also by Alt+its place: Alt+1, …).

Sections plug in as widgets (desktop/presenters/chart_section.py); this view only shows
them. Recordings and documents are placeholders that say what will come.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import PatientRecord
from ui.chart.chart_header import ChartHeaderView

SECTION_KEY_ROLE = Qt.ItemDataRole.UserRole + 1
"""The navigation item's section key (str)."""
SHORTCUT_ROLE = Qt.ItemDataRole.UserRole + 2
"""The navigation item's key, "Alt+2" (str, "" when it has none)."""

NAV_STYLE = """
QListWidget#chart-sections { border: none; background: transparent; font-size: 13px; }
QListWidget#chart-sections::item { padding: 6px 8px; border-radius: 4px; }
QListWidget#chart-sections::item:selected { background: #1565c0; color: white; }
"""


def plain_title(title: str) -> str:
    return title.replace("&&", "\0").replace("&", "").replace("\0", "&")


class SectionItemDelegate(QStyledItemDelegate):
    """A section's name, with its key ("Alt+2") in small grey on the right: the keyboard
    path is on screen, not only in a tooltip."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        keys = index.data(SHORTCUT_ROLE)
        if not keys:
            return
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(QColor("#e3f2fd" if selected else "#78909c"))
        font = QFont(option.font)
        font.setPointSizeF(max(font.pointSizeF() - 1.5, 6.0))
        painter.setFont(font)
        rect = option.rect.adjusted(0, 0, -8, 0)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                         str(keys))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 (Qt API)
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        keys = index.data(SHORTCUT_ROLE)
        if keys:
            size.setWidth(size.width() + 12 + QFontMetrics(option.font).horizontalAdvance(
                str(keys)))
        return size


class PlaceholderView(QWidget):
    """A section still to come: says what it will hold."""

    def __init__(self, sentence: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel(sentence, self)
        label.setObjectName("chart-placeholder")
        label.setWordWrap(True)
        label.setStyleSheet("color: #546e7a; font-size: 14px;")
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addStretch(1)
        self.label = label


class ChartView(QWidget):
    """Signals:
        section_shown(str): the user chose this section (its key).
    """

    section_shown = Signal(str)

    def __init__(self, record: PatientRecord, today: date,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chart-view")
        self.patient_id = record.id
        self.record = record
        self.header = ChartHeaderView(record, today, self)
        # A tall header (many allergies at 700 px) scrolls on its own rather than pushing
        # the sections off the screen; it is never cut.
        self.header_scroll = QScrollArea(self)
        self.header_scroll.setObjectName("chart-header-scroll")
        self.header_scroll.setWidget(self.header)
        self.header_scroll.setWidgetResizable(True)
        self.header_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.header_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.header_scroll.setSizePolicy(QSizePolicy.Policy.Preferred,
                                         QSizePolicy.Policy.Maximum)

        self.nav = QListWidget(self)
        self.nav.setObjectName("chart-sections")
        self.nav.setAccessibleName("Chart sections")
        self.nav.setStyleSheet(NAV_STYLE)
        self.nav.setItemDelegate(SectionItemDelegate(self.nav))
        self.nav.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.nav.currentRowChanged.connect(self.on_nav_current_row_changed)
        self.stack = QStackedWidget(self)
        self.stack.setObjectName("chart-section-area")
        self._keys: list[str] = []
        self._slots: dict[str, QWidget] = {}
        self._widgets: dict[str, QWidget] = {}
        self._shortcuts: dict[str, QShortcut] = {}

        body = QHBoxLayout()
        body.setSpacing(10)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.header_scroll)
        layout.addLayout(body, 1)
        self.setFocusProxy(self.nav)

    def resizeEvent(self, event: object) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._fit_header()

    def showEvent(self, event: object) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)  # type: ignore[arg-type]
        self._fit_header()

    def fit_header(self) -> None:
        """Called after the header's content changed: it takes the height it needs, up to
        half the chart (then it scrolls)."""
        self._fit_header()

    def _fit_header(self) -> None:
        width = max(self.header_scroll.viewport().width(), 200)
        layout = self.header.layout()
        if layout is not None:
            layout.activate()
        needed = self.header.heightForWidth(width) if self.header.hasHeightForWidth() \
            else self.header.sizeHint().height()
        needed = max(needed, self.header.minimumSizeHint().height())
        limit = max(self.height() // 2, 120)
        self.header_scroll.setFixedHeight(min(needed + 2, limit))

    # ------------------------------------------------------------- sections

    def add_section(self, key: str, title: str, widget: QWidget | None = None) -> None:
        """A section in the list; Alt+its place (Alt+1 … Alt+9, Alt+0 for the tenth)
        shows it, within this chart. Digits, not the title's letter: a section's own
        buttons use Alt+letters (Alt+N new, Alt+D discontinue, …), and one key bound twice
        in a window fires neither. Its widget may come later (``set_section_widget``):
        choosing the section before then emits ``section_shown`` so it is made at once."""
        item = QListWidgetItem(plain_title(title))
        item.setData(SECTION_KEY_ROLE, key)
        place = len(self._keys) + 1
        if place <= 10:
            keys = f"Alt+{place % 10}"
            item.setToolTip(keys)
            item.setData(SHORTCUT_ROLE, keys)
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda k=key: self.show_section(k, focus=True))
            self._shortcuts[key] = shortcut
        self._keys.append(key)
        slot = QWidget(self.stack)
        slot.setObjectName(f"chart-slot-{key}")
        slot_layout = QVBoxLayout(slot)
        slot_layout.setContentsMargins(0, 0, 0, 0)
        self._slots[key] = slot
        self.stack.addWidget(slot)
        self.nav.addItem(item)
        self.nav.setFixedWidth(max(self.nav.sizeHintForColumn(0) + 16, 120))
        if widget is not None:
            self.set_section_widget(key, widget)
        if self.nav.currentRow() < 0:
            self.nav.setCurrentRow(0)

    def set_section_widget(self, key: str, widget: QWidget) -> None:
        """The section's own widget, in its place."""
        slot = self._slots[key]
        layout = slot.layout()
        assert layout is not None
        layout.addWidget(widget)
        # Now, not on the next turn as a layout would for a parent already on screen: the
        # section's keys work as soon as it is there.
        widget.show()
        slot.setFocusProxy(widget)
        self._widgets[key] = widget

    def has_section_widget(self, key: str) -> bool:
        return key in self._widgets

    def section_keys(self) -> list[str]:
        return list(self._keys)

    def current_key(self) -> str:
        row = self.nav.currentRow()
        return self._keys[row] if 0 <= row < len(self._keys) else ""

    def section_widget(self, key: str) -> QWidget:
        """The section's widget (its empty place while it is not made yet)."""
        return self._widgets.get(key) or self._slots[key]

    def show_section(self, key: str, *, focus: bool = False) -> None:
        if key not in self._keys:
            return
        self.nav.setCurrentRow(self._keys.index(key))
        if focus:
            widget = self.stack.currentWidget()
            if widget is not None:
                widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def shortcut_letters(self) -> dict[str, str]:
        return {k: s.key().toString() for k, s in self._shortcuts.items()}

    @Slot(int)
    def on_nav_current_row_changed(self, row: int) -> None:
        if 0 <= row < len(self._keys):
            self.stack.setCurrentIndex(row)
            self.section_shown.emit(self._keys[row])

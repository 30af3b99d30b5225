"""The patient list: one search box that searches as you type, the results, and a way to
register someone new. Keyboard first: the box has focus at start, Down or Enter moves into
the results, Enter or a double-click opens the patient, Up from the first row goes back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import PatientSummary
from ui.patients.patient_table_model import (
    BIRTH_DATE,
    HEADERS,
    MRN,
    NAME,
    PATIENT_ID_ROLE,
    PHONE,
    SEX,
    PatientTableModel,
    row_table,
)

HINT = ("Find a patient by name, date of birth (for example 24 Jun 1984), MRN or phone "
        "number.\n\nSomeone new? Press Ctrl+N or choose “Register patient…”.")
NO_MATCH = ("No patient matches “{query}”. Check the spelling, try the date of birth, "
            "or register a new patient.")
TOO_SHORT = "Keep typing: a search needs at least {n} characters."
ERROR_MARK = "⚠ "
# A narrow list hides these columns, in this order, before the name gets narrower than
# MIN_NAME_WIDTH: the desk needs name, date of birth and MRN to tell patients apart.
GIVE_WAY = (PHONE, SEX)
MIN_NAME_WIDTH = 180

STYLE = """
QLabel#patient-empty-state { color: #455a64; font-size: 14px; padding: 24px;
    background: palette(base); border: 1px solid palette(mid); }
QLabel#patient-list-status { color: #455a64; }
QLabel#patient-list-status[error="true"] { color: #b71c1c; font-weight: bold; }
QLabel#patient-empty-state[error="true"] { color: #b71c1c; }
"""

_OPEN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def _quoted(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PatientListView(QWidget):
    """Signals:
        search_requested(str): the search text changed (every keystroke; the presenter
            debounces).
        more_requested(): the results were scrolled to the end and more may exist.
        patient_activated(int): the user opened this patient (Enter or double-click).
        register_requested(): the user wants to register a new patient.
    """

    search_requested = Signal(str)
    more_requested = Signal()
    patient_activated = Signal(int)
    register_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.setObjectName("patient-list")
        self.setStyleSheet(STYLE)
        self.model = PatientTableModel(self, today=today)
        self.model.more_requested.connect(self.more_requested)
        self._query = ""

        self.search_box = QLineEdit(self)
        self.search_box.setObjectName("patient-search")
        self.search_box.setPlaceholderText("Find patient: name, date of birth, MRN or phone")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Find patient")
        self.search_box.setToolTip("Results appear as you type (Ctrl+F). Press Down or "
                                   "Enter to move into them.")
        self.search_box.textChanged.connect(self.on_search_box_text_changed)
        self.search_box.installEventFilter(self)

        self.register_button = QPushButton("Register patient…", self)
        self.register_button.setObjectName("register-patient")
        self.register_button.setToolTip("Register a new patient (Ctrl+N)")
        self.register_button.clicked.connect(self.register_requested)

        self.table = row_table(self, self.model, "patient-results", "Matching patients",
                               wrap=False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self._widths = self._column_widths()
        for column, width in self._widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(self.on_table_double_clicked)
        self.table.installEventFilter(self)
        self.table.viewport().installEventFilter(self)

        self.empty_state = QLabel(self)
        self.empty_state.setObjectName("patient-empty-state")
        self.empty_state.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.table)

        self.status = QLabel(self)
        self.status.setObjectName("patient-list-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)

        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.search_box, 1)
        top.addWidget(self.register_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)
        self.setFocusProxy(self.search_box)
        self.show_hint()

    # ------------------------------------------------------------- for presenters

    def search_text(self) -> str:
        return self.search_box.text()

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def set_register_enabled(self, enabled: bool) -> None:
        self.register_button.setEnabled(enabled)

    def clear_search(self) -> None:
        """Empty the search box and the results, without asking for a search."""
        blocked = self.search_box.blockSignals(True)
        self.search_box.clear()
        self.search_box.blockSignals(blocked)
        self.show_hint()

    def show_hint(self) -> None:
        """Nothing typed yet (or the box was cleared)."""
        self._query = ""
        self.model.set_rows((), False)
        self._show_empty(HINT)
        self._set_status("")

    def show_too_short(self, minimum: int) -> None:
        self.model.set_rows((), False)
        self._show_empty(TOO_SHORT.format(n=minimum))
        self._set_status("")

    def show_searching(self, query: str) -> None:
        # The previous rows stay until the new ones arrive, so the table does not flicker.
        self._set_status(f"Searching for “{_quoted(query)}”…")

    def show_page(self, query: str, items: Sequence[PatientSummary], has_more: bool) -> None:
        """The first page of results for ``query`` (replaces what is shown)."""
        self._query = query
        self.model.set_rows(items, has_more)
        if not items:
            self._show_empty(NO_MATCH.format(query=_quoted(query)))
            self._set_status("")
            return
        self.stack.setCurrentWidget(self.table)
        self.table.scrollToTop()
        self._render_count()

    def refresh_rows(self, query: str, items: Sequence[PatientSummary],
                     has_more: bool) -> None:
        """The same query's rows read again (changed elsewhere): replaced in place, keeping
        the selected patient, the row with the keyboard focus and the scroll position, so
        nothing jumps under the user's eyes. All of it happens before the next paint."""
        if not items or self.stack.currentWidget() is not self.table:
            self.show_page(query, items, has_more)
            return
        table = self.table
        selected = self._selected_id()
        current = table.currentIndex()
        current_id = int(current.data(PATIENT_ID_ROLE)) if current.isValid() else None
        column = current.column() if current.isValid() else 0
        top_row = table.rowAt(0)
        top_id = self.model.patient_at(top_row).id if top_row >= 0 else None
        scrolled = table.verticalScrollBar().value()
        self._query = query
        self.model.set_rows(items, has_more)
        table.doItemsLayout()  # the scroll range of the new rows, now, not after a paint
        selection = table.selectionModel()
        if current_id is not None and (row := self.model.row_of(current_id)) >= 0:
            selection.setCurrentIndex(self.model.index(row, column),
                                      selection.SelectionFlag.NoUpdate)
        if selected is not None and (row := self.model.row_of(selected)) >= 0:
            table.selectRow(row)
        row = self.model.row_of(top_id) if top_id is not None else -1
        if row < 0 or row == top_row:
            table.verticalScrollBar().setValue(scrolled)  # the same rows where they were
        else:
            # Rows came or went above: keep the patient who was at the top there.
            table.scrollTo(self.model.index(row, 0), table.ScrollHint.PositionAtTop)
        self._render_count()

    def shows_patient(self, patient_id: int) -> bool:
        """Is this patient among the rows on screen?"""
        return self.model.row_of(patient_id) >= 0

    def append_page(self, items: Sequence[PatientSummary], has_more: bool) -> None:
        self.model.append_page(items, has_more)
        self._render_count()

    def show_error(self, sentence: str, *, keep_rows: bool = False) -> None:
        """A search failed: say so in a sentence. ``keep_rows`` when only a further page
        failed (the rows shown still answer the query)."""
        if keep_rows:
            self.model.stop_fetching()
        else:
            self.model.set_rows((), False)
        if self.model.rowCount() == 0:
            self._show_empty(sentence, error=True)
        self._set_status(ERROR_MARK + sentence, error=True)

    def _selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.patient_at(rows[0].row()).id if rows else None

    def select_only(self, patient_id: int | None) -> None:
        """The row of the patient shown elsewhere (the header), or none: the list never
        highlights a patient other than the one the actions would act on."""
        if patient_id is None or not self.select_patient(patient_id):
            self.table.clearSelection()

    def select_patient(self, patient_id: int) -> bool:
        row = self.model.row_of(patient_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        return True

    # ------------------------------------------------------------------ slots

    @Slot(str)
    def on_search_box_text_changed(self, text: str) -> None:
        self.search_requested.emit(text)

    @Slot(QModelIndex)
    def on_table_double_clicked(self, index: QModelIndex) -> None:
        self._activate(index)

    # -------------------------------------------------------------- internals

    def _column_widths(self) -> dict[int, int]:
        """Each column after the name as wide as its longest usual content or its title,
        whichever is wider (from the font, so a larger system font still fits)."""
        fm = self.table.fontMetrics()
        pad = 2 * self.table.style().pixelMetric(
            self.table.style().PixelMetric.PM_HeaderMargin) + 12
        samples = {BIRTH_DATE: "28 Sep 1948 (100 y)", SEX: "Unknown", MRN: "M00000000",
                   PHONE: "+44 20 7946 0958"}
        return {column: max(fm.horizontalAdvance(text),
                            fm.horizontalAdvance(HEADERS[column])) + pad
                for column, text in samples.items()}

    def _fit_columns(self) -> None:
        """In a narrow list the phone, then the sex, give way so that the name keeps room
        and the date of birth and MRN are never pushed out of sight (both are in each
        row's tooltip); they come back when the list is wide enough again."""
        room = self.table.viewport().width()
        shown = [BIRTH_DATE, SEX, MRN, PHONE]

        def width(column: int) -> int:
            # A hidden column measures 0: count what it needs to come back.
            hidden = self.table.isColumnHidden(column)
            return self._widths[column] if hidden else self.table.columnWidth(column)

        for column in GIVE_WAY:
            if room - sum(width(c) for c in shown) >= MIN_NAME_WIDTH:
                break
            shown.remove(column)
        for column in GIVE_WAY:
            if self.table.isColumnHidden(column) == (column in shown):
                self.table.setColumnHidden(column, column not in shown)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if obj is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
            return False
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if obj is self.search_box:
                return self._search_box_key(event)
            if obj is self.table:
                return self._table_key(event)
        return super().eventFilter(obj, event)

    def _search_box_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Down, *_OPEN_KEYS) and self.model.rowCount() > 0:
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
            if not self.table.selectionModel().hasSelection():
                self.table.selectRow(0)
            return True
        if key == Qt.Key.Key_Escape and self.search_box.text():
            self.search_box.clear()
            return True
        return False

    def _table_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in _OPEN_KEYS:
            self._activate(self.table.currentIndex())
            return True
        if key == Qt.Key.Key_Up and self.table.currentIndex().row() <= 0:
            self.search_box.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        if key == Qt.Key.Key_Escape:
            self.search_box.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        text = event.text()
        plain = not event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                         | Qt.KeyboardModifier.AltModifier
                                         | Qt.KeyboardModifier.MetaModifier)
        if plain and text and text.isprintable() and not text.isspace():
            # Typing in the results refines the search instead of jumping between rows.
            self.search_box.setFocus(Qt.FocusReason.OtherFocusReason)
            self.search_box.end(False)
            self.search_box.insert(text)
            return True
        return False

    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            self.patient_activated.emit(int(index.data(PATIENT_ID_ROLE)))

    def _show_empty(self, text: str, *, error: bool = False) -> None:
        self.empty_state.setText((ERROR_MARK if error else "") + text)
        self._set_error_property(self.empty_state, error)
        self.stack.setCurrentWidget(self.empty_state)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self._set_error_property(self.status, error)

    @staticmethod
    def _set_error_property(label: QLabel, error: bool) -> None:
        if label.property("error") != error:
            label.setProperty("error", error)
            label.style().unpolish(label)
            label.style().polish(label)

    def _render_count(self) -> None:
        n = self.model.rowCount()
        query = _quoted(self._query)
        if self.model.has_more:
            text = (f"Showing the first {n} patients matching “{query}”; scroll down for "
                    "more, or type more to narrow the search.")
        else:
            text = f"{n} patient{'s' if n != 1 else ''} match{'es' if n == 1 else ''} “{query}”."
        self._set_status(text)

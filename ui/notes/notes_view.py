"""The chart's Notes section: the patient's notes (or search hits) and, in their place,
the note being written."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from backend_client.notes.dto import NoteHit, NoteSummary
from ui.notes.notes_model import NOTE_ID_ROLE, HitsTableModel, NotesTableModel


class NotesSectionView(QWidget):
    """Signals:
        new_requested(): "New note…".
        open_requested(str): open the note with this id.
        search_changed(str): the search text as typed ("" = the whole list again).
    """

    new_requested = Signal()
    open_requested = Signal(str)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notesSection")
        self.notes_model = NotesTableModel()
        self.hits_model = HitsTableModel()
        self.new_button = QPushButton("Ne&w note…", self)
        self.new_button.setObjectName("newNoteButton")
        self.new_button.clicked.connect(self.new_requested.emit)
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("noteSearch")
        self.search_edit.setPlaceholderText("Search this patient's notes (Ctrl+F)")
        self.search_edit.setAccessibleName("Search this patient's notes")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self.search_changed.emit)
        self.open_button = QPushButton("&Open", self)
        self.open_button.setObjectName("openNoteButton")
        self.open_button.clicked.connect(self._open_current)
        self.message = QLabel(self)
        self.message.setObjectName("notesMessage")
        self.message.setWordWrap(True)
        self.table = QTableView(self)
        self.table.setObjectName("notesTable")
        self.table.setModel(self.notes_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Interactive)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)
        QShortcut(QKeySequence.StandardKey.Find, self, self.focus_search,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        list_page = QWidget()
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.search_edit, 1)
        row.addWidget(self.open_button)
        page = QVBoxLayout(list_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addLayout(row)
        page.addWidget(self.message)
        page.addWidget(self.table, 1)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(list_page)
        self.list_page = list_page
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def focus_search(self) -> None:
        if self.stack.currentWidget() is not self.list_page:
            return  # the editor has its own keys; the search is on the list
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def show_notes(self, rows: tuple[NoteSummary, ...]) -> None:
        self.notes_model.set_rows(rows)
        if self.table.model() is not self.notes_model:
            self.table.setModel(self.notes_model)
        self._fit_columns()
        if not rows:
            self.show_message("No notes yet. Ne&w note… starts one.".replace("&", ""))

    def show_hits(self, text: str, hits: tuple[NoteHit, ...]) -> None:
        self.hits_model.set_rows(hits)
        self.table.setModel(self.hits_model)
        self._fit_columns()
        count = len(hits)
        verb = "mentions" if count == 1 else "mention"
        self.show_message(f"{count} note{'s' if count != 1 else ''} {verb} “{text}”."
                          if count else f"No note mentions “{text}”.")

    def _fit_columns(self) -> None:
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for col in range(header.count()):
            header.resizeSection(col, min(header.sectionSize(col), 260))

    def show_message(self, sentence: str) -> None:
        self.message.setText(sentence)
        self.message.setVisible(bool(sentence))

    def show_editor(self, editor: QWidget) -> None:
        if self.stack.indexOf(editor) < 0:
            self.stack.addWidget(editor)
        self.stack.setCurrentWidget(editor)

    def show_list(self) -> None:
        current = self.stack.currentWidget()
        self.stack.setCurrentWidget(self.list_page)
        if current is not None and current is not self.list_page:
            self.stack.removeWidget(current)
            current.deleteLater()
        self.table.setFocus()

    def _open_current(self) -> None:
        self._open_index(self.table.currentIndex())

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            note_id = index.data(NOTE_ID_ROLE)
            if note_id:
                self.open_requested.emit(str(note_id))

"""At sign-in: notes whose newest text is only on this computer (the app closed or
MongoDB was unreachable before it was saved)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.notes.dto import UnsavedNote


def unsaved_line(note: UnsavedNote) -> str:
    when = note.saved_locally_at.astimezone().strftime("%d %b %H:%M")
    return f"{note.patient_label}\n{note.title} — kept on this computer at {when}"


class UnsavedNotesDialog(QDialog):
    """Signals:
        open_requested(object): an UnsavedNote to open in its patient's chart.
        discard_requested(object): an UnsavedNote the user chose to throw away.
    """

    open_requested = Signal(object)
    discard_requested = Signal(object)

    def __init__(self, notes: tuple[UnsavedNote, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Notes not saved")
        self.notes = list(notes)
        self.heading = QLabel(self)
        self.heading.setObjectName("unsavedHeading")
        self.heading.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("unsavedList")
        self.list.setWordWrap(True)  # the whole patient caption, never cut
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(2)
        self.open_button = QPushButton("&Open", self)
        self.open_button.setObjectName("openUnsaved")
        self.open_button.clicked.connect(lambda: self._act(self.open_requested))
        self.discard_button = QPushButton("&Discard", self)
        self.discard_button.setObjectName("discardUnsaved")
        self.discard_button.clicked.connect(lambda: self._act(self.discard_requested))
        later = QPushButton("&Later", self)
        later.clicked.connect(self.reject)
        self.list.itemActivated.connect(lambda _i: self._act(self.open_requested))
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(later)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._render()

    def _render(self) -> None:
        count = len(self.notes)
        self.heading.setText(
            f"{count} note{'s were' if count != 1 else ' was'} not saved. The text is kept "
            "on this computer: open a note to save it, or discard it.")
        self.list.clear()
        for note in self.notes:
            self.list.addItem(QListWidgetItem(unsaved_line(note)))
        self.list.setCurrentRow(0)
        if not self.notes:
            self.accept()

    def _act(self, signal: object) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.notes):
            note = self.notes.pop(row)
            signal.emit(note)  # type: ignore[attr-defined]
            self._render()

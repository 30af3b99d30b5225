"""The user's own text expanders (".bd" → "twice daily"): add, change, remove. Shipped
ones are listed too; an own expander with the same abbreviation wins."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.notes.dto import Expander


class ExpandersDialog(QDialog):
    """Signals:
        save_requested(str, str): abbreviation, expansion.
        delete_requested(str): abbreviation of one of the user's own.
    """

    save_requested = Signal(str, str)
    delete_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Text expanders")
        self.expanders: tuple[Expander, ...] = ()
        self.list = QListWidget(self)
        self.list.setObjectName("expanderList")
        self.abbreviation = QLineEdit(self)
        self.abbreviation.setObjectName("abbreviation")
        self.abbreviation.setPlaceholderText(".bd")
        self.expansion = QLineEdit(self)
        self.expansion.setObjectName("expansion")
        self.expansion.setPlaceholderText("twice daily")
        self.error = QLabel(self)
        self.error.setObjectName("expanderError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        add = QPushButton("&Add or change", self)
        add.setObjectName("addExpander")
        add.clicked.connect(self._on_add)
        self.remove = QPushButton("&Remove mine", self)
        self.remove.setObjectName("removeExpander")
        self.remove.clicked.connect(self._on_remove)
        form = QFormLayout()
        form.addRow("A&bbreviation", self.abbreviation)
        form.addRow("&Expands to", self.expansion)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Type the abbreviation, then Space, Enter or Tab.", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.remove)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(add)
        layout.addWidget(close)

    def show_expanders(self, expanders: tuple[Expander, ...]) -> None:
        self.expanders = expanders
        self.list.clear()
        for e in expanders:
            item = QListWidgetItem(f"{e.abbreviation}  →  {e.expansion}"
                                   + ("   (yours)" if e.personal else ""))
            self.list.addItem(item)

    def show_error(self, sentence: str) -> None:
        self.error.setText(sentence)
        self.error.setVisible(bool(sentence))

    def _on_add(self) -> None:
        abbreviation = self.abbreviation.text().strip()
        expansion = self.expansion.text().strip()
        if not abbreviation.startswith(".") or len(abbreviation) < 2 or " " in abbreviation:
            self.show_error("An abbreviation starts with a dot and has no spaces, e.g. “.bd”.")
            self.abbreviation.setFocus()
            return
        if not expansion:
            self.show_error("Say what the abbreviation expands to.")
            self.expansion.setFocus()
            return
        self.show_error("")
        self.save_requested.emit(abbreviation, expansion)
        self.abbreviation.clear()
        self.expansion.clear()

    def _on_remove(self) -> None:
        row = self.list.currentRow()
        if row < 0 or not self.expanders[row].personal:
            self.show_error("Only your own expanders can be removed; select one marked "
                            "“yours”.")
            return
        self.show_error("")
        self.delete_requested.emit(self.expanders[row].abbreviation)

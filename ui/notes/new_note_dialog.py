"""Choosing the kind of note to write (one of the shipped templates) and its title."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import PatientRecord
from backend_client.notes.dto import NoteTemplate
from ui.chart.banner import PatientBanner


class NewNoteDialog(QDialog):
    def __init__(self, record: PatientRecord, today: date, templates: tuple[NoteTemplate, ...],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New note")
        self.templates = templates
        self.list = QListWidget(self)
        self.list.setObjectName("templateList")
        self.list.setAccessibleName("Kind of note")
        for template in templates:
            kind = "letter" if template.kind == "letter" else "note"
            item = QListWidgetItem(f"{template.title}  ({len(template.sections)} sections, "
                                   f"{kind})")
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.title_edit = QLineEdit(self)
        self.title_edit.setObjectName("newNoteTitle")
        self.title_edit.setPlaceholderText("Title (optional: the kind of note otherwise)")
        kind_label = QLabel("&Kind of note", self)
        kind_label.setBuddy(self.list)
        title_label = QLabel("&Title", self)
        title_label.setBuddy(self.title_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Start writing")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemActivated.connect(lambda _item: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(PatientBanner(record, today, self))
        layout.addWidget(kind_label)
        layout.addWidget(self.list)
        layout.addWidget(title_label)
        layout.addWidget(self.title_edit)
        layout.addWidget(buttons)

    def chosen(self) -> tuple[NoteTemplate, str]:
        return self.templates[max(0, self.list.currentRow())], self.title_edit.text().strip()

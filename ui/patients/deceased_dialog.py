"""Record a patient's death: the date, and a clear statement of what that changes."""

from __future__ import annotations

import html
from datetime import date

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import PatientRecord
from ui.patients.date_field import DateField
from ui.patients.formatting import DateFormatError


class MarkDeceasedDialog(QDialog):
    """Signals:
        save_requested(object): the date of death (a ``date``) the user confirmed.
    """

    save_requested = Signal(object)

    def __init__(self, record: PatientRecord, today: date,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mark-deceased-dialog")
        d = record.draft
        name = f"{d.family_name}, {d.given_name}"
        self.setWindowTitle(f"Record death — {name}")
        self.record = record
        intro = QLabel(
            f"Record that <b>{html.escape(name)}</b> (MRN {html.escape(record.mrn)}) has died. "
            "The chart stays readable and is marked deceased everywhere it appears.", self)
        intro.setWordWrap(True)
        self.date_field = DateField(self)
        self.date_field.set_date(today)
        self.date_field.edit.setAccessibleName("Date of death")
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #b71c1c;")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        form = QFormLayout()
        caption = QLabel("Date of death", self)
        caption.setBuddy(self.date_field.edit)
        form.addRow(caption, self.date_field)
        form.addRow("", self.error)

        self.save_button = QPushButton("Record death", self)
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.on_save_button_clicked)
        cancel = QPushButton("Cancel", self)
        cancel.setDefault(True)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.resize(480, 200)
        self.date_field.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Saving…" if busy else "Record death")

    def show_error(self, sentence: str) -> None:
        self.error.setText("⚠ " + sentence)
        self.error.show()
        self.date_field.clear_echo()  # one place says what is wrong

    @Slot()
    def on_save_button_clicked(self) -> None:
        try:
            value = self.date_field.value()
        except DateFormatError as exc:
            self.show_error(str(exc))
            return
        if value is None:
            self.show_error("Enter the date of death.")
            return
        self.error.hide()
        self.save_requested.emit(value)

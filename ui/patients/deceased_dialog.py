"""Record a patient's death, in two steps: the facts, then a second look.

Step one names the patient (the banner), and asks for the date of death — never filled in
for the user: not in the future, not before birth — and where the news comes from.
Step two asks "Record the death of Müller, Anna, born 12 Mar 1984, MRN …?" with "Go back"
as the default button, so Enter pressed twice never records a death.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import DEATH_SOURCES, PatientRecord
from ui.chart.banner import PatientBanner
from ui.patients.date_field import DateField
from ui.patients.formatting import DateFormatError, format_date

ERROR_STYLE = "color: #b71c1c;"


class MarkDeceasedDialog(QDialog):
    """Signals:
        save_requested(object): ``(date of death, source code)``, confirmed by the user
            in the second step.

    Attributes:
        confirmation: the second step's question while it is open (tests answer it).
    """

    save_requested = Signal(object)

    def __init__(self, record: PatientRecord, today: date,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mark-deceased-dialog")
        d = record.draft
        self.name = f"{d.family_name}, {d.given_name}"
        self.setWindowTitle(f"Record death — {self.name}")
        self.record = record
        self.patient_id = record.id
        self._today = today
        self.confirmation: QMessageBox | None = None
        self.banner = PatientBanner(record, today, self)
        intro = QLabel("Record that this patient has died. The chart stays readable and is "
                       "marked deceased everywhere it appears. Both fields are required; "
                       "you are asked to confirm before anything is saved.", self)
        intro.setWordWrap(True)
        self.date_field = DateField(self)
        self.date_field.edit.setAccessibleName("Date of death")
        self.date_error = self._error_label("error-date")
        self.source = QComboBox(self)
        self.source.setObjectName("death-source")
        self.source.setAccessibleName("Source of the information")
        self.source.addItem("Choose where this comes from…", "")
        for code, label in DEATH_SOURCES.items():
            self.source.addItem(label, code)
        self.source_error = self._error_label("error-source")
        self.error = self._error_label("error-save")
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        caption = QLabel("&Date of death", self)
        caption.setBuddy(self.date_field.edit)
        form.addRow(caption, self._with_error(self.date_field, self.date_error))
        source_caption = QLabel("&Source", self)
        source_caption.setBuddy(self.source)
        form.addRow(source_caption, self._with_error(self.source, self.source_error))

        self.save_button = QPushButton("Continue…", self)
        self.save_button.setObjectName("deceased-continue")
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
        layout.addWidget(self.banner)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch(1)  # extra height goes below the form, not into the banner
        layout.addLayout(buttons)
        self.resize(520, 260)
        self.date_field.setFocus()

    def _error_label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.hide()
        return label

    def _with_error(self, field: QWidget, error: QLabel) -> QWidget:
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        column.addWidget(error)
        return box

    # ------------------------------------------------------------- for presenters

    def set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Saving…" if busy else "Continue…")

    def show_error(self, sentence: str, field: str = "") -> None:
        """Next to its field ("deceased_at", "source"), or under the form."""
        label = {"deceased_at": self.date_error, "source": self.source_error}.get(
            field, self.error)
        label.setText("⚠ " + sentence)
        label.show()
        if label is self.date_error:
            self.date_field.clear_echo()  # one place says what is wrong

    def clear_errors(self) -> None:
        for label in (self.date_error, self.source_error, self.error):
            label.hide()

    # ------------------------------------------------------------------ slots

    @Slot()
    def on_save_button_clicked(self) -> None:
        self.clear_errors()
        when = self._checked_date()
        source = str(self.source.currentData() or "")
        if not source:
            self.show_error("Choose where the news of the death comes from.", "source")
        if when is None or not source:
            return
        self._confirm(when, source)

    def _checked_date(self) -> date | None:
        try:
            value = self.date_field.value()
        except DateFormatError as exc:
            self.show_error(str(exc), "deceased_at")
            return None
        born = self.record.draft.birth_date
        if value is None:
            self.show_error("Enter the date of death.", "deceased_at")
        elif value > self._today:
            self.show_error(f"The date of death cannot be in the future (today is "
                            f"{format_date(self._today)}).", "deceased_at")
        elif isinstance(born, date) and value < born:
            self.show_error(f"The date of death cannot be before the date of birth "
                            f"({format_date(born)}).", "deceased_at")
        else:
            return value
        return None

    def confirmation_text(self) -> str:
        born = self.record.draft.birth_date
        born_text = f", born {format_date(born)}" if isinstance(born, date) else ""
        return f"Record the death of {self.name}{born_text}, MRN {self.record.mrn}?"

    def _confirm(self, when: date, source: str) -> None:
        """The second look, without a nested event loop (the idle lock may come
        meanwhile): "Go back" is the default button."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Record death?", self.confirmation_text(),
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("deceased-confirmation")
        box.setInformativeText(f"Date of death: {format_date(when, long=True)}. Source: "
                               f"{DEATH_SOURCES[source]}. This marks the record deceased "
                               "everywhere it appears.")
        record = box.addButton("Record death", QMessageBox.ButtonRole.DestructiveRole)
        back = box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(back)
        box.setEscapeButton(back)
        self.confirmation = box

        def answered(_result: int) -> None:
            chosen = box.clickedButton()
            if self.confirmation is box:
                self.confirmation = None
            box.deleteLater()
            if chosen is record:
                self.save_requested.emit((when, source))

        box.finished.connect(answered)
        box.open()

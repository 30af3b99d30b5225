"""The chart's forms: add or edit a problem, a medication, an allergy or alert; a reason
(retiring an item, starting an encounter) or a summary (closing one).

Every form opens with the patient's banner (name, date of birth, MRN) as its first line.
A ``ValidationError`` puts each field's sentence next to its field; a ``Conflict`` says who
changed the item while the form was open; what was typed stays. Ctrl+S or Enter in a
one-line field saves; Escape cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.chart.dto import (
    ALERT_KINDS,
    ALERT_SEVERITIES,
    AlertDraft,
    MedicationDraft,
    ProblemDraft,
    Stamp,
)
from backend_client.dto import PatientRecord
from ui.chart.banner import PatientBanner
from ui.chart.list_section import stamp_text
from ui.patients.date_field import DateField
from ui.patients.formatting import DateFormatError

ERROR_STYLE = "color: #b71c1c;"


def sentence(reason: str) -> str:
    reason = reason.strip()
    text = reason[:1].upper() + reason[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class ChartFormDialog(QDialog):
    """A form about one patient: the banner, fields with their own error lines, a message
    line, Save and Cancel.

    Signals:
        save_requested(object): what the form holds (a draft, or a reason string), checked
            for what the form itself can tell (a date that cannot be read, a blank
            required field).
    """

    save_requested = Signal(object)

    def __init__(self, title: str, record: PatientRecord, today: date, *,
                 save_text: str = "Save", stamp: Stamp | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{title} — {record.draft.family_name}, {record.draft.given_name}")
        self.setObjectName("chart-form")
        self.patient_id = record.id
        self.banner = PatientBanner(record, today, self)
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.errors: dict[str, QLabel] = {}
        self.fields: dict[str, QWidget] = {}
        self.message = QLabel(self)
        self.message.setObjectName("chart-form-message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self.stamp_label = QLabel(stamp_text(stamp) if stamp else "", self)
        self.stamp_label.setObjectName("chart-form-stamp")
        self.stamp_label.setWordWrap(True)
        self.stamp_label.setStyleSheet("color: #455a64;")
        self.stamp_label.setVisible(stamp is not None)
        self._save_text = save_text
        self.save_button = QPushButton(save_text, self)
        self.save_button.setObjectName("chart-form-save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.on_save_button_clicked)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self,
                  self.on_save_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.stamp_label)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.setMinimumWidth(420)

    def add_field(self, name: str, caption: str, widget: QWidget) -> None:
        label = QLabel(caption, self)
        label.setBuddy(widget.focusProxy() or widget)
        error = QLabel(self)
        error.setObjectName(f"error-{name}")
        error.setWordWrap(True)
        error.setStyleSheet(ERROR_STYLE)
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.hide()
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        column.addWidget(error)
        self.form.addRow(label, box)
        self.fields[name] = widget
        self.errors[name] = error
        if len(self.fields) == 1:
            widget.setFocus()

    # ------------------------------------------------------------- for presenters

    def set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Saving…" if busy else self._save_text)

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each field's sentence next to it; any other beside the buttons."""
        self.clear_errors()
        rest = []
        first: QWidget | None = None
        for name, reason in errors.items():
            label = self.errors.get(name)
            if label is None:
                rest.append(sentence(reason))
                continue
            label.setText("⚠ " + sentence(reason))
            label.show()
            first = first or self.fields[name]
        if rest:
            self.show_message(" ".join(rest))
        if first is not None:
            first.setFocus()

    def show_message(self, text: str) -> None:
        self.message.setText("⚠ " + text)
        self.message.show()

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.hide()
        self.message.hide()

    def error_texts(self) -> dict[str, str]:
        return {k: v.text() for k, v in self.errors.items() if not v.isHidden()}

    # ------------------------------------------------------------------ slots

    @Slot()
    def on_save_button_clicked(self) -> None:
        if not self.save_button.isEnabled():
            return
        self.clear_errors()
        errors: dict[str, str] = {}
        value = self.value(errors)
        if errors:
            self.show_errors(errors)
            return
        self.save_requested.emit(value)

    def value(self, errors: dict[str, str]) -> Any:
        """What the form holds; problems the form can tell go into ``errors``."""
        raise NotImplementedError

    # -------------------------------------------------------------- helpers

    def line(self, name: str, caption: str, text: str = "", placeholder: str = ""
             ) -> QLineEdit:
        edit = QLineEdit(text, self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        self.add_field(name, caption, edit)
        return edit

    def combo(self, name: str, caption: str, options: Sequence[str], current: str
              ) -> QComboBox:
        box = QComboBox(self)
        box.setObjectName(name)
        for option in options:
            box.addItem(option.capitalize(), option)
        box.setCurrentIndex(max(0, box.findData(current)))
        self.add_field(name, caption, box)
        return box

    def date_field(self, name: str, caption: str, value: date | None) -> DateField:
        field = DateField(self)
        field.setObjectName(name)
        field.set_date(value)
        field.edit.setAccessibleName(caption.replace("&", ""))
        self.add_field(name, caption, field)
        return field

    @staticmethod
    def read_date(field: DateField, name: str, errors: dict[str, str]) -> date | None:
        try:
            return field.value()
        except DateFormatError as exc:
            errors[name] = str(exc)
            return None


class ProblemDialog(ChartFormDialog):
    def __init__(self, record: PatientRecord, today: date, draft: ProblemDraft | None = None,
                 stamp: Stamp | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Edit problem" if draft else "Add problem", record, today,
                         stamp=stamp, parent=parent)
        d = draft or ProblemDraft("")
        self.description = self.line("description", "&Problem", d.description,
                                     "e.g. Type 2 diabetes")
        self.code = self.line("code", "C&ode", d.code, "ICD-10 or SNOMED, optional")
        self.onset = self.date_field("onset_date", "&Onset", d.onset_date)
        self.status = self.combo("status", "S&tatus", ("active", "resolved"), d.status)
        self.comment = self.line("comment", "Co&mment", d.comment)

    def value(self, errors: dict[str, str]) -> ProblemDraft:
        description = self.description.text().strip()
        if not description:
            errors["description"] = "describe the problem"
        return ProblemDraft(description, self.code.text().strip(),
                            self.read_date(self.onset, "onset_date", errors),
                            str(self.status.currentData()), self.comment.text().strip())


class MedicationDialog(ChartFormDialog):
    def __init__(self, record: PatientRecord, today: date,
                 draft: MedicationDraft | None = None, stamp: Stamp | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Edit medication" if draft else "Add medication", record, today,
                         stamp=stamp, parent=parent)
        d = draft or MedicationDraft("", "")
        self.name = self.line("name", "&Medication", d.name, "e.g. Metformin")
        self.dose = self.line("dose", "&Dose", d.dose, "e.g. 500 mg")
        self.route = self.line("route", "&Route", d.route)
        self.frequency = self.line("frequency", "&Frequency", d.frequency, "e.g. twice daily")
        self.started = self.date_field("started_on", "S&tarted", d.started_on)
        self.stopped = self.date_field("stopped_on", "Sto&pped", d.stopped_on)
        self.status = self.combo("status", "Stat&us", ("active", "stopped"), d.status)
        self.comment = self.line("comment", "Co&mment", d.comment)

    def value(self, errors: dict[str, str]) -> MedicationDraft:
        name, dose = self.name.text().strip(), self.dose.text().strip()
        if not name:
            errors["name"] = "name the medication"
        if not dose:
            errors["dose"] = "give the dose, e.g. 500 mg"
        return MedicationDraft(name, dose, self.route.text().strip() or "oral",
                               self.frequency.text().strip(),
                               self.read_date(self.started, "started_on", errors),
                               self.read_date(self.stopped, "stopped_on", errors),
                               str(self.status.currentData()), self.comment.text().strip())


class AlertDialog(ChartFormDialog):
    def __init__(self, record: PatientRecord, today: date, draft: AlertDraft | None = None,
                 stamp: Stamp | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Edit allergy or alert" if draft else "Add allergy or alert",
                         record, today, stamp=stamp, parent=parent)
        d = draft or AlertDraft("allergy", "")
        self.kind = self.combo("kind", "&Kind", ALERT_KINDS, d.kind)
        self.description = self.line("description", "&Substance or alert", d.description,
                                     "e.g. Penicillin")
        self.severity = self.combo("severity", "Se&verity", ALERT_SEVERITIES, d.severity)
        self.reaction = self.line("reaction", "&Reaction", d.reaction, "e.g. anaphylaxis")
        self.onset = self.date_field("onset_date", "&Onset", d.onset_date)
        self._status = d.status

    def value(self, errors: dict[str, str]) -> AlertDraft:
        kind = str(self.kind.currentData())
        description = self.description.text().strip()
        if not description:
            errors["description"] = ("name the substance" if kind == "allergy"
                                     else "describe the alert")
        return AlertDraft(kind, description, str(self.severity.currentData()),
                          self.reaction.text().strip(),
                          self.read_date(self.onset, "onset_date", errors), self._status)


class ReasonDialog(ChartFormDialog):
    """One required sentence: why an item is retired, why the patient is seen, or the
    summary that closes an encounter. ``field`` is the name the service's errors use."""

    def __init__(self, title: str, intro: str, caption: str, record: PatientRecord,
                 today: date, *, field: str = "reason", missing: str = "a reason is required",
                 save_text: str = "Save", multiline: bool = False,
                 stamp: Stamp | None = None, parent: QWidget | None = None) -> None:
        super().__init__(title, record, today, save_text=save_text, stamp=stamp, parent=parent)
        self._missing = missing
        self._field = field
        self.intro = QLabel(intro, self)
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.form.addRow(self.intro)
        self.edit: QLineEdit | QPlainTextEdit
        if multiline:
            self.edit = QPlainTextEdit(self)
            self.edit.setTabChangesFocus(True)
            self.edit.setMinimumHeight(90)
        else:
            self.edit = QLineEdit(self)
        self.edit.setObjectName(field)
        self.add_field(field, caption, self.edit)

    def text(self) -> str:
        edit = self.edit
        return edit.toPlainText() if isinstance(edit, QPlainTextEdit) else edit.text()

    def set_text(self, text: str) -> None:
        if isinstance(self.edit, QPlainTextEdit):
            self.edit.setPlainText(text)
        else:
            self.edit.setText(text)

    def value(self, errors: dict[str, str]) -> str:
        text = self.text().strip()
        if not text:
            errors[self._field] = self._missing
        return text

"""Write a prescription: every field, checked while typing (each field's sentence next to
it), and the quantity the app computes when none is typed.

The dialog only asks: ``check_requested`` a short pause after each change (the presenter
answers with :meth:`show_errors` or :meth:`show_checked`), ``save_requested`` on Save.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backend_client.chart.dto import ROUTES, STRENGTH_UNITS, PrescriptionDraft
from backend_client.dto import PatientRecord
from ui.chart.banner import PatientBanner
from ui.orders.common import dialog_buttons, show_field_errors
from ui.patients.date_field import DateField
from ui.patients.formatting import DateFormatError
from ui.scheduling.booking_dialog import STYLE, error_label, show_error

FORMS = ("tablet", "capsule", "solution", "suspension", "cream", "ointment", "inhaler",
         "drops", "patch", "injection", "suppository", "spray")
FREQUENCIES = ("once daily", "twice daily", "three times daily", "four times daily",
               "every 4 hours", "every 6 hours", "every 8 hours", "every 12 hours",
               "in the morning", "at night", "as needed")
SAVE = "Save draft"


def describe(d: PrescriptionDraft) -> str:
    """"Metformin 500 mg tablet"."""
    return " ".join(p for p in (d.drug, f"{d.strength} {d.unit}".strip(), d.form) if p)


def dose_text(d: PrescriptionDraft) -> str:
    """"1 tablet twice daily, oral, for 14 days"."""
    form = d.form + ("s" if d.dose.strip() not in ("1", "1.0") and d.form and
                     not d.form.endswith("s") and d.dose.strip()[:1].isdigit()
                     and " " not in d.dose.strip() else "")
    return f"{d.dose} {form} {d.frequency}, {d.route}, for {d.duration_days} days"


class PrescriptionDialog(QDialog):
    """Signals:
        check_requested(object): the PrescriptionDraft on screen, to be checked.
        save_requested(object): the PrescriptionDraft to save (as a draft, to be signed).
    """

    check_requested = Signal(object)
    save_requested = Signal(object)

    def __init__(self, parent: QWidget | None, record: PatientRecord, today: date, *,
                 debounce_ms: int = 200) -> None:
        super().__init__(parent)
        self.setObjectName("prescription-dialog")
        self.setWindowTitle("New prescription")
        self.setStyleSheet(STYLE + "QLabel#computed-quantity { color: #1a237e; }")
        self.banner = PatientBanner(record, today, self)
        self.failure = error_label(self)
        # A clash with a recorded allergy: named above the form, and saving needs the
        # prescriber to say they have seen it (a deliberate choice, never a slip).
        self.allergy_warning = QLabel(self)
        self.allergy_warning.setObjectName("allergy-warning")
        self.allergy_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.allergy_warning.setWordWrap(True)
        self.allergy_warning.setStyleSheet(
            "QLabel#allergy-warning { color: white; background: #b71c1c; font-weight: 600;"
            " padding: 6px; border-radius: 3px; }")
        self.allergy_warning.hide()
        self.allergy_ack = QCheckBox("I have checked the allergy and prescribe it an&yway",
                                     self)
        self.allergy_ack.setObjectName("allergy-ack")
        self.allergy_ack.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.on_timer_timeout)
        body = QWidget()
        self._build(body)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        buttons, self.save_button = dialog_buttons(self, SAVE, self.on_save)
        self.save_button.setToolTip("Save it as a draft; a prescriber signs it in the list "
                                    "(Ctrl+Enter)")
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.allergy_warning)
        layout.addWidget(self.allergy_ack)
        layout.addWidget(self.failure)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.resize(600, 640)
        self.drug.setFocus()

    def _build(self, body: QWidget) -> None:
        form = QFormLayout(body)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.errors: dict[str, QLabel] = {}

        def row(keys: Sequence[str], caption: str, *widgets: QWidget) -> QVBoxLayout:
            cell = QVBoxLayout()
            cell.setSpacing(2)
            line = QHBoxLayout()
            for w in widgets:
                line.addWidget(w, 1 if isinstance(w, QLineEdit | QComboBox) else 0)
            if not any(isinstance(w, QLineEdit | QComboBox) for w in widgets):
                line.addStretch(1)
            cell.addLayout(line)
            for key in keys:
                self.errors[key] = error_label(body)
                cell.addWidget(self.errors[key])
            label = QLabel(caption, body)
            label.setBuddy(widgets[0])
            form.addRow(label, cell)
            return cell

        def line_edit(name: str, placeholder: str = "", limit: int = 120) -> QLineEdit:
            edit = QLineEdit(body)
            edit.setAccessibleName(name)
            edit.setPlaceholderText(placeholder)
            edit.setMaxLength(limit)
            edit.textChanged.connect(self._changed)
            return edit

        def combo(name: str, items: Sequence[str], editable: bool) -> QComboBox:
            box = QComboBox(body)
            box.setAccessibleName(name)
            box.setEditable(editable)
            box.addItems(list(items))
            if editable:
                box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
                box.editTextChanged.connect(self._changed)
            else:
                box.currentIndexChanged.connect(self._changed)
            return box

        self.drug = line_edit("Drug", "e.g. Metformin")
        row(("drug",), "&Drug", self.drug)
        self.strength = line_edit("Strength", "e.g. 500", 20)
        self.unit = combo("Unit of strength", STRENGTH_UNITS, editable=False)
        row(("strength", "unit"), "&Strength", self.strength, self.unit)
        self.form = combo("Form", FORMS, editable=True)
        row(("form",), "&Form", self.form)
        self.dose = line_edit("Dose: how many per administration", "e.g. 1, 2 or 5 ml", 20)
        self.dose.setText("1")
        row(("dose",), "D&ose", self.dose)
        self.route = combo("Route", ROUTES, editable=False)
        row(("route",), "&Route", self.route)
        self.frequency = combo("Frequency", FREQUENCIES, editable=True)
        row(("frequency",), "Fre&quency", self.frequency)
        self.duration = QSpinBox(body)
        self.duration.setRange(0, 999)
        self.duration.setValue(7)
        self.duration.setSuffix(" days")
        self.duration.setAccessibleName("Duration in days")
        self.duration.valueChanged.connect(self._changed)
        row(("duration_days",), "D&uration", self.duration)
        self.quantity = line_edit("Quantity to supply", "leave empty to compute", 20)
        self.computed = QLabel(body)
        self.computed.setObjectName("computed-quantity")
        self.computed.setTextFormat(Qt.TextFormat.PlainText)
        self.computed.setWordWrap(True)
        self.computed.hide()
        cell = row(("quantity",), "Qua&ntity", self.quantity)
        cell.addWidget(self.computed)
        self.refills = QSpinBox(body)
        self.refills.setRange(0, 99)
        self.refills.setAccessibleName("Refills")
        self.refills.valueChanged.connect(self._changed)
        row(("refills",), "Refi&lls", self.refills)
        self.starts = DateField(body)
        self.starts.edit.setPlaceholderText("when signed")
        self.starts.edit.setToolTip("Empty: the day it is signed. Write the date like "
                                    "24 Jun 2027 or 2027-06-24")
        self.starts.text_changed.connect(self._changed)
        row(("starts_on",), "St&arts", self.starts)
        self.instructions = line_edit("Instructions for the patient", "e.g. with food", 300)
        row(("instructions",), "&Instructions", self.instructions)

    # ------------------------------------------------------------------ reading

    def draft(self) -> PrescriptionDraft:
        """What is on screen. Raises DateFormatError when the start date cannot be read."""
        return PrescriptionDraft(
            drug=self.drug.text().strip(), strength=self.strength.text().strip(),
            unit=self.unit.currentText(), form=self.form.currentText().strip(),
            dose=self.dose.text().strip(), route=self.route.currentText(),
            frequency=" ".join(self.frequency.currentText().split()),
            duration_days=self.duration.value(), quantity=self.quantity.text().strip(),
            refills=self.refills.value(), starts_on=self.starts.value(),
            instructions=self.instructions.text().strip())

    def _draft_or_none(self, *, saving: bool) -> PrescriptionDraft | None:
        try:
            draft = self.draft()
        except DateFormatError as exc:
            # A half-typed date is not wrong yet while typing; on Save it is.
            if saving or not str(exc).startswith("Write the date"):
                show_error(self.errors["starts_on"], str(exc))
            return None
        show_error(self.errors["starts_on"], "")
        return draft

    # ------------------------------------------------------------------ answers

    def show_errors(self, errors: dict[str, str]) -> None:
        """Every field's sentence next to it; the others cleared."""
        starts = self.errors["starts_on"].text()
        show_field_errors(self.errors, self.failure, errors)
        if "starts_on" not in errors and starts:
            self.errors["starts_on"].setText(starts)
            self.errors["starts_on"].show()
        self.computed.clear()
        self.computed.hide()

    def show_checked(self, normal: PrescriptionDraft) -> None:
        """The check found nothing wrong: no sentences; the computed quantity shown."""
        show_field_errors(self.errors, self.failure, {})
        if not self.quantity.text().strip() and normal.quantity:
            self.computed.setText(f"Supply {normal.quantity} (computed: {dose_text(normal)})")
            self.computed.show()
        else:
            self.computed.clear()
            self.computed.hide()

    def show_failure(self, text: str) -> None:
        show_error(self.failure, text)

    def show_allergy_warnings(self, sentences: Sequence[str]) -> None:
        """⚠ and each clash with a recorded allergy; none: the warning goes."""
        if not sentences:
            self.allergy_warning.hide()
            self.allergy_ack.hide()
            self.allergy_ack.setChecked(False)
            return
        self.allergy_warning.setText("\n".join(f"⚠ {s}" for s in sentences))
        self.allergy_warning.show()
        self.allergy_ack.show()

    def set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Saving…" if busy else SAVE)

    # ------------------------------------------------------------------ events

    @Slot()
    def _changed(self) -> None:
        self._timer.start()

    @Slot()
    def on_timer_timeout(self) -> None:
        draft = self._draft_or_none(saving=False)
        if draft is not None:
            self.check_requested.emit(draft)

    def check_now(self) -> None:
        self._timer.stop()
        self.on_timer_timeout()

    @Slot()
    def on_save(self) -> None:
        if not self.save_button.isEnabled():
            return
        self._timer.stop()
        draft = self._draft_or_none(saving=True)
        if draft is None:
            return
        self.check_requested.emit(draft)  # the allergy check sees what is saved
        if self.allergy_warning.isVisible() and not self.allergy_ack.isChecked():
            show_error(self.failure, "This drug clashes with a recorded allergy: tick "
                       "\u201cI have checked the allergy\u201d (Alt+Y) to prescribe it anyway.")
            self.allergy_ack.setFocus()
            return
        self.save_requested.emit(draft)

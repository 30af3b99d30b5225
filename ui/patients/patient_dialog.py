"""Register or edit a patient; warn about likely duplicates before registering.

The dialog holds what the user typed and never loses it: a failed save (bad fields, a
possible duplicate, someone else's save in between) leaves every field as it was and says
what to do next, next to the field concerned and in a summary at the top. A field's error
goes as soon as the field is changed (the next save checks it again), so what is still
marked is what is still to fix.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import (
    IDENTIFIER_KIND_CHOICES,
    SEX_CHOICES,
    ClinicLocale,
    Contact,
    DuplicateCandidate,
    Identifier,
    PatientDraft,
    PatientRecord,
    PreviousName,
)
from ui.patients.conflict_dialog import ChangedElsewhereBar
from ui.patients.date_field import DateField
from ui.patients.formatting import DateFormatError, format_date, read_date, sex_label
from ui.patients.patient_table_model import ReadOnlyTableModel, row_table

STYLE = """
QLabel[role="field-error"] { color: #b71c1c; }
QLineEdit[error="true"], QComboBox[error="true"] { border: 2px solid #c62828;
    border-radius: 3px; padding: 1px 3px; }
QFrame#error-summary { background: #fdecea; border: 1px solid #e57373; border-radius: 4px; }
QFrame#error-summary QLabel { color: #7f1d1d; }
QLabel#dialog-notice { background: #e8f5e9; color: #1b5e20; border: 1px solid #a5d6a7;
    border-radius: 4px; padding: 6px 10px; }
QLabel#required-legend { color: #546e7a; }
QGroupBox { font-weight: bold; }
QGroupBox QLabel, QGroupBox QLineEdit, QGroupBox QComboBox, QGroupBox QPushButton,
QGroupBox QToolButton { font-weight: normal; }
"""

ERROR_MARK = "⚠ "
REQUIRED = " *"


@dataclass
class _Field:
    """Where one draft field lives in the form."""

    label: str
    editor: QWidget
    error: QLabel


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "field-error")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.hide()
    return label


def _mark(widget: QWidget, error: bool) -> None:
    if bool(widget.property("error")) != error:
        widget.setProperty("error", error)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


_PREDICATE_STARTS = {"is", "are", "must", "may", "contains", "has", "have", "cannot",
                     "can", "should", "needs", "does"}


def field_sentence(label: str, reason: str, *, named: bool = False) -> str:
    """The service's reason as a sentence: "is required" becomes "Given name is required.";
    a reason that is a sentence of its own keeps its words, prefixed by the field's label
    when ``named`` (in the summary, away from the field)."""
    reason = reason.strip()
    if not reason:
        return f"{label} needs attention."
    if reason.split(" ", 1)[0] in _PREDICATE_STARTS:
        sentence = f"{label} {reason}"
    else:
        sentence = reason[:1].upper() + reason[1:]
        if named:
            sentence = f"{label}: {sentence}"
    return sentence if sentence[-1] in ".!?" else sentence + "."


def _pretty(key: str) -> str:
    words = key.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "This patient"


def _combo(parent: QWidget, choices: Sequence[tuple[str, str]], blank: str = "") -> QComboBox:
    combo = QComboBox(parent)
    if blank:
        combo.addItem(blank, "")
    for code, label in choices:
        combo.addItem(label, code)
    return combo


def _set_combo(combo: QComboBox, code: str) -> None:
    index = combo.findData(code)
    if index < 0 and code:
        # A code this build does not know (a newer server): show it rather than lose it.
        combo.addItem(code, code)
        index = combo.count() - 1
    combo.setCurrentIndex(max(index, 0))


class _RepeatedRow(QWidget):
    """One removable row of line edits (an identifier, a previous name)."""

    removed = Signal(QWidget)

    def __init__(self, parent: QWidget, remove_text: str) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(2)
        self.remove = QToolButton(self)
        self.remove.setText("Remove")
        self.remove.setAccessibleName(remove_text)
        self.remove.setToolTip(remove_text)
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        self.error = _error_label(self)

    def editors(self) -> dict[str, QWidget]:
        """The row's editors by the last part of their error key ("value", "given_name")."""
        raise NotImplementedError


class IdentifierRow(_RepeatedRow):
    def __init__(self, parent: QWidget, value: Identifier | None = None) -> None:
        super().__init__(parent, "Remove this identifier")
        self.kind = _combo(self, IDENTIFIER_KIND_CHOICES)
        self.kind.setAccessibleName("Identifier kind")
        self.value = QLineEdit(self)
        self.value.setPlaceholderText("Number")
        self.value.setAccessibleName("Identifier number")
        self.issuer = QLineEdit(self)
        self.issuer.setPlaceholderText("Issued by (optional)")
        self.issuer.setAccessibleName("Identifier issued by")
        self.grid.addWidget(self.kind, 0, 0)
        self.grid.addWidget(self.value, 0, 1)
        self.grid.addWidget(self.issuer, 0, 2)
        self.grid.addWidget(self.remove, 0, 3)
        self.grid.addWidget(self.error, 1, 0, 1, 4)
        self.grid.setColumnStretch(1, 2)
        self.grid.setColumnStretch(2, 2)
        if value is not None:
            _set_combo(self.kind, value.kind)
            self.value.setText(value.value)
            self.issuer.setText(value.issuer)

    def editors(self) -> dict[str, QWidget]:
        return {"kind": self.kind, "value": self.value, "issuer": self.issuer}

    def identifier(self) -> Identifier | None:
        value, issuer = self.value.text().strip(), self.issuer.text().strip()
        if not value and not issuer:
            return None  # an untouched row is not an identifier
        return Identifier(kind=str(self.kind.currentData()), value=value, issuer=issuer)


class PreviousNameRow(_RepeatedRow):
    def __init__(self, parent: QWidget, value: PreviousName | None = None) -> None:
        super().__init__(parent, "Remove this previous name")
        self.given = QLineEdit(self)
        self.given.setPlaceholderText("Given name")
        self.given.setAccessibleName("Previous given name")
        self.family = QLineEdit(self)
        self.family.setPlaceholderText("Family name")
        self.family.setAccessibleName("Previous family name")
        self.grid.addWidget(self.given, 0, 0)
        self.grid.addWidget(self.family, 0, 1)
        self.grid.addWidget(self.remove, 0, 2)
        self.grid.addWidget(self.error, 1, 0, 1, 3)
        if value is not None:
            self.given.setText(value.given_name)
            self.family.setText(value.family_name)

    def editors(self) -> dict[str, QWidget]:
        return {"given_name": self.given, "family_name": self.family}

    def previous_name(self) -> PreviousName | None:
        given, family = self.given.text().strip(), self.family.text().strip()
        if not given and not family:
            return None
        return PreviousName(given_name=given, family_name=family)


class PatientDialog(QDialog):
    """The register/edit form over every field of :class:`PatientDraft`.

    Signals:
        save_requested(object): a PatientDraft the user asked to save.
        their_changes_requested(): someone else saved this patient meanwhile; the user
            wants to see their changes field by field (the changed-elsewhere bar).
        take_theirs_requested(): ... and to put their values in the fields they changed.
    """

    save_requested = Signal(object)
    their_changes_requested = Signal()
    take_theirs_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *,
                 record: PatientRecord | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patient-dialog")
        self.setStyleSheet(STYLE)
        self.record = record
        self._fields: dict[str, _Field] = {}
        self._captions: list[QLabel] = []
        self._identifier_rows: list[IdentifierRow] = []
        self._previous_rows: list[PreviousNameRow] = []
        # The errors shown now, by field key: each goes when its field is edited.
        self._errors: dict[str, str] = {}
        self._dirty = False
        self._discard_confirmed = False
        self._busy = False
        self.discard_box: QMessageBox | None = None

        self.notice = QLabel(self)
        self.notice.setObjectName("dialog-notice")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.changed_bar = ChangedElsewhereBar(self)
        self.changed_bar.show_requested.connect(self.their_changes_requested)
        self.changed_bar.take_requested.connect(self.take_theirs_requested)
        self.changed_bar.dismissed.connect(self.on_changed_bar_dismissed)
        self._build_summary()

        body = QWidget()
        self._build_form(body)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.scroll_area = scroll

        legend = QLabel("Fields marked * are required.", self)
        legend.setObjectName("required-legend")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(self)
        self.save_button.setObjectName("save-patient")
        self.save_button.setAutoDefault(False)
        self.save_button.setToolTip("Save (Ctrl+Enter)")
        self.save_button.clicked.connect(self.on_save_button_clicked)
        for keys in ("Ctrl+Return", "Ctrl+Enter", "Ctrl+S"):
            QShortcut(QKeySequence(keys), self, self.on_save_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(legend, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self.changed_bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.notice)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.resize(920, 720)

        if record is None:
            self.setWindowTitle("Register patient")
            self.save_button.setText("Register patient")
            self._identifier_hint.setText(
                "An MRN is assigned when the patient is registered, unless you enter one.")
            # No empty previous-name row: most patients have none ("Add previous name").
        else:
            self.load(record)
        self.given_name.setFocus()
        self._dirty = False

    # ------------------------------------------------------------------ building

    def _build_summary(self) -> None:
        self.summary = QFrame(self)
        self.summary.setObjectName("error-summary")
        self.summary_text = QLabel(self.summary)
        self.summary_text.setObjectName("error-summary-text")
        self.summary_text.setTextFormat(Qt.TextFormat.RichText)
        self.summary_text.setWordWrap(True)
        self.summary_text.linkActivated.connect(self.on_summary_text_link_activated)
        layout = QVBoxLayout(self.summary)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.summary_text)
        self.summary.hide()

    def _line(self, parent: QWidget, key: str, label: str, form: QFormLayout, *,
              required: bool = False, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit(parent)
        edit.setAccessibleName(label)
        if placeholder:
            edit.setPlaceholderText(placeholder)
        self._add_row(parent, key, label, edit, form, required=required)
        return edit

    def _add_row(self, parent: QWidget, key: str, label: str, editor: QWidget,
                 form: QFormLayout, *, required: bool = False) -> None:
        error = _error_label(parent)
        cell = QVBoxLayout()
        cell.setSpacing(2)
        cell.addWidget(editor)
        cell.addWidget(error)
        caption = QLabel(label + (REQUIRED if required else ""), parent)
        caption.setBuddy(editor)
        caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._captions.append(caption)
        form.addRow(caption, cell)
        self._fields[key] = _Field(label, editor, error)
        for signal in ("textChanged", "currentIndexChanged", "text_changed"):
            if hasattr(editor, signal):
                getattr(editor, signal).connect(self._on_changed)
                getattr(editor, signal).connect(lambda *_, k=key: self._field_edited(k))
                break

    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setVerticalSpacing(6)
        return form

    def _build_form(self, body: QWidget) -> None:
        name_box = QGroupBox("Name", body)
        form = self._form(name_box)
        self.given_name = self._line(name_box, "given_name", "Given name", form, required=True)
        self.middle_name = self._line(name_box, "middle_name", "Middle name", form)
        self.family_name = self._line(name_box, "family_name", "Family name", form,
                                      required=True)
        self.preferred_name = self._line(name_box, "preferred_name", "Preferred name", form,
                                         placeholder="What the patient likes to be called")

        birth_box = QGroupBox("Birth and sex", body)
        form = self._form(birth_box)
        self.birth_date = DateField(birth_box)
        self.birth_date.edit.setAccessibleName("Date of birth")
        self._add_row(birth_box, "birth_date", "Date of birth", self.birth_date, form,
                      required=True)
        self.sex = _combo(birth_box, SEX_CHOICES, blank="Choose…")
        self.sex.setAccessibleName("Sex")
        self._add_row(birth_box, "sex", "Sex", self.sex, form, required=True)
        self.gender_identity = self._line(birth_box, "gender_identity", "Gender identity",
                                          form, placeholder="As the patient describes it")

        contact_box = QGroupBox("Contact", body)
        form = self._form(contact_box)
        self.phone = self._line(contact_box, "phone", "Phone", form)
        self.email = self._line(contact_box, "email", "Email", form)
        self.language = self._line(contact_box, "language", "Preferred language", form)

        address_box = QGroupBox("Address", body)
        form = self._form(address_box)
        self.address_line1 = self._line(address_box, "address_line1", "Address", form)
        self.address_line2 = self._line(address_box, "address_line2", "Address line 2", form)
        self.city = self._line(address_box, "city", "City or town", form)
        self.region = self._line(address_box, "region", "Region or state", form)
        self.postal_code = self._line(address_box, "postal_code", "Postal code", form)
        self.country = self._line(address_box, "country", "Country", form,
                                  placeholder="Two-letter code, such as GB or US")

        emergency_box = QGroupBox("Emergency contact", body)
        form = self._form(emergency_box)
        self.contact_name = self._line(emergency_box, "emergency_contact.name", "Name", form)
        self.contact_relationship = self._line(emergency_box, "emergency_contact.relationship",
                                               "Relationship", form,
                                               placeholder="For example: daughter")
        self.contact_phone = self._line(emergency_box, "emergency_contact.phone", "Phone", form)
        self.contact_email = self._line(emergency_box, "emergency_contact.email", "Email", form)
        for key in list(self._fields):
            if key.startswith("emergency_contact."):
                self._fields[key].label = "Emergency contact " + self._fields[key].label.lower()

        identifiers_box = QGroupBox("Identifiers", body)
        self._identifier_hint = QLabel(identifiers_box)
        self._identifier_hint.setStyleSheet("color: #546e7a;")
        self._identifier_hint.setWordWrap(True)
        self._identifier_list = QVBoxLayout()
        self._identifier_list.setSpacing(4)
        add_identifier = QPushButton("Add identifier", identifiers_box)
        add_identifier.setAutoDefault(False)
        add_identifier.clicked.connect(lambda: self.add_identifier_row(focus=True))
        identifiers_error = _error_label(identifiers_box)
        self._fields["identifiers"] = _Field("Identifiers", add_identifier, identifiers_error)
        box = QVBoxLayout(identifiers_box)
        box.addWidget(self._identifier_hint)
        box.addLayout(self._identifier_list)
        box.addWidget(identifiers_error)
        box.addWidget(add_identifier, 0, Qt.AlignmentFlag.AlignLeft)

        previous_box = QGroupBox("Previous names (optional)", body)
        self._previous_list = QVBoxLayout()
        self._previous_list.setSpacing(4)
        add_previous = QPushButton("Add previous name", previous_box)
        add_previous.setAutoDefault(False)
        add_previous.clicked.connect(lambda: self.add_previous_name_row(focus=True))
        previous_error = _error_label(previous_box)
        self._fields["previous_names"] = _Field("Previous names", add_previous, previous_error)
        box = QVBoxLayout(previous_box)
        box.addLayout(self._previous_list)
        box.addWidget(previous_error)
        box.addWidget(add_previous, 0, Qt.AlignmentFlag.AlignLeft)

        # One caption width per column, so the fields of its boxes start on one line.
        for boxes in ((name_box, birth_box, contact_box), (address_box, emergency_box)):
            captions = [c for c in self._captions if c.parent() in boxes]
            width = max(c.sizeHint().width() for c in captions)
            for caption in captions:
                caption.setMinimumWidth(width)
        left = QVBoxLayout()
        left.addWidget(name_box)
        left.addWidget(birth_box)
        left.addWidget(contact_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(address_box)
        right.addWidget(emergency_box)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.setSpacing(12)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addLayout(columns)
        layout.addWidget(identifiers_box)
        layout.addWidget(previous_box)
        layout.addStretch(1)

    # ------------------------------------------------------------ repeated rows

    def add_identifier_row(self, value: Identifier | None = None, *,
                           focus: bool = False) -> IdentifierRow:
        row = IdentifierRow(self, value)
        row.removed.connect(self._remove_identifier_row)
        for signal in (row.kind.currentIndexChanged, row.value.textChanged,
                       row.issuer.textChanged):
            signal.connect(self._on_changed)
            signal.connect(lambda *_, r=row: self._row_edited(r))
        self._identifier_rows.append(row)
        self._identifier_list.addWidget(row)
        row.show()  # at once, not when the event loop next turns
        if focus:
            row.value.setFocus()
        return row

    def add_previous_name_row(self, value: PreviousName | None = None, *,
                              focus: bool = False) -> PreviousNameRow:
        row = PreviousNameRow(self, value)
        row.removed.connect(self._remove_previous_row)
        for signal in (row.given.textChanged, row.family.textChanged):
            signal.connect(self._on_changed)
            signal.connect(lambda *_, r=row: self._row_edited(r))
        self._previous_rows.append(row)
        self._previous_list.addWidget(row)
        row.show()
        if focus:
            row.given.setFocus()
        return row

    @Slot(QWidget)
    def _remove_identifier_row(self, row: QWidget) -> None:
        self._identifier_rows = [r for r in self._identifier_rows if r is not row]
        row.hide()
        row.deleteLater()
        self._on_changed()
        self._forget_errors("identifiers")  # the rows after it moved up: checked at save

    @Slot(QWidget)
    def _remove_previous_row(self, row: QWidget) -> None:
        self._previous_rows = [r for r in self._previous_rows if r is not row]
        row.hide()
        row.deleteLater()
        self._on_changed()
        self._forget_errors("previous_names")

    @property
    def identifier_rows(self) -> list[IdentifierRow]:
        return list(self._identifier_rows)

    @property
    def previous_name_rows(self) -> list[PreviousNameRow]:
        return list(self._previous_rows)

    # ------------------------------------------------------------ values

    def load(self, record: PatientRecord) -> None:
        """Show ``record`` (edit mode); replaces whatever is typed."""
        self.record = record
        d = record.draft
        name = f"{d.family_name}, {d.given_name}"
        self.setWindowTitle(f"Edit patient details — {name} (MRN {record.mrn})")
        self.save_button.setText("Save changes")
        self._identifier_hint.setText(f"The clinic's MRN for this patient is {record.mrn}.")
        self.fill(d)
        self.changed_bar.hide()
        self._dirty = False

    def fill(self, d: PatientDraft) -> None:
        """Put ``d`` in the form's fields (a restored draft, or a record being loaded); the
        form then counts as changed until it is saved."""
        for key, edit in (("given_name", self.given_name), ("middle_name", self.middle_name),
                          ("family_name", self.family_name),
                          ("preferred_name", self.preferred_name),
                          ("gender_identity", self.gender_identity), ("phone", self.phone),
                          ("email", self.email), ("language", self.language),
                          ("address_line1", self.address_line1),
                          ("address_line2", self.address_line2), ("city", self.city),
                          ("region", self.region), ("postal_code", self.postal_code),
                          ("country", self.country)):
            edit.setText(getattr(d, key))
        if isinstance(d.birth_date, str):  # a restored draft keeps what was typed
            self.birth_date.edit.setText(d.birth_date)
        else:
            self.birth_date.set_date(d.birth_date)
        _set_combo(self.sex, d.sex)
        contact = d.emergency_contact
        self.contact_name.setText(contact.name if contact else "")
        self.contact_relationship.setText(contact.relationship if contact else "")
        self.contact_phone.setText(contact.phone if contact else "")
        self.contact_email.setText(contact.email if contact else "")
        for row in self._rows():
            row.hide()
            row.deleteLater()
        self._identifier_rows, self._previous_rows = [], []
        for identifier in d.identifiers:
            self.add_identifier_row(identifier)
        for previous in d.previous_names:
            self.add_previous_name_row(previous)
        self.clear_errors()
        self._dirty = True

    def draft(self) -> PatientDraft:
        """What the form says now."""

        def text(edit: QLineEdit) -> str:
            return edit.text().strip()

        contact_fields = (text(self.contact_name), text(self.contact_relationship),
                          text(self.contact_phone), text(self.contact_email))
        contact = (Contact(name=contact_fields[0], relationship=contact_fields[1],
                           phone=contact_fields[2], email=contact_fields[3])
                   if any(contact_fields) else None)
        identifiers = tuple(i for i in (r.identifier() for r in self._identifier_rows) if i)
        previous = tuple(p for p in (r.previous_name() for r in self._previous_rows) if p)
        return PatientDraft(
            given_name=text(self.given_name), family_name=text(self.family_name),
            # Submitted as typed: the service reads it and says why if it cannot.
            birth_date=text(self.birth_date.edit) or None, sex=str(self.sex.currentData() or ""),
            middle_name=text(self.middle_name), preferred_name=text(self.preferred_name),
            gender_identity=text(self.gender_identity), phone=text(self.phone),
            email=text(self.email), address_line1=text(self.address_line1),
            address_line2=text(self.address_line2), city=text(self.city),
            region=text(self.region), postal_code=text(self.postal_code),
            country=text(self.country), language=text(self.language),
            identifiers=identifiers, emergency_contact=contact, previous_names=previous,
        )

    # ------------------------------------------------------------ for presenters

    def set_busy(self, busy: bool) -> None:
        """While a save runs: no second save, no conflict choices."""
        self._busy = busy
        self.save_button.setEnabled(not busy)
        self.changed_bar.set_busy(busy)
        if busy:
            self.save_button.setText("Saving…")
        else:
            self.save_button.setText("Register patient" if self.record is None
                                     else "Save changes")

    def set_clinic_locale(self, clinic: ClinicLocale) -> None:
        """How the clinic reads a date like 12.03.1984: the date of birth is echoed so."""
        self.birth_date.set_day_first(clinic.day_first)
        order = "day first (12.03.1984 is 12 March)" if clinic.day_first else \
            "month first (03.12.1984 is 12 March)"
        self.birth_date.edit.setToolTip(
            f"Write the date like 24 Jun 1984 or 1984-06-24; numbers are read {order}, "
            "as this clinic writes dates")

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each field's problem next to the field, and all of them in the summary."""
        self.clear_errors()
        self.notice.hide()
        self._errors = dict(errors)
        self._show_errors(focus=True)

    def _show_errors(self, *, focus: bool) -> None:
        errors = self._errors
        if not errors:
            return
        by_label: dict[QLabel, list[str]] = {}
        lines: list[str] = []
        first: QWidget | None = None
        for key, reason in errors.items():
            field = self._field_for(key)
            label = self._label_for(key)
            sentence = field_sentence(label, reason)
            named = field_sentence(label, reason, named=True)
            if field is not None:
                by_label.setdefault(field.error, []).append(sentence)
                editor = self._editor_for(key) or field.editor
                _mark(editor, True)
                editor.setAccessibleDescription(named)
                first = first or editor
                lines.append(f'<a href="{html.escape(key)}" style="color:#7f1d1d">'
                             f"{html.escape(named)}</a>")
            else:
                lines.append(html.escape(named))
        if "birth_date" in errors:
            self.birth_date.clear_echo()  # the error below the field says it
        for error_label, sentences in by_label.items():
            error_label.setText(ERROR_MARK + " ".join(sentences))
            error_label.show()
        n = len(errors)
        heading = ("Please correct this before saving:" if n == 1 else
                   f"Please correct these {n} things before saving:")
        self.summary_text.setText(f"<b>{heading}</b><ul style='margin-left:-20px'>"
                                  + "".join(f"<li>{line}</li>" for line in lines) + "</ul>")
        self.summary.show()
        if not focus:
            return  # the user is typing somewhere: neither the view nor the focus moves
        self.scroll_area.ensureVisible(0, 0)
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
            self.scroll_area.ensureWidgetVisible(first)

    def show_failure(self, sentence: str) -> None:
        """A save failed for a reason that is not one field's (a store is down...)."""
        self.clear_errors()
        self.summary_text.setText(f"<b>{ERROR_MARK}Not saved.</b> {html.escape(sentence)} "
                                  "What you typed is still here; try again in a moment.")
        self.summary.show()

    def show_changed_elsewhere(self, who: str, at: str, fields: str, *,
                               not_saved: bool = False) -> None:
        """Another workstation saved this patient since the form was opened: who, when,
        which fields; the bar offers their changes. ``not_saved``: a save just met it."""
        if not_saved:
            self.clear_errors()
        self.notice.hide()
        self.changed_bar.show_change(who, at, fields, not_saved=not_saved)

    def hide_changed_elsewhere(self) -> None:
        self.changed_bar.hide()

    def show_conflict(self, sentence: str) -> None:
        """A save met someone else's version and their changes cannot be shown (it could
        not be read): say so; nothing typed is lost."""
        self.clear_errors()
        self.notice.hide()
        self.summary_text.setText(f"<b>{ERROR_MARK}Not saved.</b> {html.escape(sentence)}")
        self.summary.show()

    def show_notice(self, sentence: str) -> None:
        self.notice.setText(sentence)
        self.notice.show()

    def clear_errors(self) -> None:
        self._errors = {}
        self._unmark()

    def _unmark(self) -> None:
        for field in self._fields.values():
            field.error.hide()
            field.error.setText("")
            _mark(field.editor, False)
        for row in self._rows():
            row.error.hide()
            row.error.setText("")
            for editor in row.editors().values():
                _mark(editor, False)
                editor.setAccessibleDescription("")
        for field in self._fields.values():
            field.editor.setAccessibleDescription("")
        _mark(self.birth_date.edit, False)
        self.birth_date.edit.setAccessibleDescription("")
        self.summary.hide()

    def field_error(self, key: str) -> str:
        """The error shown for ``key`` (for tests and accessibility checks)."""
        field = self._field_for(key)
        return field.error.text() if field is not None and field.error.isVisible() else ""

    def summary_plain_text(self) -> str:
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.summary_text.text())
        return doc.toPlainText() if self.summary.isVisible() else ""

    def is_dirty(self) -> bool:
        return self._dirty

    # ------------------------------------------------------------ slots

    @Slot()
    def on_save_button_clicked(self) -> None:
        if not self._busy:
            # Everything is checked by the service, which reports every field at once.
            self.save_requested.emit(self.draft())

    @Slot()
    def on_changed_bar_dismissed(self) -> None:
        self.changed_bar.hide()  # focus moves on to the next field, as Qt does

    @Slot(str)
    def on_summary_text_link_activated(self, key: str) -> None:
        field = self._field_for(key)
        editor = self._editor_for(key) or (field.editor if field is not None else None)
        if editor is not None:
            self.scroll_area.ensureWidgetVisible(editor)
            editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def reject(self) -> None:
        if self._dirty and not self._discard_confirmed:
            box = QMessageBox(QMessageBox.Icon.Question, "Discard changes?",
                              "Close the form and discard what you typed?",
                              QMessageBox.StandardButton.NoButton, self)
            discard = box.addButton("Discard changes", QMessageBox.ButtonRole.DestructiveRole)
            keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(keep)
            box.setEscapeButton(keep)
            box.buttonClicked.connect(
                lambda button: self._confirm_discard() if button is discard else None)
            self.discard_box = box
            box.open()
            return
        super().reject()

    def _confirm_discard(self) -> None:
        self._discard_confirmed = True
        self.reject()

    # ------------------------------------------------------------ internals

    def _on_changed(self, *_: Any) -> None:
        self._dirty = True

    def _field_edited(self, key: str) -> None:
        self._forget_errors(key)

    def _row_edited(self, row: _RepeatedRow) -> None:
        group = "identifiers" if row in self._identifier_rows else "previous_names"
        rows: list[Any] = (self._identifier_rows if group == "identifiers"
                           else self._previous_rows)
        if row in rows:
            self._forget_errors(f"{group}.{rows.index(row)}", also=(group,))

    def _forget_errors(self, prefix: str, also: tuple[str, ...] = ()) -> None:
        """The field (or row) was changed: its errors go, the others stay as they were."""
        gone = [k for k in self._errors
                if k == prefix or k.startswith(prefix + ".") or k in also]
        if not gone:
            return
        remaining = {k: v for k, v in self._errors.items() if k not in gone}
        self._unmark()
        self._errors = remaining
        self._show_errors(focus=False)

    def _rows(self) -> list[_RepeatedRow]:
        return [*self._identifier_rows, *self._previous_rows]

    def _row_for(self, key: str) -> tuple[_RepeatedRow, str] | None:
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] in ("identifiers", "previous_names") and \
                parts[1].isdigit():
            rows: list[Any] = (self._identifier_rows if parts[0] == "identifiers"
                               else self._previous_rows)
            index = int(parts[1])
            if index < len(rows):
                return rows[index], (parts[2] if len(parts) > 2 else "")
        return None

    def _field_for(self, key: str) -> _Field | None:
        if key in self._fields:
            return self._fields[key]
        found = self._row_for(key)
        if found is not None:
            row, attr = found
            editors = row.editors()
            editor = editors.get(attr) or next(iter(editors.values()))
            return _Field(self._label_for(key), editor, row.error)
        head = key.split(".")[0]
        return self._fields.get(head)

    def _editor_for(self, key: str) -> QWidget | None:
        if key == "birth_date":
            return self.birth_date.edit
        found = self._row_for(key)
        if found is not None:
            row, attr = found
            return row.editors().get(attr)
        return None

    def _label_for(self, key: str) -> str:
        if key in self._fields:
            return self._fields[key].label
        parts = key.split(".")
        if len(parts) >= 2 and parts[1].isdigit():
            n = int(parts[1]) + 1
            what = {"identifiers": "Identifier", "previous_names": "Previous name"}.get(
                parts[0], _pretty(parts[0]))
            attr = {"value": "number", "kind": "kind", "issuer": "issued by",
                    "given_name": "given name", "family_name": "family name"}.get(
                ".".join(parts[2:]), _pretty(".".join(parts[2:])).lower())
            return f"{what} {n}" + (f" {attr}" if attr else "")
        return _pretty(key)


# --------------------------------------------------------------------- duplicates

DUPLICATE_HEADERS = ("Name", "Date of birth", "Sex", "MRN", "Why it may be the same person")


def _birth_text(value: date | str) -> str:
    if isinstance(value, str):
        try:
            parsed = read_date(value)
        except DateFormatError:
            return value
        return format_date(parsed) if parsed else value
    return format_date(value)


class DuplicateCandidateModel(ReadOnlyTableModel):
    """The few existing patients a registration may duplicate (never paged)."""

    HEADERS = DUPLICATE_HEADERS

    def __init__(self, candidates: Sequence[DuplicateCandidate],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows = list(candidates)

    def candidate_at(self, row: int) -> DuplicateCandidate:
        return self._rows[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()  # noqa: B008
                 ) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)


    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        candidate = self._rows[index.row()]
        p = candidate.patient
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.AccessibleTextRole):
            return (p.display_name + (" — deceased" if p.deceased else ""),
                    format_date(p.birth_date), sex_label(p.sex), p.mrn,
                    "; ".join(r[:1].upper() + r[1:] for r in candidate.reasons)
                    )[index.column()]
        return None


class DuplicateWarningDialog(QDialog):
    """Shown before a registration is saved, when existing patients look the same.

    Signals:
        open_existing_requested(int): the user picked an existing patient instead.
        register_anyway_requested(): "it is someone else": register with duplicates allowed.
    """

    open_existing_requested = Signal(int)
    register_anyway_requested = Signal()

    def __init__(self, candidates: Sequence[DuplicateCandidate], draft: PatientDraft,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("duplicate-warning")
        self.setWindowTitle("Possible duplicate patient")
        n = len(candidates)
        who = f"{draft.given_name} {draft.family_name}".strip() or "this patient"
        born = f", born {_birth_text(draft.birth_date)}" if draft.birth_date else ""
        heading = QLabel(
            f"<b style='font-size:15px'>{'This person' if n == 1 else 'These people'} may "
            f"already be registered</b>", self)
        intro = QLabel(
            f"Before registering {html.escape(who)}{born}, check "
            f"{'this existing patient' if n == 1 else f'these {n} existing patients'}. "
            "Registering the same person twice splits their record in two.", self)
        intro.setWordWrap(True)

        self.model = DuplicateCandidateModel(candidates, self)
        self.table = row_table(self, self.model, "duplicate-candidates",
                               "Existing patients who may be the same person", wrap=True)
        self.table.setStyleSheet("QTableView::item { padding: 4px 8px; }")
        header = self.table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self.on_table_double_clicked)
        if n:
            self.table.selectRow(0)

        self.open_button = QPushButton("Open existing patient", self)
        self.open_button.setObjectName("open-existing")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.on_open_button_clicked)
        self.register_button = QPushButton("Register as new patient", self)
        self.register_button.setObjectName("register-anyway")
        self.register_button.setAutoDefault(False)
        self.register_button.setToolTip("These are different people: register anyway")
        self.register_button.clicked.connect(self.on_register_button_clicked)
        self.back_button = QPushButton("Back to the form", self)
        self.back_button.setAutoDefault(False)
        self.back_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.register_button)
        buttons.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(760, 200 + 34 * min(max(n, 1), 8))
        self.table.setFocus()

    def selected_patient_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.candidate_at(rows[0].row()).patient.id

    @Slot()
    def on_open_button_clicked(self) -> None:
        patient_id = self.selected_patient_id()
        if patient_id is not None:
            self.accept()
            self.open_existing_requested.emit(patient_id)

    @Slot()
    def on_register_button_clicked(self) -> None:
        self.accept()
        self.register_anyway_requested.emit()

    @Slot(QModelIndex)
    def on_table_double_clicked(self, index: QModelIndex) -> None:
        self.table.selectRow(index.row())
        self.on_open_button_clicked()

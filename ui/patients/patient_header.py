"""The patient header: who this is, at a glance, above everything a chart will show.

Name, age, sex, date of birth, MRN, a deceased badge and the alerts. Everything that
matters is written in words; colour only repeats it.
"""

from __future__ import annotations

import html
import re
from datetime import date

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import PatientRecord
from ui.patients.formatting import (
    age_text,
    alert_text,
    format_date,
    sex_label,
    sorted_alerts,
)

NO_PATIENT = ("No patient is open. Find one in the list, then press Enter or "
              "double-click to open; or press Ctrl+N to register a new patient.")

STYLE = """
QFrame#patient-header { background: #f7f9fa; border: 1px solid #cfd8dc; border-radius: 6px; }
QLabel#patient-name { font-size: 20px; font-weight: bold; color: #263238; }
QLabel#patient-facts { font-size: 13px; color: #37474f; }
QLabel#patient-header-message { color: #455a64; font-size: 14px; }
QLabel#deceased-badge { background: #37474f; color: white; font-weight: bold;
    border-radius: 4px; padding: 3px 8px; }
QLabel[chip="high"] { background: #fdecea; color: #8e1b13; border: 2px solid #c62828;
    border-radius: 4px; padding: 3px 8px; font-weight: bold; }
QLabel[chip="moderate"] { background: #fff8e1; color: #6d4c00; border: 1px solid #f9a825;
    border-radius: 4px; padding: 3px 8px; }
QLabel[chip="low"] { background: #eceff1; color: #37474f; border: 1px solid #b0bec5;
    border-radius: 4px; padding: 3px 8px; }
QLabel[chip="restricted"] { background: #ede7f6; color: #311b92; border: 1px solid #7e57c2;
    border-radius: 4px; padding: 3px 8px; font-weight: bold; }
QLabel#no-alerts { color: #546e7a; font-style: italic; }
"""


class FlowRow(QWidget):
    """Chips side by side, wrapping onto a new line when they do not fit."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._spacing = spacing
        self._items: list[QWidget] = []
        self._natural: dict[int, QSize] = {}

    def set_widgets(self, widgets: list[QWidget]) -> None:
        for w in self._items:
            w.setParent(None)  # type: ignore[call-overload]
            w.deleteLater()
        self._items = widgets
        self._natural = {}
        for w in widgets:
            w.setParent(self)
            w.ensurePolished()
            # Measured on one line; a chip wider than the row wraps its own text.
            self._natural[id(w)] = w.sizeHint()
            if isinstance(w, QLabel):
                w.setWordWrap(True)
            w.show()
        self._place(self.width())
        self.updateGeometry()

    def widgets(self) -> list[QWidget]:
        return list(self._items)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt API)
        return self._place(width, move=False)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(200, self._place(max(self.width(), 200), move=False))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(120, 0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._place(self.width())

    def _place(self, width: int, *, move: bool = True) -> int:
        """Lay the chips out in lines ``width`` wide; returns the height used. A chip wider
        than a whole line wraps its own text."""
        width = max(width, 1)
        x = y = line_height = 0
        for w in self._items:
            hint = self._natural.get(id(w)) or w.sizeHint()
            chip_width, chip_height = hint.width(), hint.height()
            if chip_width > width:
                chip_width = width
                if w.hasHeightForWidth():
                    chip_height = w.heightForWidth(width)
            if x > 0 and x + chip_width > width:
                x = 0
                y += line_height + self._spacing
                line_height = 0
            if move:
                w.setGeometry(x, y, chip_width, chip_height)
            x += chip_width + self._spacing
            line_height = max(line_height, chip_height)
        return y + line_height


class PatientHeaderView(QFrame):
    """Signals:
        edit_requested(int): the user wants to edit this patient's details.
        mark_deceased_requested(int): the user wants to record this patient's death.
        restrict_requested(int, bool): the user wants this record restricted (True) or the
            restriction lifted (False).
        chart_requested(int): the user wants this patient's chart (a tab of its own).

    Every signal carries the id of the record the header shows; while another patient is
    being opened the buttons wait, so none acts on a patient who is about to be replaced.
    """

    edit_requested = Signal(int)
    mark_deceased_requested = Signal(int)
    restrict_requested = Signal(int, bool)
    chart_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patient-header")
        self.setStyleSheet(STYLE)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.record: PatientRecord | None = None

        self.message = QLabel(NO_PATIENT, self)
        self.message.setObjectName("patient-header-message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)

        self.name = QLabel(self)
        self.name.setObjectName("patient-name")
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.deceased_badge = QLabel(self)
        self.deceased_badge.setObjectName("deceased-badge")
        self.deceased_badge.setTextFormat(Qt.TextFormat.PlainText)
        self.deceased_badge.hide()
        self.facts = QLabel(self)
        self.facts.setObjectName("patient-facts")
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.alerts = FlowRow(self)
        self.alerts.setObjectName("patient-alerts")
        self.alerts.setAccessibleName("Alerts")

        self.chart_button = QPushButton("Open chart", self)
        self.chart_button.setObjectName("open-chart")
        self.chart_button.setToolTip("This patient's chart, in a tab of its own (Enter in "
                                     "the list opens it too)")
        self.chart_button.clicked.connect(self.on_chart_button_clicked)
        self.chart_button.hide()
        self.edit_button = QPushButton("Edit details…", self)
        self.edit_button.setObjectName("edit-patient")
        self.edit_button.clicked.connect(self.on_edit_button_clicked)
        self.deceased_button = QPushButton("Record death…", self)
        self.deceased_button.setObjectName("mark-deceased")
        self.deceased_button.clicked.connect(self.on_deceased_button_clicked)
        self.restrict_button = QPushButton("Restrict record…", self)
        self.restrict_button.setObjectName("restrict-record")
        self.restrict_button.setToolTip("A restricted chart opens without a reason only for the "
                                        "clinicians who see this patient.")
        self.restrict_button.clicked.connect(self.on_restrict_button_clicked)
        self.restrict_button.hide()
        self._can_restrict = False

        name_row = QHBoxLayout()
        name_row.setSpacing(10)
        name_row.addWidget(self.name, 1)
        name_row.addWidget(self.deceased_badge, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.chart_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.deceased_button)
        buttons.addWidget(self.restrict_button)

        self.details = QWidget(self)
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.setSpacing(6)
        details.addLayout(name_row)
        details.addWidget(self.facts)
        details.addWidget(self.alerts)
        details.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.message)
        layout.addWidget(self.details)
        self.clear()

    # ------------------------------------------------------------- for presenters

    def clear(self, message: str = NO_PATIENT) -> None:
        self.record = None
        self.message.setText(message)
        self.message.show()
        self.details.hide()

    def show_loading(self) -> None:
        self.message.setText("Opening the patient…")
        self.message.show()
        self._set_actions_enabled(False)

    def show_message(self, sentence: str) -> None:
        """A problem opening a patient; what was shown before stays (and acts again)."""
        self.message.setText("⚠ " + sentence)
        self.message.show()
        self._set_actions_enabled(self.record is not None)

    def _set_actions_enabled(self, enabled: bool) -> None:
        for button in (self.chart_button, self.edit_button, self.restrict_button):
            button.setEnabled(enabled)
        record = self.record
        self.deceased_button.setEnabled(enabled and record is not None
                                        and record.deceased_at is None)

    def show_patient(self, record: PatientRecord, today: date) -> None:
        self.record = record
        draft = record.draft
        self.message.hide()
        name = f"{draft.family_name}, {draft.given_name}"
        if draft.middle_name:
            name += f" {draft.middle_name}"
        if draft.preferred_name and draft.preferred_name != draft.given_name:
            name += f" “{draft.preferred_name}”"
        self.name.setText(name)
        self.setAccessibleName(f"Patient {name}")

        facts: list[str] = []
        if draft.birth_date is not None:
            age = age_text(draft.birth_date, record.deceased_at or today)
            facts.append(f"<b>{age}</b>" + (" at death" if record.deceased_at else ""))
        facts.append(f"<b>{html.escape(sex_label(draft.sex))}</b>")
        if draft.birth_date is not None:
            facts.append(f"Born {format_date(draft.birth_date)}")
        else:
            facts.append("Date of birth not recorded")
        facts.append(f"MRN <b>{html.escape(record.mrn)}</b>")
        # Each fact stays on one line ("MRN M1000013" never splits); lines break between them.
        self.facts.setText(" &nbsp;· ".join(f.replace(" ", "&nbsp;") for f in facts))
        self.facts.setAccessibleName(
            html.unescape(re.sub(r"<[^>]+>", "", ", ".join(facts))))

        if record.deceased_at is not None:
            self.deceased_badge.setText(f"DECEASED {format_date(record.deceased_at)}")
            self.deceased_badge.setAccessibleName(
                f"Deceased on {format_date(record.deceased_at, long=True)}")
            self.deceased_badge.show()
        else:
            self.deceased_badge.hide()
        self._set_actions_enabled(True)
        self.chart_button.setVisible(record.clinical)
        self.restrict_button.setText("Lift restriction…" if record.restricted
                                     else "Restrict record…")
        self.restrict_button.setVisible(self._can_restrict)
        self._show_alerts(record)
        self.details.show()

    def set_can_restrict(self, allowed: bool) -> None:
        """Only roles that may restrict records see the button (the service checks too)."""
        self._can_restrict = allowed
        self.restrict_button.setVisible(allowed and self.record is not None)

    def chip_texts(self) -> list[str]:
        return [w.text() for w in self.alerts.widgets() if isinstance(w, QLabel)]

    # ------------------------------------------------------------------ slots

    @Slot()
    def on_edit_button_clicked(self) -> None:
        if self.record is not None:
            self.edit_requested.emit(self.record.id)

    @Slot()
    def on_chart_button_clicked(self) -> None:
        if self.record is not None:
            self.chart_requested.emit(self.record.id)

    @Slot()
    def on_restrict_button_clicked(self) -> None:
        if self.record is not None:
            self.restrict_requested.emit(self.record.id, not self.record.restricted)

    @Slot()
    def on_deceased_button_clicked(self) -> None:
        if self.record is not None:
            self.mark_deceased_requested.emit(self.record.id)

    # -------------------------------------------------------------- internals

    def _show_alerts(self, record: PatientRecord) -> None:
        chips: list[QWidget] = []
        if record.restricted:
            restricted = QLabel("Restricted record")
            restricted.setObjectName("restricted-record")
            restricted.setProperty("chip", "restricted")
            restricted.setToolTip("Opening this chart outside the patient's care team needs a "
                                  "reason, which is audited.")
            chips.append(restricted)
        if not record.clinical:
            # Withheld for this role, which is not the same as "none recorded".
            hidden = QLabel("Alerts are not shown for your role")
            hidden.setObjectName("no-alerts")
            self.alerts.set_widgets([*chips, hidden])
            return
        for alert in sorted_alerts(record.alerts):
            text = alert_text(alert)
            mark = "⚠ " if alert.severity == "high" else ""
            chip = QLabel(mark + text)
            chip.setTextFormat(Qt.TextFormat.PlainText)
            chip.setProperty("chip", alert.severity if alert.severity in
                             ("high", "moderate") else "low")
            chip.setAccessibleName(f"{alert.severity} severity alert: {text}")
            chip.setToolTip(text)
            chips.append(chip)
        if not record.alerts:
            # Not "no known allergies": that is a clinical statement someone has to make.
            none = QLabel("No alerts recorded")
            none.setObjectName("no-alerts")
            chips.append(none)
        self.alerts.set_widgets(chips)

"""The chart's header: always visible above the sections, and the first thing to load.

Name, age, sex, date of birth, MRN; allergies as red chips, most severe first; active
alerts; today's appointment and the open encounter. Everything wraps (nothing is cut) at
700 px. Until the allergies have been read the header says so: "No known allergies" is
shown only for a list that was read and is empty.
"""

from __future__ import annotations

import html
import re
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from backend_client.chart.dto import AlertItem, ChartHeader
from backend_client.dto import PatientRecord
from ui.patients.formatting import age_text, format_date, sex_label
from ui.patients.patient_header import FlowRow

SEVERITY_ORDER = {"high": 0, "moderate": 1, "low": 2}

STYLE = """
QFrame#chart-header { background: #f7f9fa; border: 1px solid #cfd8dc; border-radius: 6px; }
QLabel#chart-name { font-size: 19px; font-weight: bold; color: #263238; }
QLabel#chart-facts, QLabel#chart-today { font-size: 13px; color: #37474f; }
QLabel#chart-row-caption { font-weight: 600; color: #37474f; }
QLabel#chart-header-message { color: #455a64; }
QLabel#chart-deceased { background: #37474f; color: white; font-weight: bold;
    border-radius: 4px; padding: 3px 8px; }
QLabel[chip="allergy"] { background: #fdecea; color: #8e1b13; border: 1px solid #c62828;
    border-radius: 4px; padding: 3px 8px; font-weight: bold; }
QLabel[chip="allergy-high"] { background: #c62828; color: white; border: 1px solid #8e1b13;
    border-radius: 4px; padding: 3px 8px; font-weight: bold; }
QLabel[chip="alert"] { background: #fff8e1; color: #6d4c00; border: 1px solid #f9a825;
    border-radius: 4px; padding: 3px 8px; }
QLabel[chip="none"] { color: #2e7d32; font-weight: 600; }
QLabel[chip="unknown"] { color: #546e7a; font-style: italic; }
"""


def _sorted(items: tuple[AlertItem, ...]) -> list[AlertItem]:
    return sorted(items, key=lambda a: (SEVERITY_ORDER.get(a.draft.severity, 3),
                                        a.draft.description.casefold()))


def alert_chip_text(item: AlertItem) -> str:
    """"⚠ Penicillin — anaphylaxis (high)": the severity in words, colour only repeats it."""
    d = item.draft
    text = d.description + (f" — {d.reaction}" if d.reaction else "")
    return ("⚠ " if d.severity == "high" else "") + f"{text} ({d.severity})"


class ChartHeaderView(QFrame):
    """Who the chart is about, what must never be missed, and what is happening today."""

    def __init__(self, record: PatientRecord, today: date,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chart-header")
        self.setStyleSheet(STYLE)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.patient_id = record.id
        self.header: ChartHeader | None = None

        self.name = self._label("chart-name")
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.deceased = self._label("chart-deceased")
        self.deceased.setWordWrap(False)
        self.deceased.hide()
        self.facts = self._label("chart-facts", rich=True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.allergies = FlowRow(self)
        self.allergies.setObjectName("chart-allergies")
        self.allergies.setAccessibleName("Allergies")
        self.alerts = FlowRow(self)
        self.alerts.setObjectName("chart-alerts")
        self.alerts.setAccessibleName("Alerts")
        self.today_line = self._label("chart-today", rich=True)
        self.message = self._label("chart-header-message")
        self.message.hide()

        name_row = QHBoxLayout()
        name_row.setSpacing(10)
        name_row.addWidget(self.name, 1)
        name_row.addWidget(self.deceased, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(6)
        layout.addLayout(name_row)
        layout.addWidget(self.facts)
        layout.addLayout(self._row("Allergies", self.allergies))
        layout.addLayout(self._row("Alerts", self.alerts))
        layout.addWidget(self.today_line)
        layout.addWidget(self.message)
        self.show_record(record, today)
        self._set_chips(self.allergies, [self._note("Allergies are being read…", "unknown")])
        self._set_chips(self.alerts, [self._note("Alerts are being read…", "unknown")])
        self.today_line.hide()

    # ------------------------------------------------------------- building

    def _label(self, name: str, *, rich: bool = False) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        return label

    def _row(self, caption: str, flow: FlowRow) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        label = QLabel(caption + ":", self)
        label.setObjectName("chart-row-caption")
        label.setMinimumWidth(label.sizeHint().width())
        row.addWidget(label, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(flow, 1)
        return row

    @staticmethod
    def _note(text: str, kind: str) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setProperty("chip", kind)
        return label

    @staticmethod
    def _set_chips(flow: FlowRow, widgets: list[QWidget]) -> None:
        flow.set_widgets(widgets)

    # ------------------------------------------------------------- for presenters

    def show_record(self, record: PatientRecord, today: date) -> None:
        d = record.draft
        name = f"{d.family_name}, {d.given_name}" + (f" {d.middle_name}" if d.middle_name
                                                     else "")
        self.name.setText(name)
        self.setAccessibleName(f"Chart of {name}")
        facts: list[str] = []
        born = d.birth_date if isinstance(d.birth_date, date) else None
        if born is not None:
            age = age_text(born, record.deceased_at or today)
            facts.append(f"<b>{age}</b>" + (" at death" if record.deceased_at else ""))
        facts.append(f"<b>{html.escape(sex_label(d.sex))}</b>")
        facts.append(f"Born {format_date(born)}" if born else "Date of birth not recorded")
        facts.append(f"MRN <b>{html.escape(record.mrn)}</b>")
        # Each fact on one line; lines break between them.
        self.facts.setText(" &nbsp;· ".join(f.replace(" ", "&nbsp;") for f in facts))
        self.facts.setAccessibleName(
            html.unescape(re.sub(r"<[^>]+>", "", ", ".join(facts))))
        if record.deceased_at is not None:
            self.deceased.setText(f"DECEASED {format_date(record.deceased_at)}")
            self.deceased.show()
        else:
            self.deceased.hide()

    def show_header(self, header: ChartHeader, today: date) -> None:
        self.header = header
        self.message.hide()
        self.show_record(header.patient, today)
        allergies: list[QWidget] = []
        for item in _sorted(header.allergies):
            chip = self._note(alert_chip_text(item), "allergy-high"
                              if item.draft.severity == "high" else "allergy")
            chip.setAccessibleName(f"Allergy, {item.draft.severity} severity: "
                                   f"{item.draft.description}")
            chip.setToolTip(f"Recorded by {item.stamp.recorded_by}")
            allergies.append(chip)
        if not allergies:
            allergies.append(self._note("No known allergies", "none"))
        self._set_chips(self.allergies, allergies)
        alerts: list[QWidget] = []
        for item in _sorted(header.alerts):
            chip = self._note(alert_chip_text(item), "alert")
            chip.setAccessibleName(f"{item.draft.kind.capitalize()} alert, "
                                   f"{item.draft.severity} severity: {item.draft.description}")
            alerts.append(chip)
        if not alerts:
            alerts.append(self._note("No active alerts", "unknown"))
        self._set_chips(self.alerts, alerts)
        self._show_today(header)

    def _show_today(self, header: ChartHeader) -> None:
        parts: list[str] = []
        appt = header.appointment_today
        if appt is not None:
            when = appt.starts_at.astimezone().strftime("%H:%M")
            what = html.escape(appt.type_name or "Appointment")
            parts.append(f"Today&nbsp;<b>{when}</b> {what} ({html.escape(appt.status_label)})")
        enc = header.open_encounter
        if enc is not None:
            since = enc.started_at.astimezone().strftime("%H:%M")
            reason = html.escape(enc.reason) if enc.reason else "no reason given"
            parts.append(f"Open encounter since&nbsp;<b>{since}</b> with "
                         f"{html.escape(enc.provider_name)}: {reason}")
        if not parts:
            parts.append("No appointment today; no open encounter")
        self.today_line.setText(" &nbsp;· ".join(parts))
        self.today_line.show()

    def show_message(self, sentence: str) -> None:
        """Why the header could not be read (the last one shown stays)."""
        self.message.setText("⚠ " + sentence)
        self.message.show()
        if self.header is None:
            for flow, what in ((self.allergies, "Allergies"), (self.alerts, "Alerts")):
                self._set_chips(flow, [self._note(f"{what} could not be read", "unknown")])

    def chip_texts(self, flow: FlowRow) -> list[str]:
        return [w.text() for w in flow.widgets() if isinstance(w, QLabel)]

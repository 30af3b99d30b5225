"""Admin > Break-the-glass report: every restricted chart opened with a reason, newest
first — who, when, at which workstation, whose chart (name and MRN when the reader's role
may read patient records; otherwise it says so, with the record number only), and the
reason they gave."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import BreakGlassEntry
from ui.patients.patient_table_model import Index, ReadOnlyTableModel, row_table

PATIENT = 3
WITHHELD = "Not shown to your role (record {id})"
WITHHELD_TIP = ("Your role does not include patient records, so this report does not show "
                "the patient's name or MRN. Someone who may read patient records (a "
                "privacy officer, the clinic's manager) can look up record {id}.")
PERIODS = ((7, "Last 7 days"), (30, "Last 30 days"), (90, "Last 90 days"), (365, "Last year"))


class BreakGlassTableModel(ReadOnlyTableModel):
    HEADERS = ("When", "Who", "Workstation", "Patient", "Reason")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[BreakGlassEntry] = []

    def set_entries(self, entries: Sequence[BreakGlassEntry]) -> None:
        self.beginResetModel()
        self._rows = list(entries)
        self.endResetModel()

    def entry_at(self, row: int) -> BreakGlassEntry:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        e = self._rows[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == PATIENT:
            return patient_tooltip(e)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (e.occurred_at.astimezone().strftime("%d %b %Y %H:%M"),
                    e.user_name or ("-" if e.user_id is None else f"user {e.user_id}"),
                    e.workstation or "-", patient_text(e), e.reason)[index.column()]
        return None


def patient_text(e: BreakGlassEntry) -> str:
    """"Family, Given (MRN …)", or an honest word that the reader may not see it."""
    if e.patient_name is None:
        return WITHHELD.format(id=e.patient_id)
    return f"{e.patient_name} (MRN {e.patient_mrn})" if e.patient_mrn else e.patient_name


def patient_tooltip(e: BreakGlassEntry) -> str:
    if e.patient_name is None:
        return WITHHELD_TIP.format(id=e.patient_id)
    return f"{patient_text(e)}; record {e.patient_id}"


class BreakGlassReportDialog(QDialog):
    """Signals:
        refresh_requested(int): show the entries of the last so many days.
    """

    refresh_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Break-the-glass report")
        self.resize(900, 440)
        intro = QLabel("Restricted charts opened by someone outside the patient's care team, "
                       "with the reason they gave. Review each one.", self)
        intro.setWordWrap(True)
        self.period = QComboBox(self)
        for days, label in PERIODS:
            self.period.addItem(label, days)
        self.period.setCurrentIndex(1)
        self.period.currentIndexChanged.connect(self.on_period_current_index_changed)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("report-error")
        self.error_label.setStyleSheet("color: #8e1b13;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.model = BreakGlassTableModel(self)
        self.table = row_table(self, self.model, "break-glass-table",
                               "Charts opened by breaking the glass", wrap=True)
        header = self.table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.on_refresh_button_clicked)
        close = QPushButton("Close", self)
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(intro, 1)
        top.addWidget(self.period)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)

    def days(self) -> int:
        return int(self.period.currentData())

    def show_entries(self, entries: Sequence[BreakGlassEntry]) -> None:
        self.error_label.hide()
        self.model.set_entries(entries)
        n = len(entries)
        label = self.period.currentText().lower()
        text = (f"{n} chart{'s' if n != 1 else ''} opened by breaking the glass, {label}."
                if n else f"No chart was opened by breaking the glass, {label}.")
        if any(e.patient_name is None for e in entries):
            text += (" Patients' names and MRNs are not shown to your role (it does not "
                     "include patient records).")
        self.summary.setText(text)

    def show_error(self, sentence: str) -> None:
        self.error_label.setText(sentence)
        self.error_label.setVisible(bool(sentence))

    def set_busy(self, busy: bool) -> None:
        self.refresh_button.setEnabled(not busy)
        self.period.setEnabled(not busy)

    @Slot()
    def on_refresh_button_clicked(self) -> None:
        self.refresh_requested.emit(self.days())

    @Slot(int)
    def on_period_current_index_changed(self, _index: int) -> None:
        self.refresh_requested.emit(self.days())

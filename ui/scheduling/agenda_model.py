"""The agenda: appointments as a list (time, patient, provider, type, status, reason)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor

from backend_client.dto import AppointmentInfo
from ui.patients.formatting import MONTHS
from ui.patients.patient_table_model import Index, ReadOnlyTableModel

TIME, PATIENT, PROVIDER, TYPE, STATUS, REASON = range(6)
HEADERS = ("Time", "Patient", "Provider", "Type", "Status", "Reason")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

APPOINTMENT_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's :class:`AppointmentInfo`."""

STATUS_COLOURS = {"checked_in": "#2e7d32", "in_progress": "#1565c0", "completed": "#546e7a",
                  "no_show": "#c62828", "cancelled": "#757575"}


class AgendaModel(ReadOnlyTableModel):
    """Read-only rows over ``AppointmentInfo``; times in the workstation's zone."""

    HEADERS = HEADERS

    def __init__(self, parent: QObject | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self._rows: list[AppointmentInfo] = []
        self._providers: dict[int, str] = {}
        self._zone = zone

    def set_rows(self, rows: Sequence[AppointmentInfo], providers: dict[int, str]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._providers = dict(providers)
        self.endResetModel()

    def appointment_at(self, row: int) -> AppointmentInfo:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        appt = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(appt, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(appt)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS \
                and appt.status in STATUS_COLOURS:
            return QBrush(QColor(STATUS_COLOURS[appt.status]))
        if role == Qt.ItemDataRole.ForegroundRole and appt.status == "cancelled":
            return QBrush(QColor("#757575"))
        if role == Qt.ItemDataRole.DecorationRole and index.column() == TYPE:
            return QColor(appt.colour) if QColor.isValidColorName(appt.colour) else None
        if role == APPOINTMENT_ROLE:
            return appt
        return None

    def _local(self, appt: AppointmentInfo) -> tuple[Any, Any]:
        if self._zone is not None:
            return appt.starts_at.astimezone(self._zone), appt.ends_at.astimezone(self._zone)
        return appt.starts_at.astimezone(), appt.ends_at.astimezone()

    def _text(self, appt: AppointmentInfo, column: int) -> str:
        if column == TIME:
            start, end = self._local(appt)
            return (f"{WEEKDAYS[start.weekday()]} {start.day} {MONTHS[start.month - 1]} "
                    f"{start:%H:%M}–{end:%H:%M}")
        if column == PATIENT:
            return appt.patient_name
        if column == PROVIDER:
            return self._providers.get(appt.provider_id, f"Provider {appt.provider_id}")
        if column == TYPE:
            return ("↻ " if appt.series_id else "") + (appt.type_name or "Appointment")
        if column == STATUS:
            return appt.status_label
        if column == REASON:
            return appt.cancel_reason if appt.status == "cancelled" and appt.cancel_reason \
                else appt.reason
        return ""

    def _tooltip(self, appt: AppointmentInfo) -> str:
        lines = [f"{appt.patient_name} ({appt.patient_mrn})" if appt.patient_mrn
                 else appt.patient_name, f"{self._text(appt, TIME)} with "
                 f"{self._text(appt, PROVIDER)}", f"{self._text(appt, TYPE)} · "
                 f"{appt.status_label}"]
        if appt.reason:
            lines.append(f"Reason: {appt.reason}")
        if appt.cancel_reason:
            lines.append(f"Cancelled: {appt.cancel_reason}")
        lines.append("Enter or double-click to open")
        return "\n".join(lines)

"""Search results as a lazy table: rows arrive a page at a time from a background task.

The model does no I/O. When the view scrolls near the end, Qt calls ``fetchMore``; the
model only emits ``more_requested`` and waits for the presenter to ``append_page``.

A patient with an appointment today says so at the start of the name cell ("Today 09:40 ·
Müller, Anna", in the workstation's time): the desk sees who is expected without another
column taking width from every name at 700 px, and where a long name must be cut short it
is the end of the name, never the time. Search has already put them first among equals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from backend_client.dto import PatientSummary
from ui.patients.formatting import age_text, format_date, sex_label

NAME, BIRTH_DATE, SEX, MRN, PHONE = range(5)
HEADERS = ("Name", "Date of birth (age)", "Sex", "MRN", "Phone")

PATIENT_ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's patient id (int)."""
PATIENT_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's :class:`PatientSummary`."""
APPOINTMENT_TODAY_ROLE = Qt.ItemDataRole.UserRole + 3
"""The row's appointment today as ``HH:MM`` local time, or ``""`` (str)."""

DECEASED_COLOUR = QColor("#616161")

Index = QModelIndex | QPersistentModelIndex


def row_table(parent: QWidget, model: QAbstractTableModel, name: str, accessible_name: str, *,
              wrap: bool) -> QTableView:
    """A read-only table whose unit is the row: one row selected at a time, no editing,
    Tab leaves the table, no grid or row numbers."""
    table = QTableView(parent)
    table.setObjectName(name)
    table.setModel(model)
    table.setAccessibleName(accessible_name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)
    table.setWordWrap(wrap)
    table.setShowGrid(False)
    table.verticalHeader().hide()
    return table


class ReadOnlyTableModel(QAbstractTableModel):
    """A flat, read-only table with fixed column headers (``HEADERS`` in subclasses)."""

    HEADERS: tuple[str, ...] = ()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None


class PatientTableModel(ReadOnlyTableModel):
    """Signals:
        more_requested(): the view wants the next page; answer with :meth:`append_page`.
    """

    HEADERS = HEADERS

    more_requested = Signal()

    def __init__(self, parent: QObject | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self._rows: list[PatientSummary] = []
        self._has_more = False
        self._waiting = False
        self._today = today

    # ----------------------------------------------------------------- filling

    def set_rows(self, rows: Sequence[PatientSummary], has_more: bool) -> None:
        """Replace everything: the first page of a new query."""
        self.beginResetModel()
        self._rows = list(rows)
        self._has_more = has_more
        self._waiting = False
        self.endResetModel()

    def append_page(self, rows: Sequence[PatientSummary], has_more: bool) -> None:
        """Add the next page below the rows already shown."""
        known = {r.id for r in self._rows}
        # A patient registered between two page requests shifts the offsets; never show
        # the same person twice.
        fresh = [r for r in rows if r.id not in known]
        self._waiting = False
        self._has_more = has_more
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()

    def stop_fetching(self) -> None:
        """No more pages (the last request failed): stop asking until the next query."""
        self._has_more = False
        self._waiting = False

    @property
    def has_more(self) -> bool:
        return self._has_more

    def rows(self) -> list[PatientSummary]:
        return list(self._rows)

    def patient_at(self, row: int) -> PatientSummary:
        return self._rows[row]

    def row_of(self, patient_id: int) -> int:
        for row, patient in enumerate(self._rows):
            if patient.id == patient_id:
                return row
        return -1

    # -------------------------------------------------------- QAbstractItemModel

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)


    def canFetchMore(self, parent: Index) -> bool:  # noqa: N802
        return not parent.isValid() and self._has_more and not self._waiting

    def fetchMore(self, parent: Index) -> None:  # noqa: N802
        if self.canFetchMore(parent):
            self._waiting = True
            self.more_requested.emit()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        patient = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(patient, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(patient)
        if role == Qt.ItemDataRole.ForegroundRole and patient.deceased:
            return QBrush(DECEASED_COLOUR)
        if role == APPOINTMENT_TODAY_ROLE:
            return appointment_time(patient.appointment_today)
        if role == PATIENT_ID_ROLE:
            return patient.id
        if role == PATIENT_ROLE:
            return patient
        return None

    def _text(self, patient: PatientSummary, column: int) -> str:
        if column == NAME:
            text = patient.display_name + (" — deceased" if patient.deceased else "")
            if patient.appointment_today:
                return f"Today {appointment_time(patient.appointment_today)} · {text}"
            return text
        if column == BIRTH_DATE:
            born = format_date(patient.birth_date)
            # A summary has no date of death, so a deceased patient's age is not shown.
            age = "" if patient.deceased else age_text(patient.birth_date, self._today())
            return f"{born} ({age})" if age else born
        if column == SEX:
            return sex_label(patient.sex)
        if column == MRN:
            return patient.mrn
        if column == PHONE:
            return patient.phone
        return ""

    def _tooltip(self, patient: PatientSummary) -> str:
        # The columns a narrow list hides (sex, phone) are said here too.
        lines = [patient.display_name,
                 f"{sex_label(patient.sex)}, born {format_date(patient.birth_date)}",
                 f"MRN {patient.mrn}" + (f" · phone {patient.phone}" if patient.phone else "")]
        if patient.deceased:
            lines.append("Deceased")
        if patient.appointment_today:
            lines.append(f"Appointment today at {appointment_time(patient.appointment_today)}")
        if patient.matched_on:
            lines.append(f"Matched on {patient.matched_on}")
        lines.append("Press Enter or double-click to open")
        return "\n".join(lines)


def appointment_time(at: datetime | None) -> str:
    """``HH:MM`` on the workstation's clock (the database sends an aware UTC time)."""
    return at.astimezone().strftime("%H:%M") if at else ""

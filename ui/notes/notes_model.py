"""Table models for the Notes section: the patient's notes, and search hits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from backend_client.notes.dto import NoteHit, NoteSummary

NOTE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_TEXT = {"draft": "Draft", "signed": "Signed", "amended": "Signed, with addendum",
               "entered_in_error": "Entered in error"}
KIND_TEXT = {"note": "Note", "letter": "Letter"}

Index = QModelIndex | QPersistentModelIndex


def when(moment: datetime | None) -> str:
    """A stored time on this workstation's clock face: "27 Nov 2026 10:42"."""
    return "" if moment is None else moment.astimezone().strftime("%d %b %Y %H:%M")


def status_text(summary: NoteSummary) -> str:
    text = STATUS_TEXT.get(summary.status, summary.status)
    if summary.cosign_required and not summary.cosigned_by:
        text += " (awaiting co-signature)"
    return text


class NotesTableModel(QAbstractTableModel):
    HEADERS = ("Title", "Type", "Status", "Author", "Updated", "Signed")

    def __init__(self) -> None:
        super().__init__()
        self.rows: tuple[NoteSummary, ...] = ()

    def set_rows(self, rows: tuple[NoteSummary, ...]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        s = self.rows[index.row()]
        if role == NOTE_ID_ROLE:
            return s.id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            signed = (f"{s.signed_by}, {when(s.signed_at)}" if s.signed_at else "")
            return (s.title, KIND_TEXT.get(s.kind, s.kind), status_text(s), s.author,
                    when(s.updated_at), signed)[index.column()]
        return None


class HitsTableModel(QAbstractTableModel):
    HEADERS = ("Title", "Status", "Saved", "Found")

    def __init__(self) -> None:
        super().__init__()
        self.rows: tuple[NoteHit, ...] = ()

    def set_rows(self, rows: tuple[NoteHit, ...]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        h = self.rows[index.row()]
        if role == NOTE_ID_ROLE:
            return h.note_id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (h.title, STATUS_TEXT.get(h.status, h.status), when(h.saved_at),
                    "…" + " ".join(h.snippet.split()) + "…")[index.column()]
        return None

"""Table models for the Notes section: the patient's notes, and search hits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from backend_client.notes.dto import NoteHit, NoteSummary
from ui.patients.patient_table_model import ReadOnlyTableModel

NOTE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_TEXT = {"draft": "Draft", "signed": "Signed", "amended": "Signed, with addendum",
               "entered_in_error": "Entered in error"}
KIND_TEXT = {"note": "Note", "letter": "Letter"}

Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R")


def when(moment: datetime | None) -> str:
    """A stored time on this workstation's clock face: "27 Nov 2026 10:42"."""
    return "" if moment is None else moment.astimezone().strftime("%d %b %Y %H:%M")


def status_text(summary: NoteSummary) -> str:
    text = STATUS_TEXT.get(summary.status, summary.status)
    if summary.cosign_required and not summary.cosigned_by:
        text += " (awaiting co-signature)"
    return text


class _RowsModel(ReadOnlyTableModel, Generic[R]):
    """Rows of one DTO kind; a subclass names the note a row is about and its cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: tuple[R, ...] = ()

    def set_rows(self, rows: tuple[R, ...]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == NOTE_ID_ROLE:
            return self._note_id(row)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._cells(row)[index.column()]
        return None

    def _note_id(self, row: R) -> str:
        raise NotImplementedError

    def _cells(self, row: R) -> tuple[str, ...]:
        raise NotImplementedError


class NotesTableModel(_RowsModel[NoteSummary]):
    HEADERS = ("Title", "Type", "Status", "Author", "Updated", "Signed")

    def _note_id(self, row: NoteSummary) -> str:
        return row.id

    def _cells(self, row: NoteSummary) -> tuple[str, ...]:
        signed = f"{row.signed_by}, {when(row.signed_at)}" if row.signed_at else ""
        return (row.title, KIND_TEXT.get(row.kind, row.kind), status_text(row), row.author,
                when(row.updated_at), signed)


class HitsTableModel(_RowsModel[NoteHit]):
    HEADERS = ("Title", "Status", "Saved", "Found")

    def _note_id(self, row: NoteHit) -> str:
        return row.note_id

    def _cells(self, row: NoteHit) -> tuple[str, ...]:
        return (row.title, STATUS_TEXT.get(row.status, row.status), when(row.saved_at),
                "…" + " ".join(row.snippet.split()) + "…")

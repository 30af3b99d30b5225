"""What the notes presenters of one chart share: the service, the task runner, the local
copy, who is writing, and the few things tests replace (the autosave timer, the clock
for labels, the questions asked of the user)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from backend_client.dto import PatientRecord
from backend_client.notes.api import NotesApi
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.chart.banner import patient_caption

if TYPE_CHECKING:
    from backend_client.notes.local_store import LocalNoteStore

AUTOSAVE_MS = 2000


class AutosaveTimer(Protocol):
    def start(self, msec: int) -> None: ...
    def stop(self) -> None: ...
    def isActive(self) -> bool: ...  # noqa: N802 (QTimer's name)


def qt_timer(callback: Callable[[], None]) -> AutosaveTimer:
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(callback)
    return timer


def ask_yes(parent: QWidget, title: str, question: str) -> bool:
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.Cancel,
                                  QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


def ask_for_text(parent: QWidget, title: str, label: str) -> str | None:
    text, ok = QInputDialog.getMultiLineText(parent, title, label)
    return text if ok else None


def ask_pdf_path(parent: QWidget, suggested: str) -> Path | None:
    name, _filter = QFileDialog.getSaveFileName(parent, "Export PDF", suggested, "PDF (*.pdf)")
    return Path(name) if name else None


@dataclass
class NotesContext:
    """Attributes:
        record: the chart's patient; every dialog shows its caption first.
        local_store: the author's crash-safe copy (None: not available, e.g. no draft key).
        clinic_lines: the clinic's letterhead for PDFs.
        timer_factory: makes the autosave timer (a fake in tests).
        now: this workstation's clock, for the status line's labels only.
        on_editor: called with each note editor presenter as it opens (dictation).
    """

    api: NotesApi
    runner: TaskRunner | InlineTaskRunner
    local_store: LocalNoteStore | None
    record: PatientRecord
    today: date
    user_id: int
    can_write: bool = True
    can_sign: bool = True
    can_cosign: bool = False
    clinic_lines: tuple[str, ...] = ()
    timer_factory: Callable[[Callable[[], None]], AutosaveTimer] = qt_timer
    now: Callable[[], datetime] = datetime.now
    confirm: Callable[[QWidget, str, str], bool] = ask_yes
    ask_text: Callable[[QWidget, str, str], str | None] = ask_for_text
    pdf_path: Callable[[QWidget, str], Path | None] = ask_pdf_path
    # Called with each NoteEditorPresenter as it opens (dictation adds its recorder).
    on_editor: Callable[[Any], None] | None = None

    @property
    def caption(self) -> str:
        return patient_caption(self.record, self.today)

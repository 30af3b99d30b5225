"""After sign-in: offer the notes whose newest text only this computer has ("2 notes were
not saved: Open / Discard"). The coordinator calls ``offer`` once the person is signed in
and opens the chosen note in its patient's chart (``NotesSectionPresenter.open_unsaved``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from backend_client.logsafe import log_exception
from backend_client.notes.dto import UnsavedNote
from desktop.presenters.notes_context import ask_yes
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.notes.recovery_dialog import UnsavedNotesDialog

if TYPE_CHECKING:
    from backend_client.notes.local_store import LocalNoteStore

log = logging.getLogger(__name__)


class NotesRecoveryPresenter(QObject):
    def __init__(self, runner: TaskRunner | InlineTaskRunner, *,
                 confirm: Callable[[QWidget, str, str], bool] = ask_yes,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._confirm = confirm
        self.dialog: UnsavedNotesDialog | None = None

    def offer(self, window: QWidget, store: LocalNoteStore,
              open_note: Callable[[UnsavedNote], None]) -> None:
        """Lists the signed-in author's pending copies off the GUI thread; if there are
        any, shows the offer over ``window``. ``open_note`` opens one in its chart."""

        def listed(notes: tuple[UnsavedNote, ...]) -> None:
            if not notes:
                return
            dialog = UnsavedNotesDialog(notes, window)
            dialog.setObjectName("unsavedNotesDialog")
            dialog.open_requested.connect(open_note)
            dialog.discard_requested.connect(
                lambda note: self._discard(dialog, store, note))
            self.dialog = dialog
            dialog.open()

        self._runner.run(store.pending, listed,
                         lambda exc: log_exception(log, "listing unsaved notes failed", exc))

    def _discard(self, dialog: UnsavedNotesDialog, store: LocalNoteStore,
                 note: UnsavedNote) -> None:
        if not self._confirm(dialog, "Discard note",
                             f"Throw away the unsaved text of “{note.title}” for "
                             f"{note.patient_label}? It cannot be recovered."):
            dialog.notes.insert(0, note)  # kept: back in the list
            dialog._render()  # noqa: SLF001 (the dialog's own redraw)
            return
        self._runner.run(lambda: store.discard(note.note_id), None,
                         lambda exc: log_exception(log, "discarding a note copy failed", exc),
                         pool="write")

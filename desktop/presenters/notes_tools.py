"""The editor's side tools: smart fill, history and diff, text expanders, PDF export.
A mixin of ``NoteEditorPresenter`` (kept apart so each module stays readable)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Slot

from backend_client.notes.dto import Expander, NoteDocument, NoteTemplate
from desktop.presenters.messages import failure_sentence
from ui.chart.banner import PatientBanner
from ui.notes.expanders_dialog import ExpandersDialog
from ui.notes.history_dialog import HistoryDialog
from ui.notes.pdf_export import write_note_pdf

if TYPE_CHECKING:
    from collections.abc import Callable

    from desktop.presenters.notes_context import NotesContext
    from ui.notes.note_editor import NoteEditorView

log = logging.getLogger(__name__)


class NoteEditorTools:
    ctx: NotesContext
    view: NoteEditorView
    template: NoteTemplate
    note_id: str
    _closed: bool
    history_dialog: HistoryDialog | None
    expanders_dialog: ExpandersDialog | None

    if TYPE_CHECKING:
        def _on_action_failed(self, what: str) -> Callable[[BaseException], None]: ...

    @Slot(str)
    def on_view_fill_requested(self, key: str) -> None:
        api, patient, template = self.ctx.api, self.ctx.record.id, self.template.id

        def filled(texts: dict[str, str]) -> None:
            if not self._closed and key in texts:
                self.view.set_section_text(key, texts[key])

        self.ctx.runner.run(lambda: api.smart_fill(patient, template), filled,
                            self._on_action_failed("filled from the chart"))

    @Slot()
    def on_view_history_requested(self) -> None:
        dialog = HistoryDialog(PatientBanner(self.ctx.record, self.ctx.today),
                               self.view.content().title, self.view)
        dialog.setObjectName("historyDialog")
        self.history_dialog = dialog
        api, note_id = self.ctx.api, self.note_id
        dialog.compare_requested.connect(
            lambda older, newer: self.ctx.runner.run(
                lambda: api.diff(note_id, older, newer), dialog.show_diff,
                lambda exc: dialog.show_message(failure_sentence(
                    exc, "The revisions cannot be compared right now"))))
        self.ctx.runner.run(lambda: api.history(note_id), dialog.show_revisions,
                            lambda exc: dialog.show_message(failure_sentence(
                                exc, "The history cannot be shown right now")))
        dialog.open()

    @Slot()
    def on_view_expanders_requested(self) -> None:
        dialog = ExpandersDialog(self.view)
        dialog.setObjectName("expandersDialog")
        self.expanders_dialog = dialog
        api = self.ctx.api

        def failed(exc: BaseException) -> None:
            dialog.show_error(failure_sentence(exc, "The expanders cannot be changed right now"))

        dialog.save_requested.connect(lambda a, e: self.ctx.runner.run(
            lambda: api.save_expander(a, e), lambda _r: self._load_expanders(), failed,
            pool="write"))
        dialog.delete_requested.connect(lambda a: self.ctx.runner.run(
            lambda: api.delete_expander(a), lambda _r: self._load_expanders(), failed,
            pool="write"))
        self._load_expanders()
        dialog.open()

    def _load_expanders(self) -> None:
        def loaded(expanders: tuple[Expander, ...]) -> None:
            if self._closed:
                return
            self.view.set_expanders({e.abbreviation: e.expansion for e in expanders})
            if self.expanders_dialog is not None:
                self.expanders_dialog.show_expanders(expanders)

        self.ctx.runner.run(self.ctx.api.expanders, loaded,
                            lambda exc: log.info("expanders not loaded: %s",
                                                 type(exc).__name__))

    @Slot()
    def on_view_export_requested(self) -> None:
        title = self.view.content().title
        draft = self.ctx.record.draft
        path = self.ctx.pdf_path(self.view, f"{draft.family_name} {title}.pdf")
        if path is None:
            return

        def write(document: NoteDocument) -> None:
            try:
                write_note_pdf(path, document, self.ctx.record, self.ctx.today,
                               self.ctx.clinic_lines, self.template)
            except OSError as exc:
                self.view.show_problem(f"The PDF cannot be written to {path}: {exc.strerror}.")
                return
            self.view.set_status(f"Exported to {path}")

        self.ctx.runner.run(lambda: self.ctx.api.read(self.note_id), write,
                            self._on_action_failed("exported"))


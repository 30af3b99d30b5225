"""The chart's Notes section (a ``ChartSection``): the patient's notes, search, starting a
note from a template, and the editor in place of the list.

``make_notes_section(record, api, runner, local_store, ...)`` is what the chart's
coordinator calls for each open chart.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QWidget

from backend_client.dto import PatientRecord
from backend_client.errors import NotFound, Unavailable
from backend_client.notes.api import NotesApi
from backend_client.notes.dto import (
    NoteDocument,
    NoteHit,
    NoteSummary,
    NoteTemplate,
    TemplateField,
    TemplateSection,
    UnsavedNote,
)
from desktop.presenters.messages import failure_sentence
from desktop.presenters.notes_context import NotesContext
from desktop.presenters.notes_editor import MONGO_DOWN, NoteEditorPresenter
from desktop.tasks import InlineTaskRunner, TaskRunner
from ui.notes.new_note_dialog import NewNoteDialog
from ui.notes.notes_view import NotesSectionView

if TYPE_CHECKING:
    from backend_client.notes.local_store import LocalNoteStore

log = logging.getLogger(__name__)

NOTE_ACTIONS = frozenset({"saved", "signed", "cosigned", "addendum"})


class NotesSectionPresenter(QObject):
    key = "notes"
    title = "&Notes"

    def __init__(self, ctx: NotesContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.view = NotesSectionView()
        self.view.new_button.setEnabled(ctx.can_write)
        self.templates: tuple[NoteTemplate, ...] = ()
        self.editor: NoteEditorPresenter | None = None
        self.new_dialog: NewNoteDialog | None = None
        self._search_token = 0
        self._list_token = 0
        self._closed = False
        self._fetched_templates: tuple[NoteTemplate, ...] = ()
        self.view.new_requested.connect(self.on_view_new_requested)
        self.view.open_requested.connect(self.on_view_open_requested)
        self.view.search_changed.connect(self.on_view_search_changed)

    # ------------------------------------------------------------ ChartSection

    def widget(self) -> QWidget:
        return self.view

    def load(self, done: Callable[[], None]) -> None:
        api = self.ctx.api
        patient = self.ctx.record.id

        def loaded(result: tuple[tuple[NoteTemplate, ...], tuple[NoteSummary, ...]]) -> None:
            self.templates, notes = result
            self.view.show_message("")
            self.view.show_notes(notes)
            done()

        def failed(exc: BaseException) -> None:
            self.view.show_message(failure_sentence(exc, "The notes cannot be shown right now"))
            done()

        self.ctx.runner.run(lambda: (api.templates(), api.notes(patient)), loaded, failed)

    def refresh(self, actions: frozenset[str]) -> None:
        if not actions or actions & NOTE_ACTIONS:
            self._reload_list()

    def close(self) -> bool:
        if self.editor is not None and not self.editor.close_for_tab():
            return False
        self._closed = True  # the tab and its widgets go: late answers are dropped
        return True

    # ------------------------------------------------------------ list and search

    def _reload_list(self) -> None:
        if self._closed:
            return
        self._list_token += 1
        token = self._list_token
        api, patient = self.ctx.api, self.ctx.record.id

        def listed(notes: tuple[NoteSummary, ...]) -> None:
            if token == self._list_token:
                self.view.show_notes(notes)
                text = self.view.search_edit.text().strip()
                if text:
                    self.on_view_search_changed(text)

        self.ctx.runner.run(lambda: api.notes(patient), listed,
                            lambda exc: self.view.show_message(failure_sentence(
                                exc, "The notes cannot be listed right now")))

    @Slot(str)
    def on_view_search_changed(self, text: str) -> None:
        self._search_token += 1
        token = self._search_token
        text = text.strip()
        if not text:
            self.view.show_message("")
            self._reload_list()
            return
        api, patient = self.ctx.api, self.ctx.record.id

        def found(hits: tuple[NoteHit, ...]) -> None:
            if token == self._search_token:  # newest request wins
                self.view.show_hits(text, hits)

        def failed(exc: BaseException) -> None:
            if token == self._search_token:
                self.view.show_message(failure_sentence(
                    exc, "The notes cannot be searched right now"))

        self.ctx.runner.run(lambda: api.search(patient, text), found, failed)

    # ------------------------------------------------------------ new note

    @Slot()
    def on_view_new_requested(self) -> None:
        if self.editor is not None or not self.ctx.can_write:
            return
        if not self.templates:
            self.view.show_message("The kinds of note are not loaded yet; try again in a "
                                   "moment.")
            return
        dialog = NewNoteDialog(self.ctx.record, self.ctx.today, self.templates, self.view)
        dialog.setObjectName("newNoteDialog")
        self.new_dialog = dialog
        dialog.accepted.connect(lambda: self.start_note(*dialog.chosen()))
        dialog.open()

    def start_note(self, template: NoteTemplate, title: str) -> None:
        note_id = uuid.uuid4().hex
        api, patient = self.ctx.api, self.ctx.record.id

        def failed(exc: BaseException) -> None:
            if isinstance(exc, Unavailable):
                # Write anyway: kept here, created in MongoDB at the first save.
                editor = self._open_editor(template, note_id, None)
                editor._mongo_ok = False  # noqa: SLF001 (its own status line says so)
                editor.view.set_status("Not saved yet · " + MONGO_DOWN)
                if title:
                    editor.view.title_edit.setText(title)
                return
            self.view.show_message(failure_sentence(exc, "A note cannot be started right now"))

        self.ctx.runner.run(lambda: api.create(note_id, patient, template.id, title=title),
                            lambda doc: self._open_new(template, note_id, doc), failed,
                            pool="write")

    def _open_new(self, template: NoteTemplate, note_id: str, document: NoteDocument) -> None:
        self._open_editor(template, note_id, document)

    # ------------------------------------------------------------ opening

    @Slot(str)
    def on_view_open_requested(self, note_id: str) -> None:
        if self.editor is not None:
            return
        api, store = self.ctx.api, self.ctx.local_store

        loaded = self.templates

        def work() -> tuple[NoteDocument, Any, UnsavedNote | None]:
            self._fetched_templates = loaded or api.templates()
            document = api.read(note_id)
            copy = None
            if document.summary.status == "draft":
                copy = api.working_copy(note_id)
            local = store.get(note_id) if store is not None else None
            return document, copy, local

        self.ctx.runner.run(work, self._on_opened, lambda exc: self.view.show_message(
            failure_sentence(exc, "The note cannot be opened right now")))

    def _on_opened(self, result: tuple[NoteDocument, Any, UnsavedNote | None]) -> None:
        document, copy, local = result
        self.templates = self.templates or self._fetched_templates
        if self.editor is not None:
            return
        template = self._template(document.summary.template_id)
        if document.summary.status == "draft" and local is not None and \
                document.head is not None and local.content != document.head.content and \
                self._is_pending(local):
            self._open_editor(template, document.summary.id, document, content=local.content,
                              base=local.base_revision, unsaved=True)
        elif document.summary.status == "draft" and copy is not None and \
                document.head is not None and copy[1] != document.head.content:
            self._open_editor(template, document.summary.id, document, content=copy[1],
                              base=copy[0], unsaved=True)
        else:
            self._open_editor(template, document.summary.id, document)

    def _is_pending(self, local: UnsavedNote) -> bool:
        store = self.ctx.local_store
        return store is not None and any(n.note_id == local.note_id for n in store.pending())

    def open_unsaved(self, unsaved: UnsavedNote) -> None:
        """Open text offered at sign-in (``NotesRecoveryPresenter``) in this chart."""
        api = self.ctx.api
        loaded = self.templates

        def work() -> NoteDocument:
            # The chart may have been opened for this: its templates can still be loading.
            self._fetched_templates = loaded or api.templates()
            return api.read(unsaved.note_id)

        def opened(document: NoteDocument) -> None:
            self.templates = self.templates or self._fetched_templates
            if self.editor is None:
                self._open_editor(self._template(document.summary.template_id),
                                  unsaved.note_id, document, content=unsaved.content,
                                  base=unsaved.base_revision, unsaved=True)

        def failed(exc: BaseException) -> None:
            template_id = unsaved.extra.get("template_id", "")
            if isinstance(exc, NotFound | Unavailable) and self.editor is None and \
                    any(t.id == template_id for t in self.templates):
                self._open_editor(self._template(template_id), unsaved.note_id, None,
                                  content=unsaved.content, base=unsaved.base_revision,
                                  unsaved=True)
                return
            self.view.show_message(failure_sentence(exc, "The note cannot be opened right now"))

        self.ctx.runner.run(work, opened, failed)

    def _template(self, template_id: str) -> NoteTemplate:
        found = next((t for t in self.templates if t.id == template_id), None)
        if found is None:  # a template since removed: its sections come from the note
            return NoteTemplate(template_id, template_id, "note", ())
        return found

    def _open_editor(self, template: NoteTemplate, note_id: str,
                     document: NoteDocument | None, *, content: Any = None,
                     base: str | None = None, unsaved: bool = False) -> NoteEditorPresenter:
        if document is not None and not template.sections and document.head is not None:
            # A template since removed: lay the note out from its own sections, structured
            # ones as fields (so no value is dropped when it is saved again).
            template = NoteTemplate(template.id, document.summary.title, document.summary.kind,
                                    tuple(TemplateSection(s.key, s.title, kind="fields",
                                                          fields=tuple(TemplateField(k, k, "text")
                                                                       for k, _v in s.values))
                                          if s.values else TemplateSection(s.key, s.title)
                                          for s in document.head.content.sections))
        editor = NoteEditorPresenter(self.ctx, template, note_id, document=document,
                                     content=content, base_revision=base, unsaved=unsaved,
                                     parent=self)
        editor.saved.connect(lambda _s: self._reload_list())
        editor.finished.connect(self._on_editor_finished)
        self.editor = editor
        if self.ctx.on_editor is not None:
            self.ctx.on_editor(editor)
        self.view.show_message("")
        self.view.show_editor(editor.view)
        first = next(iter(editor.view.texts.values()), None)
        (first or editor.view.title_edit).setFocus()
        return editor

    @Slot(str)
    def _on_editor_finished(self, sentence: str) -> None:
        self.editor = None
        self.view.show_list()
        self.view.show_message(sentence)
        self._reload_list()


def make_notes_section(record: PatientRecord, api: NotesApi,
                       runner: TaskRunner | InlineTaskRunner,
                       local_store: LocalNoteStore | None, *, today: date, user_id: int,
                       permissions: frozenset[str] = frozenset(),
                       clinic_lines: tuple[str, ...] = (), parent: QObject | None = None,
                       **more: Any) -> NotesSectionPresenter:
    """The Notes section of one chart. ``permissions`` are the actor's ("note.write",
    "note.sign", "note.cosign"); ``more`` passes NotesContext's replaceable pieces
    (timer_factory, now, confirm, ask_text, pdf_path)."""
    ctx = NotesContext(api=api, runner=runner, local_store=local_store, record=record,
                       today=today, user_id=user_id, can_write="note.write" in permissions,
                       can_sign="note.sign" in permissions,
                       can_cosign="note.cosign" in permissions, clinic_lines=clinic_lines,
                       **more)
    return NotesSectionPresenter(ctx, parent)

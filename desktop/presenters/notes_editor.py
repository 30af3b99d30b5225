"""One note being written: autosave, saving revisions, conflicts, signing.

Autosave: the first change after the last autosave starts a 2-second timer that later
changes do not restart, so while the user types the note is kept every 2 seconds and at
most 2 seconds of typing are ever only on screen. When it fires, the content goes to the
local store (write pool: durable before the next one) and, separately, to MongoDB's
working copy (read pool, one at a time: a MongoDB that hangs must not hold back the local
copies queued behind it). A copy MongoDB confirmed is marked pushed locally, so only text
MongoDB lacks is offered at the next sign-in.

Saving (Ctrl+S) makes a revision with an id made here; a save that failed without an
answer (timeout, MongoDB down) is retried with the same id and content, so it is one
revision even if the first attempt went through. Someone else's save in between raises
``NoteConflict``: the merge dialog lets the user pick per section, then the result is
saved on top of theirs. Nothing is overwritten silently and nothing typed is dropped.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, Signal, Slot

from backend_client.errors import IllegalTransition, NoteConflict, NotFound, Unavailable
from backend_client.notes.dto import (
    MergeResult,
    NoteContent,
    NoteDocument,
    NoteRevision,
    NoteSummary,
    NoteTemplate,
)
from backend_client.notes.local_store import content_hash
from desktop.presenters.messages import failure_sentence
from desktop.presenters.notes_context import AUTOSAVE_MS, NotesContext
from desktop.presenters.notes_tools import NoteEditorTools
from ui.chart.banner import PatientBanner
from ui.notes.expanders_dialog import ExpandersDialog
from ui.notes.history_dialog import HistoryDialog
from ui.notes.merge_dialog import MergeDialog
from ui.notes.note_editor import NoteEditorView

log = logging.getLogger(__name__)

MONGO_DOWN = "MongoDB unreachable — kept on this computer"
TAMPERED = ("Warning: this signed note's stored text no longer matches what was signed. "
            "Do not rely on it; tell your administrator.")


@dataclass(frozen=True)
class _Attempt:
    revision_id: str
    parent_id: str | None
    content: NoteContent


class NoteEditorPresenter(NoteEditorTools, QObject):
    """Signals:
        saved(object): a NoteSummary or None: the note changed (the list refreshes).
        finished(str): the editor closed; a sentence for the list ("" if none).
    """

    saved = Signal(object)
    finished = Signal(str)

    def __init__(self, ctx: NotesContext, template: NoteTemplate, note_id: str, *,
                 document: NoteDocument | None, content: NoteContent | None = None,
                 base_revision: str | None = None, unsaved: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.template = template
        self.note_id = note_id
        self.summary: NoteSummary | None = document.summary if document else None
        self.created = document is not None
        head = document.head if document else None
        self.head_id: str | None = head.id if head else base_revision
        if unsaved:
            self.head_id = base_revision
        self.saved_content: NoteContent | None = head.content if head else None
        self.saved_at: datetime | None = head.saved_at if head else None
        self.view = NoteEditorView(ctx.record, ctx.today, template)
        self.view.set_content(content or (head.content if head else _empty(template)))
        self._autosaved: NoteContent | None = None if unsaved else self.view.content()
        self._local_at: datetime | None = None
        self._mongo_ok = True
        self._mongo_busy = False
        self._mongo_again = False
        self._saving = False
        self._retry: _Attempt | None = None
        self._closed = False
        self._close_after_save = False
        self.merge_dialog: MergeDialog | None = None
        self.history_dialog: HistoryDialog | None = None
        self.expanders_dialog: ExpandersDialog | None = None
        self._timer = ctx.timer_factory(self.on_timer_timeout)
        v = self.view
        v.changed.connect(self.on_view_changed)
        v.save_requested.connect(self.on_view_save_requested)
        v.sign_requested.connect(self.on_view_sign_requested)
        v.cosign_requested.connect(self.on_view_cosign_requested)
        v.addendum_requested.connect(self.on_view_addendum_requested)
        v.history_requested.connect(self.on_view_history_requested)
        v.export_requested.connect(self.on_view_export_requested)
        v.expanders_requested.connect(self.on_view_expanders_requested)
        v.close_requested.connect(self.on_view_close_requested)
        v.fill_requested.connect(self.on_view_fill_requested)
        if document is not None:
            self._show_document(document)
        else:
            self._apply_mode()
        self._render_status()
        self._load_expanders()
        if unsaved:
            self.view.show_problem("This is your text that was not saved; Save (Ctrl+S) to "
                                   "keep it as a revision.")
            self._autosave_now()

    # ------------------------------------------------------------ state

    @property
    def signed(self) -> bool:
        return self.summary is not None and self.summary.status != "draft"

    def has_unsaved_changes(self) -> bool:
        return not self.signed and self.view.content() != self.saved_content

    def _apply_mode(self) -> None:
        s = self.summary
        self.view.set_mode(
            signed=self.signed, can_sign=self.ctx.can_sign,
            can_write=self.ctx.can_write,
            can_cosign=bool(s and s.cosign_required and not s.cosigned_by
                            and self.ctx.can_cosign and s.author_id != self.ctx.user_id))

    def _show_document(self, document: NoteDocument) -> None:
        self.summary = document.summary
        self.view.set_warning("" if document.intact else TAMPERED)
        self.view.set_addenda([
            (f"Addendum by {a.summary.signed_by or a.summary.author}, "
             f"{_label(a.summary.signed_at or a.summary.created_at)}",
             "\n\n".join(s.text for s in a.head.content.sections) if a.head else "")
            for a in document.addenda])
        self._apply_mode()

    def _render_status(self) -> None:
        parts = []
        if self.signed and self.summary is not None:
            s = self.summary
            parts.append(f"Signed by {s.signed_by} {_label(s.signed_at)} — read-only; "
                         "corrections are addenda")
            if s.cosign_required:
                parts.append(f"co-signed by {s.cosigned_by} {_label(s.cosigned_at)}"
                             if s.cosigned_by else "awaiting co-signature")
        elif self.saved_at is not None and self.created:
            parts.append(f"Saved {_hm(self.saved_at)}")
        else:
            parts.append("Not saved yet")
        if self._local_at is not None:
            parts.append(f"autosaved locally {_hm(self._local_at)}")
        if not self._mongo_ok:
            parts.append(MONGO_DOWN)
        self.view.set_status(" · ".join(parts))

    # ------------------------------------------------------------ autosave

    @Slot()
    def on_view_changed(self) -> None:
        self.view.show_problem("")
        if not self._timer.isActive():
            self._timer.start(AUTOSAVE_MS)

    def on_timer_timeout(self) -> None:
        self._autosave_now()

    def _autosave_now(self) -> None:
        """Keep the text now: locally (always) and in MongoDB (when it answers)."""
        if self.signed:
            return
        content = self.view.content()
        if content == self._autosaved:
            return
        self._autosaved = content
        digest = content_hash(content)
        note_id, base = self.note_id, self.head_id
        store = self.ctx.local_store
        if store is not None:
            extra = {"template_id": self.template.id}
            label = self.ctx.caption

            def put() -> None:
                store.put(note_id, self.ctx.record.id, label, content.title, base, content,
                          extra=extra)

            self.ctx.runner.run(put, self._on_local_kept, self._on_local_failed,
                                pool="write")
        if not self.created:
            return
        if self._mongo_busy:
            self._mongo_again = True  # pushed when the call in flight returns
            return
        self._push(note_id, base, content, digest)

    def _push(self, note_id: str, base: str | None, content: NoteContent, digest: str) -> None:
        self._mongo_busy = True
        api = self.ctx.api
        # The read pool, not the write pool: see the module docstring.
        self.ctx.runner.run(lambda: api.autosave(note_id, base, content),
                            lambda _r: self._on_mongo_kept(digest),
                            self._on_mongo_failed, pool="read")

    def _on_local_kept(self, _result: object) -> None:
        self._local_at = self.ctx.now()
        if not self._closed:
            self._render_status()

    def _on_local_failed(self, exc: BaseException) -> None:
        self._autosaved = None  # the next tick tries again
        if not self._closed:
            self.view.show_problem(failure_sentence(
                exc, "The note cannot be kept on this computer right now"))

    def _on_mongo_kept(self, digest: str) -> None:
        self._mongo_busy = False
        self._mongo_ok = True
        self._mark_pushed(digest)
        self._push_again()
        if not self._closed:
            self._render_status()

    def _push_again(self) -> None:
        """Text autosaved locally while a MongoDB call was in flight goes there too."""
        content = self._autosaved
        if self._mongo_again and content is not None and not self.signed:
            self._mongo_again = False
            self._push(self.note_id, self.head_id, content, content_hash(content))

    def _on_mongo_failed(self, exc: BaseException) -> None:
        self._mongo_busy = False
        self._mongo_ok = False
        self._mongo_again = False  # the next change tries again
        if not isinstance(exc, Unavailable | TimeoutError | OSError):
            log.warning("autosave to MongoDB failed: %s", type(exc).__name__)
        if not self._closed:
            self._render_status()

    def _mark_pushed(self, digest: str) -> None:
        store = self.ctx.local_store
        if store is not None:
            self.ctx.runner.run(lambda: store.mark_pushed(self.note_id, digest), None,
                                lambda exc: None, pool="write")

    # ------------------------------------------------------------ saving

    @Slot()
    def on_view_save_requested(self) -> None:
        self.save()

    def save(self, then: str = "") -> bool:
        """Start saving a revision; ``then`` "sign" signs it afterwards, "close" closes
        the editor. False (with the sentence shown) if it cannot start."""
        if self._saving or self.signed:
            return False
        problems = self.view.field_problems()
        if problems:
            self.view.show_problem("; ".join(problems) + ". Correct it to save (your text "
                                   "is kept on this computer meanwhile).")
            self._autosave_now()
            return False
        content = self.view.content()
        retry = self._retry
        if retry is not None and retry.content == content and retry.parent_id == self.head_id:
            attempt = retry  # the same request again: one revision even if both arrive
        else:
            attempt = _Attempt(uuid.uuid4().hex, self.head_id, content)
        self._retry = attempt
        self._saving = True
        self._autosave_now()  # the local copy first, whatever MongoDB does
        self.view.set_status("Saving…")
        api, note_id, created = self.ctx.api, self.note_id, self.created
        record_id, template_id = self.ctx.record.id, self.template.id

        def work() -> tuple[NoteRevision, NoteSummary | None]:
            parent = attempt.parent_id
            if not created:  # made while MongoDB was down: create it now (idempotent)
                doc = api.create(note_id, record_id, template_id, title=content.title)
                parent = doc.head.id if doc.head else None
            revision = api.save(note_id, attempt.revision_id, parent, content)
            summary = api.sign(note_id, revision.id) if then == "sign" else None
            return revision, summary

        self.ctx.runner.run(work, lambda r: self._on_saved(r, then),
                            lambda exc: self._on_save_failed(exc, then), pool="write")
        return True

    def _on_saved(self, result: tuple[NoteRevision, NoteSummary | None], then: str) -> None:
        revision, summary = result
        self._saving = False
        self._retry = None
        self.created = True
        self._mongo_ok = True
        self.head_id = revision.id
        self.saved_content = revision.content
        self.saved_at = revision.saved_at
        self._mark_pushed(content_hash(revision.content))
        if summary is not None:
            self.summary = summary
        self.saved.emit(summary)
        if self._closed:
            return
        if then == "close":
            self.finished.emit(f"“{revision.content.title}” saved.")
            self._close_view()
            return
        self._apply_mode()
        self._render_status()
        self.view.show_problem("")

    def _on_save_failed(self, exc: BaseException, then: str = "") -> None:
        self._saving = False
        if isinstance(exc, NoteConflict):
            self._retry = None
            if not self._closed:
                self._render_status()
                self._open_merge(exc)
            return
        if isinstance(exc, IllegalTransition | NotFound):
            self._retry = None
        if isinstance(exc, Unavailable):
            self._mongo_ok = False
        if self._closed:
            return
        sentence = failure_sentence(exc, "The note cannot be saved right now")
        if then == "close" and not isinstance(exc, IllegalTransition | NotFound):
            # Leaving is allowed: the text is on disk here and offered at the next sign-in.
            self.finished.emit(f"“{self.view.content().title}” was not saved: {sentence} "
                               "It is kept on this computer and offered at your next "
                               "sign-in.")
            self._close_view()
            return
        self._render_status()
        if not isinstance(exc, IllegalTransition | NotFound):
            sentence += " Your text is kept on this computer; save again when it is back."
        self.view.show_problem(sentence)

    # ------------------------------------------------------------ conflict

    def _open_merge(self, conflict: NoteConflict) -> None:
        merge = conflict.merge
        assert isinstance(merge, MergeResult)
        dialog = MergeDialog(PatientBanner(self.ctx.record, self.ctx.today), merge,
                             conflict.changed_by, self.view)
        dialog.setObjectName("mergeDialog")
        dialog.accepted.connect(lambda: self._keep_merged(merge, dialog.merged_content()))
        self.merge_dialog = dialog
        self.view.show_problem(f"{conflict.message} Nothing was overwritten: choose what to "
                               "keep.")
        dialog.open()

    def _keep_merged(self, merge: MergeResult, content: NoteContent) -> None:
        revision_id = uuid.uuid4().hex
        api, note_id, theirs = self.ctx.api, self.note_id, merge.theirs.id
        self.view.set_content(content)
        self._saving = True
        self.ctx.runner.run(
            lambda: api.keep_theirs_as_mine(note_id, revision_id, theirs, content),
            self._on_merged_saved, self._on_save_failed, pool="write")

    def _on_merged_saved(self, revision: NoteRevision) -> None:
        if not self._closed:
            self.view.show_problem("")
        self._on_saved((revision, None), "")

    # ------------------------------------------------------------ signing

    @Slot()
    def on_view_sign_requested(self) -> None:
        empty = self.view.empty_required()
        if empty:
            names = (empty[0] if len(empty) == 1
                     else ", ".join(empty[:-1]) + " and " + empty[-1])
            self.view.show_problem("A note is signed with its required sections filled: "
                                   + names + (" is empty." if len(empty) == 1
                                              else " are empty."))
            return
        if not self.ctx.confirm(self.view, "Sign note",
                                f"Sign “{self.view.content().title}” for "
                                f"{self.ctx.caption}?\n\nA signed note can no longer be "
                                "changed; corrections are added as addenda."):
            return
        if self.has_unsaved_changes() or not self.created:
            self.save(then="sign")
            return
        note_id, head = self.note_id, self.head_id or ""
        self.ctx.runner.run(lambda: self.ctx.api.sign(note_id, head), self._on_signed,
                            self._on_action_failed("signed"), pool="write")

    def _on_signed(self, summary: NoteSummary) -> None:
        self.summary = summary
        self.saved.emit(summary)
        if not self._closed:
            self._apply_mode()
            self._render_status()

    def _on_action_failed(self, what: str):  # type: ignore[no-untyped-def]
        def failed(exc: BaseException) -> None:
            if not self._closed:
                self.view.show_problem(failure_sentence(
                    exc, f"The note cannot be {what} right now"))
        return failed

    @Slot()
    def on_view_cosign_requested(self) -> None:
        if not self.ctx.confirm(self.view, "Co-sign note",
                                f"Co-sign “{self.view.content().title}” for "
                                f"{self.ctx.caption}?"):
            return
        note_id = self.note_id
        self.ctx.runner.run(lambda: self.ctx.api.cosign(note_id), self._on_signed,
                            self._on_action_failed("co-signed"), pool="write")

    @Slot()
    def on_view_addendum_requested(self) -> None:
        text = self.ctx.ask_text(self.view, "Addendum",
                                 f"Addendum to “{self.view.content().title}” for "
                                 f"{self.ctx.caption}:")
        if not text or not text.strip():
            return
        api, note_id = self.ctx.api, self.note_id

        def work() -> NoteDocument:
            api.add_addendum(note_id, text.strip())
            return api.read(note_id)

        self.ctx.runner.run(work, self._on_document, self._on_action_failed("amended"),
                            pool="write")

    def _on_document(self, document: NoteDocument) -> None:
        self.saved.emit(document.summary)
        if not self._closed:
            self._show_document(document)
            self._render_status()

    # ------------------------------------------------------------ closing

    @Slot()
    def on_view_close_requested(self) -> None:
        self.close()

    def close(self) -> bool:
        """Leave the editor, saving first. False while it must stay open: a value is
        out of range (the user corrects it; the text is kept locally meanwhile)."""
        if self._closed:
            return True
        if not self.has_unsaved_changes():
            self._timer.stop()
            self.finished.emit("")
            self._close_view()
            return True
        if self._saving:
            self._autosave_now()
            self.finished.emit("The note is being saved.")
            self._close_view()
            return True
        self._timer.stop()
        if not self.save(then="close"):
            return False
        return True

    def close_for_tab(self) -> bool:
        """The chart tab is closing: never lose text. The local copy is written, and the
        revision saved in the background (its result reaches the list if still open; if
        MongoDB is down the copy is offered at the next sign-in)."""
        if self._closed:
            return True
        if self.has_unsaved_changes() and self.view.field_problems():
            self.save()  # shows what to correct, keeps the local copy
            return False
        if self.has_unsaved_changes() and not self._saving:
            self._timer.stop()
            self.save(then="close")
            self._closed = True
            return True
        self._autosave_now()
        self._timer.stop()
        self._closed = True
        return True

    def _close_view(self) -> None:
        self._closed = True
        self._timer.stop()
        for dialog in (self.merge_dialog, self.history_dialog, self.expanders_dialog):
            if dialog is not None:
                dialog.close()


def _empty(template: NoteTemplate) -> NoteContent:
    from backend_client.notes.dto import SectionContent

    return NoteContent(template.title, tuple(SectionContent(s.key, s.title)
                                             for s in template.sections))


def _hm(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M") if moment.tzinfo else moment.strftime("%H:%M")


def _label(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone().strftime("%d %b %Y %H:%M")

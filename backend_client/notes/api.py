"""What notes offer the app. ``NotesService`` implements it against MongoDB (revisions,
autosaves, expanders) and PostgreSQL (the ``documents`` row that makes a note visible and
freezes it when signed); presenter tests use a fake with the same methods.

Permissions: listing and reading need ``note.read`` (reception never reads a note; every
read of content is audited "note.read"); writing ``note.write``; signing ``note.sign``;
co-signing ``note.cosign``. Errors as elsewhere (``PermissionDenied``, ``NotFound``,
``ValidationError``, ``Unavailable``) plus ``NoteConflict`` (someone saved first: carries
the three-way merge) and ``IllegalTransition`` (a signed note cannot be changed; add an
addendum).

Writes publish a change event kind "note", id = patient id, action "saved" / "signed" /
"cosigned" / "addendum" after the commit, so open charts refresh their note list.
"""

from __future__ import annotations

from typing import Protocol

from backend_client.notes.dto import (
    Expander,
    NoteContent,
    NoteDocument,
    NoteHit,
    NoteRevision,
    NoteSummary,
    NoteTemplate,
    RevisionDiff,
)


class NotesApi(Protocol):
    def templates(self) -> tuple[NoteTemplate, ...]:
        """The note types shipped in resources/note_templates (a new one is a file)."""
        ...

    def notes(self, patient_id: int) -> tuple[NoteSummary, ...]:
        """The patient's notes, newest first (no content)."""
        ...

    def create(self, note_id: str, patient_id: int, template_id: str, *,
               encounter_id: int | None = None, title: str = "") -> NoteDocument:
        """A new draft whose id the caller made (uuid4 hex): creating it again returns the
        same note (a retry is harmless). Its first revision holds the template's empty
        sections with smart sections filled from the chart."""
        ...

    def smart_fill(self, patient_id: int, template_id: str) -> dict[str, str]:
        """Text for the template's smart sections (section key → text): current
        medications, active allergies, problems, last vitals — from the chart now."""
        ...

    def read(self, note_id: str) -> NoteDocument:
        """Audited ("note.read")."""
        ...

    def save(self, note_id: str, revision_id: str, parent_id: str | None,
             content: NoteContent) -> NoteRevision:
        """A new immutable revision (id made by the caller: retrying the same save is
        one revision). ``parent_id`` is the revision the author started from; if someone
        else saved since, raises ``NoteConflict`` carrying the three-way merge and nothing
        is written. Saving a signed note raises ``IllegalTransition``."""
        ...

    def keep_theirs_as_mine(self, note_id: str, revision_id: str, theirs_id: str,
                            content: NoteContent) -> NoteRevision:
        """After a conflict: save ``content`` (the user's merge, or their own version) as a
        new revision on top of ``theirs_id`` — deliberate, never silent."""
        ...

    def autosave(self, note_id: str, base_revision: str | None, content: NoteContent) -> None:
        """The author's working copy in MongoDB (one per note and author, overwritten every
        2 s while typing; not a revision). Cleared by the next ``save``."""
        ...

    def working_copy(self, note_id: str) -> tuple[str | None, NoteContent] | None:
        """The signed-in author's working copy (base revision, content), if newer than the
        head — offered when the note is opened again."""
        ...

    def sign(self, note_id: str, revision_id: str) -> NoteSummary:
        """Freezes the note at ``revision_id`` (must be the head; required sections filled).
        Content and hash are then fixed by the database. A trainee's note (role
        "resident") is signed but waits for a co-signature."""
        ...

    def cosign(self, note_id: str) -> NoteSummary:
        ...

    def add_addendum(self, note_id: str, text: str, *,
                     addendum_id: str | None = None) -> NoteSummary:
        """A correction to a signed note: its own signed document, shown with the
        original, which stays as it was. ``addendum_id`` (optional, uuid4 hex made by the
        caller): a retried call is then one addendum."""
        ...

    def history(self, note_id: str) -> tuple[NoteRevision, ...]:
        """Every revision, oldest first (audited as a read)."""
        ...

    def diff(self, note_id: str, older_id: str, newer_id: str) -> RevisionDiff: ...

    def search(self, patient_id: int, text: str) -> tuple[NoteHit, ...]:
        """Full-text search in this patient's notes (their newest revisions)."""
        ...

    def expanders(self) -> tuple[Expander, ...]:
        """Shipped text expanders and the signed-in user's own (theirs win)."""
        ...

    def save_expander(self, abbreviation: str, expansion: str) -> Expander: ...
    def delete_expander(self, abbreviation: str) -> None: ...

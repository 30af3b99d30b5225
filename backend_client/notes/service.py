"""``NotesService``: clinical notes against MongoDB (immutable revisions) and PostgreSQL (the
``documents`` row that makes a note visible, names its head revision and, once signed,
freezes it: migration 0012). Implements ``NotesApi`` (api.py).

Saving follows DESIGN.md's cross-store order: the revision goes to MongoDB first, under an
id the client made (a retry is a duplicate key: the same revision); then one PostgreSQL
transaction moves the row's head from the author's parent to it, and only if the parent is
still the head (else ``NoteConflict`` with the three-way merge). A revision whose row never
moved is invisible; ``reconcile.py`` reports it and links one whose save crashed half-way.
What a note shows is the chain of revisions from the row's head back through their
parents, so a document planted in MongoDB beside them changes nothing anyone sees.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from backend_client.accounts.access import Access
from backend_client.dto import Actor
from backend_client.errors import (
    Conflict,
    IllegalTransition,
    NoteConflict,
    PermissionDenied,
    ValidationError,
)
from backend_client.notes import smart
from backend_client.notes.api import NotesApi
from backend_client.notes.base import (  # noqa: F401 (re-exported)
    SIGNED,
    database_refusals,
    load_expanders,
)
from backend_client.notes.content import check_content, check_id, content_hash, from_doc
from backend_client.notes.dto import (
    NoteContent,
    NoteDocument,
    NoteRevision,
    NoteSummary,
    SectionContent,
)
from backend_client.notes.merge import merge3
from backend_client.notes.reading import NoteReads
from backend_client.notes.store import SeqTaken
from backend_client.notes.templates import (
    TemplateLibrary,
    blank_content,
    check_values,
    default_templates_dir,
)
from backend_client.stores.mongo.client import mongo_calls
from backend_client.stores.postgres.models import Document
from backend_client.sync.events import ChangePublisher

if TYPE_CHECKING:
    from backend_client.backend import Backend

_NOW = sql("SELECT clock_timestamp()")
_MAY_OPEN = sql("SELECT dra_may_open(:p)")
_PATIENT = sql("SELECT EXISTS (SELECT 1 FROM patients WHERE id = :p)")
_SAME_PATIENT = sql("SELECT dra__same_patient_encounter(:e, :p)")


class NotesService(NoteReads):
    """Implements ``NotesApi``. Args: see ``NotesBase``."""

    # ------------------------------------------------------------------ writing

    def create(self, note_id: str, patient_id: int, template_id: str, *,
               encounter_id: int | None = None, title: str = "") -> NoteDocument:
        actor = self.access.require("note.write", patient_id=patient_id)
        check_id("note_id", note_id)
        template = self.library.get(template_id)
        with self._work(actor) as uow:
            s = uow.session
            existing = s.get(Document, uuid.UUID(note_id))
            if existing is None:
                # Checked before anything goes to MongoDB: a refused create leaves nothing.
                if not s.execute(_PATIENT, {"p": patient_id}).scalar_one():
                    raise ValidationError("patient_id", "That patient does not exist.")
                if not s.execute(_MAY_OPEN, {"p": patient_id}).scalar_one():
                    raise PermissionDenied("You may not write in this patient's chart.")
                if encounter_id is not None and not s.execute(
                        _SAME_PATIENT, {"e": encounter_id, "p": patient_id}).scalar_one():
                    raise ValidationError("encounter_id", "That visit is not this patient's; "
                                                          "the note was not created.")
                now = s.execute(_NOW).scalar_one()
                content = blank_content(template, title, smart.fill(
                    s, self.store, patient_id, template, self.library.all()))
                check_content(content)
                # The first revision's id follows from the note's: a retried create finds
                # the revision it stored before, whatever the chart says now.
                first = uuid.uuid5(uuid.UUID(note_id), "first revision").hex
                revision = self.store.insert(
                    revision_id=first, note_id=note_id, patient_id=patient_id, seq=1,
                    parent_id=None, author_id=actor.user_id or 0,
                    author=actor.display_name, saved_at=now, content=content)
                s.add(Document(id=uuid.UUID(note_id), patient_id=patient_id,
                               encounter_id=encounter_id, kind=template.kind,
                               title=revision.content.title[:300], mongo_id=note_id,
                               status="draft", template_id=template.id,
                               head_revision=revision.id, revision_count=1))
                s.flush()
                uow.announce(self._event(actor, patient_id, "saved"))
                uow.commit()
            row = self._row(s, note_id)
            if row.patient_id != patient_id:
                raise ValidationError("note_id", "This note id belongs to another patient.")
            return self._document(s, row)

    def save(self, note_id: str, revision_id: str, parent_id: str | None,
             content: NoteContent) -> NoteRevision:
        actor = self.access.require("note.write")
        check_id("revision_id", revision_id)
        check_content(content)
        with self._work(actor) as uow:
            s = uow.session
            # Saves of one note take turns from here to the commit (a few milliseconds,
            # the MongoDB insert included): the second sees the first's head and gets the
            # conflict with the right "theirs".
            row = self._row(s, note_id, lock=True)
            if row.status != "draft":
                raise IllegalTransition(SIGNED)
            template = self._template(row)
            if template is not None:
                check_values(template, content)
            done = self.store.get(revision_id)
            if done is not None:
                if done.note_id != note_id:
                    raise ValidationError("revision_id", "That revision id is taken.")
                if row.head_revision == revision_id or revision_id in {
                        r.id for r in self._chain(row)}:
                    return done         # a retry of a save that went through
                parent_id = done.parent_id
            if row.head_revision != parent_id:
                raise self._conflict(s, row, parent_id, content)
            now = s.execute(_NOW).scalar_one()
            try:
                revision = done or self.store.insert(
                    revision_id=revision_id, note_id=note_id, patient_id=row.patient_id,
                    seq=self.store.last_seq(note_id) + 1, parent_id=parent_id,
                    author_id=actor.user_id or 0, author=actor.display_name,
                    saved_at=now, content=content)
            except SeqTaken:
                s.expire_all()
                raise self._conflict(s, self._row(s, note_id), parent_id, content) from None
            moved = s.execute(
                update(Document)
                .where(Document.id == row.id, Document.status == "draft",
                       Document.head_revision == parent_id if parent_id is not None
                       else Document.head_revision.is_(None))
                .values(head_revision=revision.id,
                        revision_count=Document.revision_count + 1,
                        title=revision.content.title[:300],
                        version=Document.version + 1, updated_at=func.now())
                .execution_options(synchronize_session=False)).rowcount
            if not moved:   # someone else moved the head since we looked
                s.expire_all()
                raise self._conflict(s, self._row(s, note_id), parent_id, content)
            uow.announce(self._event(actor, row.patient_id, "saved"))
            uow.commit()
        if actor.user_id is not None:
            with mongo_calls():
                self.store.clear_autosave(note_id, actor.user_id)
        return revision

    def _conflict(self, s: Session, row: Document, parent_id: str | None,
                  mine: NoteContent) -> Exception:
        if row.status != "draft":
            return IllegalTransition(SIGNED)
        theirs = self.store.get(row.head_revision or "")
        if theirs is None:
            return Conflict("This note's newest revision cannot be found; try again in a "
                            "moment.", row.version)
        base = self.store.get(parent_id) if parent_id else None
        return NoteConflict(f"{theirs.author or 'Someone'} saved this note while you were "
                            "editing it. Compare the versions and choose what to keep.",
                            merge3(base, mine, theirs), changed_by=theirs.author)

    def keep_theirs_as_mine(self, note_id: str, revision_id: str, theirs_id: str,
                            content: NoteContent) -> NoteRevision:
        return self.save(note_id, revision_id, theirs_id, content)

    def autosave(self, note_id: str, base_revision: str | None, content: NoteContent) -> None:
        actor = self.access.require("note.write")
        check_content(content)
        with self._work(actor) as uow:
            row = self._row(uow.session, note_id)
            if row.status != "draft":
                raise IllegalTransition(SIGNED)
            self.store.put_autosave(note_id, actor.user_id or 0, base_revision, content)

    def working_copy(self, note_id: str) -> tuple[str | None, NoteContent] | None:
        actor = self.access.require("note.read")
        with self._work(actor) as uow:
            row = self._row(uow.session, note_id)
            doc = self.store.get_autosave(note_id, actor.user_id or 0)
            if doc is None or row.status != "draft":
                return None
            content = from_doc(doc["content"])
            head = self.store.get(row.head_revision or "")
            if head is not None and content_hash(head.content) == content_hash(content):
                return None
            return doc.get("base_revision"), content

    # ------------------------------------------------------------------ signing

    def sign(self, note_id: str, revision_id: str) -> NoteSummary:
        actor = self.access.require("note.sign")
        with self._work(actor) as uow:
            s = uow.session
            row = self._row(s, note_id, lock=True)
            if row.status != "draft":
                raise IllegalTransition("This note is signed already.")
            if row.head_revision != revision_id:
                raise Conflict("Someone saved a newer version of this note; read it "
                               "before signing.", row.version)
            head = self.store.get(revision_id)
            if head is None or head.content_hash != content_hash(head.content):
                raise Conflict("This note's stored text cannot be verified; it cannot be "
                               "signed.", row.version)
            template = self._template(row)
            if template is not None:
                check_values(template, head.content, signing=True)
            self._sign_row(s, row, head, actor)
            uow.announce(self._event(actor, row.patient_id, "signed"))
            uow.commit()
            return self._summaries(s, [self._row(s, note_id)])[0]

    @staticmethod
    def _sign_row(s: Session, row: Document, head: NoteRevision, actor: Actor) -> None:
        # signed_by, signed_at and cosign_required are the database's to set (0012).
        result: Any = s.execute(
            update(Document)
            .where(Document.id == row.id, Document.status == "draft",
                   Document.head_revision == head.id)
            .values(status="signed", signed_revision=head.id,
                    signed_hash=head.content_hash, signed_by=actor.user_id,
                    signed_at=sql("clock_timestamp()"), version=Document.version + 1,
                    updated_at=func.now())   # named, so the stamping trigger moves it
            .execution_options(synchronize_session=False))
        s.expire_all()
        if not result.rowcount:
            raise Conflict("Someone saved or signed this note a moment ago; read it again "
                           "before signing.")

    def cosign(self, note_id: str) -> NoteSummary:
        actor = self.access.require("note.cosign")
        with self._work(actor) as uow:
            s = uow.session
            row = self._row(s, note_id)
            if row.status != "signed" or not row.cosign_required or row.cosigned_by:
                raise IllegalTransition("This note is not waiting for a co-signature.")
            if row.signed_by == actor.user_id:
                raise PermissionDenied("A note is co-signed by someone other than its "
                                       "signer.")
            s.execute(update(Document).where(Document.id == row.id)
                      .values(cosigned_by=actor.user_id,
                              cosigned_at=sql("clock_timestamp()"),
                              version=Document.version + 1, updated_at=func.now())
                      .execution_options(synchronize_session=False))
            s.expire_all()
            uow.announce(self._event(actor, row.patient_id, "cosigned"))
            uow.commit()
            return self._summaries(s, [self._row(s, note_id)])[0]

    def add_addendum(self, note_id: str, text: str, *,
                     addendum_id: str | None = None) -> NoteSummary:
        """``addendum_id`` (optional, an addition to the contract): the caller's id for the
        addendum, so that a retried call is one addendum."""
        actor = self.access.require("note.sign")
        if not text.strip():
            raise ValidationError("text", "An addendum needs some text.")
        new_id = addendum_id or uuid.uuid4().hex
        check_id("addendum_id", new_id)
        with self._work(actor) as uow:
            s = uow.session
            original = self._row(s, note_id)
            if original.status != "signed":
                raise IllegalTransition("Only a signed note takes an addendum; edit the "
                                        "draft instead.")
            existing = s.get(Document, uuid.UUID(new_id))
            if existing is not None:
                return self._summaries(s, [existing])[0]
            now = s.execute(_NOW).scalar_one()
            content = NoteContent(title=f"Addendum to {original.title}"[:300], sections=(
                SectionContent(key="addendum", title="Addendum", text=text),))
            check_content(content)
            revision = self.store.insert(
                revision_id=uuid.uuid5(uuid.UUID(new_id), "first revision").hex,
                note_id=new_id, patient_id=original.patient_id, seq=1, parent_id=None,
                author_id=actor.user_id or 0, author=actor.display_name, saved_at=now,
                content=content)
            row = Document(id=uuid.UUID(new_id), patient_id=original.patient_id,
                           encounter_id=original.encounter_id, kind=original.kind,
                           title=content.title, mongo_id=new_id, status="draft",
                           template_id="addendum", head_revision=revision.id,
                           revision_count=1, addendum_of=original.id)
            s.add(row)
            s.flush()
            self._sign_row(s, row, revision, actor)
            uow.announce(self._event(actor, original.patient_id, "addendum"))
            uow.commit()
            return self._summaries(s, [self._row(s, new_id)])[0]

def build_notes(backend: Backend, access: Access, publisher: ChangePublisher | None,
                templates_dir: Path | None = None) -> NotesService:
    """The notes service as the composition root builds it: the app's engine and MongoDB
    user, templates from ``templates_dir`` (default resources/note_templates) and the
    shipped text expanders (resources/text_expanders.json)."""
    library = TemplateLibrary(templates_dir)
    return NotesService(backend.engine, backend.mongo_db, access, templates=library,
                        expanders=default_templates_dir().parent / "text_expanders.json",
                        publisher=publisher)


def _is_notes_api(service: NotesService) -> NotesApi:
    """mypy checks here that the service offers everything ``NotesApi`` names."""
    return service

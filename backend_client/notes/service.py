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

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymongo.database import Database
from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from backend_client.accounts.access import Access
from backend_client.audit.service import AuditService
from backend_client.dto import Actor
from backend_client.errors import (
    Conflict,
    IllegalTransition,
    NoteConflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from backend_client.notes import smart
from backend_client.notes.content import check_content, check_id, content_hash, from_doc
from backend_client.notes.diff import diff_revisions
from backend_client.notes.dto import (
    Expander,
    NoteContent,
    NoteDocument,
    NoteHit,
    NoteRevision,
    NoteSummary,
    NoteTemplate,
    RevisionDiff,
    SectionContent,
)
from backend_client.notes.merge import merge3
from backend_client.notes.store import NoteStore, SeqTaken
from backend_client.notes.templates import (
    TemplateLibrary,
    blank_content,
    check_values,
    default_templates_dir,
)
from backend_client.stores.mongo.client import mongo_calls
from backend_client.stores.postgres.models import Document
from backend_client.sync.events import ChangeEvent, ChangePublisher, NullPublisher
from backend_client.uow import unit_of_work

if TYPE_CHECKING:
    from backend_client.backend import Backend

SIGNED = ("This note is signed and cannot be changed. Add an addendum to correct it.")
_NOW = text("SELECT clock_timestamp()")
_MAY_OPEN = text("SELECT dra_may_open(:p)")
MAX_EXPANSION = 2000


def sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


@contextmanager
def database_refusals() -> Iterator[None]:
    """The database's refusals (migration 0012's trigger, row security) as our errors."""
    try:
        yield
    except DBAPIError as exc:
        state = sqlstate(exc)
        if state == "DRA11":
            raise IllegalTransition(SIGNED) from exc
        if state == "DRA12":
            raise IllegalTransition("The database refused this change to the note.") from exc
        if state == "42501":
            raise PermissionDenied("The database refused this for your session: your "
                                   "role may not do it, or not for this patient.") from exc
        raise


def load_expanders(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.get("expanders", {}).items()}


class NotesService:
    """Args:
        engine: the app's Engine (or a test's Connection in an outer transaction).
        mongo_db: the app's MongoDB database (its user may only find and insert revisions).
        access: who is acting.
        templates: the note types (``TemplateLibrary``).
        expanders: the shipped text expanders (abbreviation → expansion), or the JSON
            file that holds them (read on first use).
        publisher: where change events go after each commit.
    """

    def __init__(self, engine: Engine | Connection, mongo_db: Database[dict[str, Any]],
                 access: Access, *, templates: TemplateLibrary,
                 expanders: dict[str, str] | Path | None = None,
                 publisher: ChangePublisher | None = None) -> None:
        self.engine = engine
        self.store = NoteStore(mongo_db)
        self.access = access
        self.library = templates
        self._shipped = expanders
        self.publisher = publisher or NullPublisher()

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _work(self, actor: Actor) -> Iterator[Any]:
        with database_refusals(), mongo_calls(), unit_of_work(
                self.engine, token=actor.token or None, publisher=self.publisher) as uow:
            yield uow

    @staticmethod
    def _row(s: Session, note_id: str, *, lock: bool = False) -> Document:
        check_id("note_id", note_id)
        stmt = select(Document).where(Document.id == uuid.UUID(note_id),
                                      Document.kind.in_(("note", "letter")))
        if lock:
            stmt = stmt.with_for_update()
        row = s.execute(stmt).scalar_one_or_none()
        if row is None:
            raise NotFound("That note does not exist, or you may not see it.")
        return row

    @staticmethod
    def _names(s: Session, *ids: int | None) -> dict[int, str]:
        wanted = [i for i in set(ids) if i is not None]
        if not wanted:
            return {}
        rows = s.execute(text("SELECT id, display_name FROM users WHERE id = ANY(:i)"),
                         {"i": wanted}).all()
        return {int(r.id): str(r.display_name) for r in rows}

    @staticmethod
    def _summary(row: Document, names: dict[int, str]) -> NoteSummary:
        return NoteSummary(
            id=row.id.hex, version=row.version, patient_id=row.patient_id,
            encounter_id=row.encounter_id, template_id=row.template_id or "",
            kind=row.kind, title=row.title, status=row.status,
            author_id=row.author_id or 0, author=names.get(row.author_id or 0, ""),
            created_at=row.created_at, updated_at=row.updated_at,
            revision_count=row.revision_count, head_revision=row.head_revision or "",
            signed_by=names.get(row.signed_by or 0, "") if row.signed_by else "",
            signed_at=row.signed_at, cosign_required=row.cosign_required,
            cosigned_by=names.get(row.cosigned_by or 0, "") if row.cosigned_by else "",
            cosigned_at=row.cosigned_at,
            addendum_of=row.addendum_of.hex if row.addendum_of else None)

    def _summaries(self, s: Session, rows: list[Document]) -> list[NoteSummary]:
        names = self._names(s, *[i for r in rows
                                 for i in (r.author_id, r.signed_by, r.cosigned_by)])
        return [self._summary(r, names) for r in rows]

    @staticmethod
    def _audit_read(s: Session, actor: Actor, row: Document, what: str) -> None:
        AuditService.record_in(s, "note.read", user_id=actor.user_id,
                               workstation=actor.workstation, patient_id=row.patient_id,
                               object_type="note", object_id=row.id.hex,
                               details={"what": what})

    def _event(self, actor: Actor, patient_id: int, action: str) -> ChangeEvent:
        return ChangeEvent(kind="note", id=patient_id, action=action,
                           user_id=actor.user_id, workstation=actor.workstation)

    def _template(self, row: Document) -> NoteTemplate | None:
        try:
            return self.library.get(row.template_id or "")
        except ValidationError:
            return None   # an addendum, or a template since removed: no field rules

    # ------------------------------------------------------------------ templates, lists

    def templates(self) -> tuple[NoteTemplate, ...]:
        return self.library.all()

    def notes(self, patient_id: int) -> tuple[NoteSummary, ...]:
        actor = self.access.require("note.read", patient_id=patient_id)
        with self._work(actor) as uow:
            rows = list(uow.session.execute(
                select(Document).where(Document.patient_id == patient_id,
                                       Document.kind.in_(("note", "letter")))
                .order_by(Document.created_at.desc(), Document.id)).scalars())
            return tuple(self._summaries(uow.session, rows))

    def smart_fill(self, patient_id: int, template_id: str) -> dict[str, str]:
        actor = self.access.require("note.read", patient_id=patient_id)
        template = self.library.get(template_id)
        with self._work(actor) as uow:
            return smart.fill(uow.session, self.store, patient_id, template,
                              self.library.all())

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
                if not s.execute(_MAY_OPEN, {"p": patient_id}).scalar_one():
                    raise PermissionDenied("You may not write in this patient's chart.")
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
            row = self._row(s, note_id)
            if row.status != "draft":
                raise IllegalTransition(SIGNED)
            template = self._template(row)
            if template is not None:
                check_values(template, content)
            done = self.store.get(revision_id)
            if done is not None:
                if done.note_id != note_id:
                    raise ValidationError("revision_id", "That revision id is taken.")
                if row.head_revision == revision_id:
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
                        version=Document.version + 1)
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
            row = self._row(s, note_id)
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
        s.execute(update(Document)
                  .where(Document.id == row.id, Document.status == "draft",
                         Document.head_revision == head.id)
                  .values(status="signed", signed_revision=head.id,
                          signed_hash=head.content_hash, signed_by=actor.user_id,
                          signed_at=text("clock_timestamp()"), version=Document.version + 1)
                  .execution_options(synchronize_session=False))
        s.expire_all()

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
                              cosigned_at=text("clock_timestamp()"),
                              version=Document.version + 1)
                      .execution_options(synchronize_session=False))
            s.expire_all()
            uow.announce(self._event(actor, row.patient_id, "cosigned"))
            uow.commit()
            return self._summaries(s, [self._row(s, note_id)])[0]

    def add_addendum(self, note_id: str, text_: str, *,
                     addendum_id: str | None = None) -> NoteSummary:
        """``addendum_id`` (optional, an addition to the contract): the caller's id for the
        addendum, so that a retried call is one addendum."""
        actor = self.access.require("note.sign")
        if not text_.strip():
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
                SectionContent(key="addendum", title="Addendum", text=text_),))
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

    # ------------------------------------------------------------------ reading

    def _document(self, s: Session, row: Document, *, addenda: bool = True) -> NoteDocument:
        wanted = row.signed_revision if row.status == "signed" else row.head_revision
        head = self.store.get(wanted or "")
        intact = True
        if row.status == "signed":
            intact = (head is not None and head.id == row.signed_revision
                      and head.note_id == row.id.hex
                      and content_hash(head.content) == row.signed_hash
                      and head.content_hash == row.signed_hash)
        elif head is not None:
            intact = head.note_id == row.id.hex
        extra: tuple[NoteDocument, ...] = ()
        if addenda:
            rows = list(s.execute(select(Document).where(Document.addendum_of == row.id)
                                  .order_by(Document.created_at, Document.id)).scalars())
            extra = tuple(self._document(s, r, addenda=False) for r in rows)
        return NoteDocument(summary=self._summaries(s, [row])[0], head=head, addenda=extra,
                            intact=intact)

    def read(self, note_id: str) -> NoteDocument:
        actor = self.access.require("note.read")
        with self._work(actor) as uow:
            s = uow.session
            row = self._row(s, note_id)
            document = self._document(s, row)
            self._audit_read(s, actor, row, "note")
            uow.commit()
            return document

    def _chain(self, row: Document) -> list[NoteRevision]:
        """The note's revisions, oldest first: the head and its ancestors (what was linked
        in PostgreSQL), never a revision that was stored but not linked."""
        by_id = {r.id: r for r in self.store.of_note(row.id.hex)}
        chain: list[NoteRevision] = []
        current = by_id.get(row.head_revision or "")
        while current is not None and len(chain) <= len(by_id):
            chain.append(current)
            current = by_id.get(current.parent_id or "")
        return chain[::-1]

    def history(self, note_id: str) -> tuple[NoteRevision, ...]:
        actor = self.access.require("note.read")
        with self._work(actor) as uow:
            s = uow.session
            row = self._row(s, note_id)
            chain = self._chain(row)
            self._audit_read(s, actor, row, "history")
            uow.commit()
            return tuple(chain)

    def diff(self, note_id: str, older_id: str, newer_id: str) -> RevisionDiff:
        actor = self.access.require("note.read")
        with self._work(actor) as uow:
            s = uow.session
            row = self._row(s, note_id)
            found = {r.id: r for r in self._chain(row)}
            missing = [i for i in (older_id, newer_id) if i not in found]
            if missing:
                raise NotFound("That revision is not part of this note's history.")
            result = diff_revisions(found[older_id], found[newer_id])
            self._audit_read(s, actor, row, "diff")
            uow.commit()
            return result

    def search(self, patient_id: int, text_: str) -> tuple[NoteHit, ...]:
        actor = self.access.require("note.read", patient_id=patient_id)
        words = text_.strip()
        if not words:
            return ()
        if len(words) > 200:
            raise ValidationError("text", "Search for at most 200 characters.")
        with self._work(actor) as uow:
            s = uow.session
            rows = {r.head_revision: r for r in uow.session.execute(
                select(Document).where(Document.patient_id == patient_id,
                                       Document.kind.in_(("note", "letter")))).scalars()
                if r.head_revision}
            hits = []
            for doc in self.store.search(patient_id, words):
                row = rows.get(doc["_id"])
                if row is None or row.id.hex != doc["note_id"]:
                    continue     # an old revision, or one never linked
                hits.append(NoteHit(note_id=row.id.hex, title=row.title, status=row.status,
                                    saved_at=doc["saved_at"],
                                    snippet=snippet(doc["search_text"], words)))
            AuditService.record_in(s, "note.search", user_id=actor.user_id,
                                   workstation=actor.workstation, patient_id=patient_id,
                                   object_type="patient", object_id=str(patient_id),
                                   details={"hits": len(hits)})
            uow.commit()
            return tuple(hits)

    # ------------------------------------------------------------------ expanders

    def expanders(self) -> tuple[Expander, ...]:
        actor = self.access.require("note.write")
        with mongo_calls():
            own = self.store.user_expanders(actor.user_id or 0)
        if isinstance(self._shipped, Path):
            self._shipped = load_expanders(self._shipped) if self._shipped.exists() else {}
        merged = {k: Expander(k, v) for k, v in (self._shipped or {}).items()}
        merged.update({k: Expander(k, v, personal=True) for k, v in own.items()})
        return tuple(sorted(merged.values(), key=lambda e: e.abbreviation))

    def save_expander(self, abbreviation: str, expansion: str) -> Expander:
        actor = self.access.require("note.write")
        abbreviation = abbreviation.strip()
        if not abbreviation or len(abbreviation) > 30 or any(c.isspace()
                                                              for c in abbreviation):
            raise ValidationError("abbreviation", "An abbreviation is 1 to 30 characters "
                                                  "without spaces, e.g. \".sob\".")
        if not expansion.strip() or len(expansion) > MAX_EXPANSION:
            raise ValidationError("expansion", f"The expansion needs 1 to {MAX_EXPANSION} "
                                               "characters.")
        with mongo_calls():
            self.store.put_expander(actor.user_id or 0, abbreviation, expansion)
        return Expander(abbreviation, expansion, personal=True)

    def delete_expander(self, abbreviation: str) -> None:
        actor = self.access.require("note.write")
        with mongo_calls():
            self.store.delete_expander(actor.user_id or 0, abbreviation.strip())


def snippet(text_: str, query: str, width: int = 60) -> str:
    """The first query word found, with some context, on one line."""
    lower = text_.lower()
    at = -1
    for word in query.lower().replace('"', " ").split():
        at = lower.find(word.lstrip("-"))
        if at >= 0:
            break
    at = max(at, 0)
    start, end = max(0, at - width), min(len(text_), at + width)
    piece = " ".join(text_[start:end].split())
    return ("…" if start else "") + piece + ("…" if end < len(text_) else "")


def build_notes(backend: Backend, access: Access, publisher: ChangePublisher | None,
                templates_dir: Path | None = None) -> NotesService:
    """The notes service as the composition root builds it: the app's engine and MongoDB
    user, templates from ``templates_dir`` (default resources/note_templates) and the
    shipped text expanders (resources/text_expanders.json)."""
    library = TemplateLibrary(templates_dir)
    return NotesService(backend.engine, backend.mongo_db, access, templates=library,
                        expanders=default_templates_dir().parent / "text_expanders.json",
                        publisher=publisher)

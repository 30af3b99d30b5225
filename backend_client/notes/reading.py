"""The notes service's reads: the chart's list, a note with its addenda (the signed hash
checked, the read audited), history as the chain of linked revisions, diffs, search, smart
fill and text expanders."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend_client.audit.service import AuditService
from backend_client.errors import NotFound, ValidationError
from backend_client.notes import smart
from backend_client.notes.base import NotesBase, load_expanders
from backend_client.notes.content import content_hash
from backend_client.notes.diff import diff_revisions
from backend_client.notes.dto import (
    Expander,
    NoteDocument,
    NoteHit,
    NoteRevision,
    NoteSummary,
    NoteTemplate,
    RevisionDiff,
)
from backend_client.stores.mongo.client import mongo_calls
from backend_client.stores.postgres.models import Document

MAX_EXPANSION = 2000


class NoteReads(NotesBase):
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

    def search(self, patient_id: int, text: str) -> tuple[NoteHit, ...]:
        actor = self.access.require("note.read", patient_id=patient_id)
        words = text.strip()
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



"""What the notes service's reads and writes share: the unit of work with the session
named, the ``documents`` row as the session may see it, summaries with people's names, the
read audit, and the database's refusals turned into our errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymongo.database import Database
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from backend_client.accounts.access import Access
from backend_client.audit.service import AuditService
from backend_client.dto import Actor
from backend_client.errors import IllegalTransition, NotFound, PermissionDenied, ValidationError
from backend_client.notes.content import check_id
from backend_client.notes.dto import NoteSummary, NoteTemplate
from backend_client.notes.store import NoteStore
from backend_client.notes.templates import TemplateLibrary
from backend_client.stores.mongo.client import mongo_calls
from backend_client.stores.postgres.models import Document
from backend_client.sync.events import ChangeEvent, ChangePublisher, NullPublisher
from backend_client.uow import unit_of_work

SIGNED = ("This note is signed and cannot be changed. Add an addendum to correct it.")


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
        if state == "23503":
            raise ValidationError("patient_id", "That patient or visit does not exist.") from exc
        if state == "23505":
            raise ValidationError("note_id", "That id is in use already; make a new one.") \
                from exc
        if state == "42501":
            raise PermissionDenied("The database refused this for your session: your "
                                   "role may not do it, or not for this patient.") from exc
        raise


def load_expanders(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.get("expanders", {}).items()}


class NotesBase:
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


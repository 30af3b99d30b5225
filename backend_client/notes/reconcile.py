"""The reconciler: PostgreSQL's ``documents`` rows and MongoDB's ``note_revisions`` must
tell one story (DESIGN.md, cross-store writes). A save writes the revision first and then
moves the row's head, so a crash in between leaves a revision nobody sees; this finds

- ``missing_head``: a row whose head (or signed) revision is not in MongoDB;
- ``altered``: a signed note whose stored content no longer has the signed hash;
- ``unlinked``: revisions stored after the head but never linked. One whose parent is the
  head of a draft is the save that crashed half-way: ``finish=True`` links it (as the
  author would have). Any other, and any beside a signed note, is only reported: a signed
  note never changes, and what it shows is its signed revision;
- ``orphan``: revisions of a note that has no row (a create that never finished).

Run as the schema's owner (``backend.owner_engine``): it must see every patient's rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database
from sqlalchemy import Connection, Engine, func, select, update

from backend_client.notes.content import content_hash
from backend_client.notes.store import NoteStore, revision_from_doc
from backend_client.stores.postgres.models import Document
from backend_client.uow import unit_of_work


@dataclass(frozen=True)
class Finding:
    kind: str              # missing_head, altered, unlinked, orphan
    note_id: str
    revision_id: str = ""
    finished: bool = False  # linked now

    @property
    def sentence(self) -> str:
        return {
            "missing_head": f"note {self.note_id}: its revision {self.revision_id} is not "
                            "in MongoDB",
            "altered": f"note {self.note_id}: signed revision {self.revision_id} no longer "
                       "matches its signed hash",
            "unlinked": f"note {self.note_id}: revision {self.revision_id} was stored but "
                        + ("has now been linked" if self.finished else "never linked"),
            "orphan": f"revision {self.revision_id} belongs to note {self.note_id}, which "
                      "has no row",
        }[self.kind]


class NoteReconciler:
    def __init__(self, owner: Engine | Connection, mongo_db: Database[dict[str, Any]]
                 ) -> None:
        self.owner = owner
        self.store = NoteStore(mongo_db)

    def run(self, *, patient_id: int | None = None, finish: bool = False
            ) -> tuple[Finding, ...]:
        findings: list[Finding] = []
        stmt = select(Document).where(Document.kind.in_(("note", "letter")))
        query: dict[str, Any] = {}
        if patient_id is not None:
            stmt = stmt.where(Document.patient_id == patient_id)
            query["patient_id"] = patient_id
        by_note: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in self.store.revisions.find(query).sort("seq", 1):
            by_note[doc["note_id"]].append(doc)
        with unit_of_work(self.owner) as uow:
            rows = {r.id.hex: r for r in uow.session.execute(stmt).scalars()}
            for note_id, row in rows.items():
                findings.extend(self._check(uow.session, row, by_note.get(note_id, []),
                                            finish))
            uow.commit()
        findings.extend(Finding("orphan", note_id, d["_id"])
                        for note_id, docs in by_note.items() if note_id not in rows
                        for d in docs)
        return tuple(findings)

    def _check(self, s: Any, row: Document, docs: list[dict[str, Any]], finish: bool
               ) -> list[Finding]:
        out: list[Finding] = []
        by_id = {d["_id"]: d for d in docs}
        note_id = row.id.hex
        head = row.head_revision or ""
        if head not in by_id:
            out.append(Finding("missing_head", note_id, head))
        if row.status == "signed":
            signed = by_id.get(row.signed_revision or "")
            if signed is None:
                if row.signed_revision != head:
                    out.append(Finding("missing_head", note_id, row.signed_revision or ""))
            else:
                rev = revision_from_doc(signed)
                if (content_hash(rev.content) != row.signed_hash
                        or rev.content_hash != row.signed_hash):
                    out.append(Finding("altered", note_id, rev.id))
        linked: set[str] = set()
        current = by_id.get(head)
        while current is not None and current["_id"] not in linked:
            linked.add(current["_id"])
            current = by_id.get(current.get("parent_id") or "")
        for doc in docs:   # in seq order
            if doc["_id"] in linked:
                continue
            if (finish and row.status == "draft" and doc.get("parent_id") == head
                    and head in by_id):
                moved = s.execute(
                    update(Document)
                    .where(Document.id == uuid.UUID(note_id), Document.status == "draft",
                           Document.head_revision == head)
                    .values(head_revision=doc["_id"],
                            revision_count=Document.revision_count + 1,
                            version=Document.version + 1, updated_at=func.now())
                    .execution_options(synchronize_session=False)).rowcount
                if moved:
                    head = doc["_id"]
                    linked.add(head)
                    out.append(Finding("unlinked", note_id, doc["_id"], finished=True))
                    continue
            out.append(Finding("unlinked", note_id, doc["_id"]))
        return out


def run_cli(owner: Engine | Connection, mongo_db: Database[dict[str, Any]],
            argv: list[str], emit: Any = print) -> int:
    """``python -m backend_client.notes.reconcile [--finish] [--patient ID]``: prints one
    line per finding (ids only, never content); exit status 1 when something is left
    that a person must look at."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m backend_client.notes.reconcile",
                                     description="Check that notes in PostgreSQL and "
                                                 "MongoDB agree; --finish links saves "
                                                 "that crashed half-way.")
    parser.add_argument("--finish", action="store_true")
    parser.add_argument("--patient", type=int, default=None)
    args = parser.parse_args(argv)
    findings = NoteReconciler(owner, mongo_db).run(patient_id=args.patient,
                                                   finish=args.finish)
    for f in findings:
        emit(f.sentence)
    left = [f for f in findings if not f.finished]
    emit(f"{len(findings)} finding(s), {len(findings) - len(left)} finished, "
         f"{len(left)} to look at")
    return 1 if left else 0


def main() -> int:   # pragma: no cover - the operator's entry point
    import sys

    from backend_client.backend import open_backend
    from backend_client.config import load_settings

    backend = open_backend(load_settings())
    try:
        return run_cli(backend.owner_engine, backend.owner_mongo_db, sys.argv[1:])
    finally:
        backend.close()


if __name__ == "__main__":
    raise SystemExit(main())

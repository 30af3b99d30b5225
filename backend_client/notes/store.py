"""MongoDB side of notes: revisions (insert-only), the authors' working copies, and text
expanders. Writes use majority write concern (a revision acknowledged is on a majority of
the replica set, so a failover cannot take it back) and the client's retryable writes; ids
are made by the client, so a retried insert is a duplicate key, which is handled as "it is
there already"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from backend_client.notes.content import content_hash, from_doc, search_text, to_doc
from backend_client.notes.dto import NoteContent, NoteRevision

MAJORITY = WriteConcern("majority")


class SeqTaken(Exception):
    """Another revision of the note took this sequence number first (a concurrent save)."""


def revision_from_doc(doc: dict[str, Any]) -> NoteRevision:
    return NoteRevision(id=doc["_id"], note_id=doc["note_id"], seq=int(doc["seq"]),
                        parent_id=doc.get("parent_id"), author_id=int(doc["author_id"]),
                        author=str(doc.get("author", "")), saved_at=doc["saved_at"],
                        content=from_doc(doc["content"]), content_hash=doc["content_hash"])


class NoteStore:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.revisions = db.get_collection("note_revisions", write_concern=MAJORITY,
                                           read_concern=ReadConcern("majority"))
        self.autosaves = db.get_collection("note_autosaves", write_concern=MAJORITY)
        self.expanders = db.get_collection("text_expanders", write_concern=MAJORITY)

    # ------------------------------------------------------------------ revisions

    def get(self, revision_id: str) -> NoteRevision | None:
        doc = self.revisions.find_one({"_id": revision_id})
        return revision_from_doc(doc) if doc else None

    def many(self, revision_ids: Iterable[str]) -> dict[str, NoteRevision]:
        ids = list(set(revision_ids))
        if not ids:
            return {}
        return {d["_id"]: revision_from_doc(d)
                for d in self.revisions.find({"_id": {"$in": ids}})}

    def of_note(self, note_id: str) -> list[NoteRevision]:
        return [revision_from_doc(d) for d in
                self.revisions.find({"note_id": note_id}).sort("seq", ASCENDING)]

    def last_seq(self, note_id: str) -> int:
        doc = self.revisions.find_one({"note_id": note_id}, {"seq": 1},
                                      sort=[("seq", DESCENDING)])
        return int(doc["seq"]) if doc else 0

    def insert(self, *, revision_id: str, note_id: str, patient_id: int, seq: int,
               parent_id: str | None, author_id: int, author: str, saved_at: datetime,
               content: NoteContent) -> NoteRevision:
        """The revision, stored; if one with this id exists (a retried save), that one.

        Raises:
            SeqTaken: a different revision has this note's ``seq`` (someone saved first).
        """
        # BSON dates hold milliseconds: what is returned is what is stored.
        saved_at = saved_at.astimezone(UTC).replace(
            microsecond=saved_at.microsecond // 1000 * 1000)
        doc = {"_id": revision_id, "note_id": note_id, "patient_id": patient_id, "seq": seq,
               "parent_id": parent_id, "author_id": author_id, "author": author[:200],
               "saved_at": saved_at, "content": to_doc(content),
               "content_hash": content_hash(content), "search_text": search_text(content)}
        try:
            self.revisions.insert_one(doc)
        except DuplicateKeyError as exc:
            existing = self.get(revision_id)
            if existing is not None:
                return existing
            raise SeqTaken(note_id) from exc
        return revision_from_doc(doc)

    def search(self, patient_id: int, text: str, limit: int = 200) -> list[dict[str, Any]]:
        return list(self.revisions.find(
            {"patient_id": patient_id, "$text": {"$search": text}},
            {"_id": 1, "note_id": 1, "search_text": 1, "saved_at": 1,
             "score": {"$meta": "textScore"}},
        ).sort([("score", {"$meta": "textScore"})]).limit(limit))

    # ------------------------------------------------------------------ working copies

    def put_autosave(self, note_id: str, author_id: int, base_revision: str | None,
                     content: NoteContent) -> None:
        self.autosaves.update_one(
            {"_id": f"{note_id}:{author_id}"},
            {"$set": {"note_id": note_id, "author_id": author_id,
                      "base_revision": base_revision, "content": to_doc(content)},
             "$currentDate": {"saved_at": True}},   # MongoDB's clock, not the desk's
            upsert=True)

    def get_autosave(self, note_id: str, author_id: int) -> dict[str, Any] | None:
        return self.autosaves.find_one({"_id": f"{note_id}:{author_id}"})

    def clear_autosave(self, note_id: str, author_id: int) -> None:
        self.autosaves.delete_one({"_id": f"{note_id}:{author_id}"})

    # ------------------------------------------------------------------ expanders

    def user_expanders(self, user_id: int) -> dict[str, str]:
        return {d["abbreviation"]: d["expansion"]
                for d in self.expanders.find({"user_id": user_id})}

    def put_expander(self, user_id: int, abbreviation: str, expansion: str) -> None:
        self.expanders.update_one(
            {"_id": f"{user_id}:{abbreviation}"},
            {"$set": {"user_id": user_id, "abbreviation": abbreviation,
                      "expansion": expansion},
             "$currentDate": {"updated_at": True}},
            upsert=True)

    def delete_expander(self, user_id: int, abbreviation: str) -> None:
        self.expanders.delete_one({"_id": f"{user_id}:{abbreviation}"})

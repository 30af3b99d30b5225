"""Unsaved work kept for its author in MongoDB: a form's content when the workstation
changed hands (another person signed in at the lock screen) or when its author signed out
with the form open. Offered back at the author's next sign-in, on any workstation.

Only the author can list or delete their drafts: every call takes the author's user id
from the caller's ``Actor``, never from the draft.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.database import Database

from backend_client.dto import SavedDraft
from backend_client.stores.mongo.client import mongo_calls

COLLECTION = "drafts"
MAX_DRAFTS_PER_USER = 200


class DraftStore:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._drafts = db[COLLECTION]

    def save(self, user_id: int, *, kind: str, title: str, reason: str,
             payload: dict[str, Any], key: str = "") -> str:
        """Keep one draft; a draft with the same ``key`` (the same form) is replaced, so
        saving twice never shows two copies. Returns its id."""
        doc_key = key or uuid.uuid4().hex
        with mongo_calls():
            result = self._find_one_and_update(user_id, doc_key, kind, title, reason, payload)
        assert result is not None  # an upsert returning the new document always has one
        return str(result["_id"])

    def _find_one_and_update(self, user_id: int, doc_key: str, kind: str, title: str,
                             reason: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        return self._drafts.find_one_and_update(
            {"user_id": user_id, "key": doc_key},
            # MongoDB's clock, not the workstation's: drafts from several desks are
            # listed newest first.
            {"$set": {"kind": kind, "title": title, "reason": reason, "payload": payload},
             "$currentDate": {"saved_at": True},
             "$setOnInsert": {"_id": uuid.uuid4().hex}},
            upsert=True, projection={"_id": 1}, return_document=True)

    def list_for(self, user_id: int) -> list[SavedDraft]:
        with mongo_calls():
            docs = list(self._drafts.find({"user_id": user_id}).sort("saved_at", -1)
                        .limit(MAX_DRAFTS_PER_USER))
        return [SavedDraft(draft_id=str(d["_id"]), kind=d["kind"], title=d["title"],
                           saved_at=_aware(d["saved_at"]), reason=d.get("reason", ""),
                           payload=dict(d["payload"]), key=d["key"]) for d in docs]

    def delete_key(self, user_id: int, key: str) -> bool:
        """Forget the draft kept for this form (it was saved or discarded)."""
        with mongo_calls():
            return self._drafts.delete_one({"user_id": user_id, "key": key}).deleted_count == 1


def _aware(moment: datetime) -> datetime:
    # pymongo returns naive UTC datetimes unless the client is tz_aware.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

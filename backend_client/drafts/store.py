"""Unsaved work kept for its author in MongoDB: a form's content when the workstation
changed hands (another person signed in at the lock screen) or when its author signed out
with the form open. Offered back at the author's next sign-in, on any workstation.

Sealed for its author. What was typed (and the form's title, which can name a patient) is
encrypted with AES-256-GCM under the author's draft key, which their workstation derives
from their password at sign-in and never stores (``accounts/passwords.py``). MongoDB's
login, which every workstation holds, therefore reads only ciphertext; a copy moved to
another person, or a form planted by anyone else, fails authentication and is not offered
(the associated data binds each copy to its author, form and kind).
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from typing import Any

from bson.binary import Binary
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pymongo.database import Database

from backend_client.dto import SavedDraft
from backend_client.stores.mongo.client import mongo_calls

log = logging.getLogger(__name__)

COLLECTION = "drafts"
MAX_DRAFTS_PER_USER = 200
_SCHEME = "aesgcm1"


def _aad(user_id: int, key: str, kind: str) -> bytes:
    return json.dumps([_SCHEME, user_id, key, kind]).encode()


def seal(draft_key: bytes, user_id: int, key: str, kind: str, content: dict[str, Any]) -> bytes:
    if len(draft_key) != 32:
        raise ValueError("a draft key is 32 bytes (derived at sign-in)")
    nonce = os.urandom(12)
    plain = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return nonce + AESGCM(draft_key).encrypt(nonce, plain, _aad(user_id, key, kind))


def unseal(draft_key: bytes, user_id: int, key: str, kind: str,
           sealed: bytes) -> dict[str, Any] | None:
    """The content, or None if it is not this author's (or was altered)."""
    if len(draft_key) != 32 or len(sealed) < 12 + 16:
        return None
    try:
        plain = AESGCM(draft_key).decrypt(sealed[:12], sealed[12:], _aad(user_id, key, kind))
    except InvalidTag:
        return None
    content = json.loads(plain)
    return content if isinstance(content, dict) else None


class DraftStore:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._drafts = db[COLLECTION]

    def save(self, user_id: int, *, kind: str, title: str, reason: str,
             payload: dict[str, Any], draft_key: bytes, key: str = "") -> str:
        """Keep one draft, sealed with its author's ``draft_key``; a draft with the same
        ``key`` (the same form) is replaced, so saving twice never shows two copies.
        Returns its id."""
        doc_key = key or uuid.uuid4().hex
        sealed = seal(draft_key, user_id, doc_key, kind,
                      {"title": title, "reason": reason, "payload": payload})
        with mongo_calls():
            result = self._drafts.find_one_and_update(
                {"user_id": user_id, "key": doc_key},
                # MongoDB's clock, not the workstation's: drafts from several desks are
                # listed newest first.
                {"$set": {"kind": kind, "sealed": Binary(sealed)},
                 "$unset": {"title": "", "reason": "", "payload": ""},
                 "$currentDate": {"saved_at": True},
                 "$setOnInsert": {"_id": uuid.uuid4().hex}},
                upsert=True, projection={"_id": 1}, return_document=True)
        assert result is not None  # an upsert returning the new document always has one
        return str(result["_id"])

    def list_for(self, user_id: int, draft_key: bytes) -> list[SavedDraft]:
        """The author's drafts, newest first. Copies that do not open with their key
        (planted, altered, or sealed before a password change) are left out."""
        with mongo_calls():
            docs = list(self._drafts.find({"user_id": user_id}).sort("saved_at", -1)
                        .limit(MAX_DRAFTS_PER_USER))
        out: list[SavedDraft] = []
        skipped = 0
        for d in docs:
            sealed = d.get("sealed")
            content = (unseal(draft_key, user_id, str(d.get("key", "")), str(d.get("kind", "")),
                              bytes(sealed)) if isinstance(sealed, bytes | Binary) else None)
            if content is None or not isinstance(content.get("payload"), dict):
                skipped += 1
                continue
            out.append(SavedDraft(draft_id=str(d["_id"]), kind=d["kind"],
                                  title=str(content.get("title", "")),
                                  saved_at=_aware(d["saved_at"]),
                                  reason=str(content.get("reason", "")),
                                  payload=dict(content["payload"]), key=d["key"]))
        if skipped:
            log.warning("%d kept form(s) of user id=%s could not be opened with their key",
                        skipped, user_id)
        return out

    def delete_key(self, user_id: int, key: str) -> bool:
        """Forget the draft kept for this form (it was saved or discarded)."""
        with mongo_calls():
            return self._drafts.delete_one({"user_id": user_id, "key": key}).deleted_count == 1


def _aware(moment: Any) -> Any:
    from datetime import UTC

    # pymongo returns naive UTC datetimes unless the client is tz_aware.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

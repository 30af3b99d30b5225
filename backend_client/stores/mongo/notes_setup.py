"""MongoDB collections for clinical notes and the documents later issues fill: their
``$jsonSchema`` validators and the indexes the chart needs (steps 4 and 5 of setup.py).

``note_revisions`` is insert-only for the app's user (setup.APP_COLLECTIONS): one document
per save, never changed. The validators refuse anything but the shape the notes service
writes (``additionalProperties: false`` down to the sections), so a document planted
through the app's login cannot carry extra fields or a malformed body.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, TEXT
from pymongo.database import Database

Db = Database[dict[str, Any]]

HEX32 = "^[0-9a-f]{32}$"
INT = ["int", "long"]


def _str(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"bsonType": "string", "maxLength": max_length, **extra}


SECTION = {
    "bsonType": "object",
    "required": ["key", "title", "text", "values"],
    "additionalProperties": False,
    "properties": {
        "key": _str(64, minLength=1),
        "title": _str(200),
        "text": _str(200_000),
        # structured values as typed, by field key
        "values": {"bsonType": "object",
                   "additionalProperties": _str(200)},
    },
}
CONTENT = {
    "bsonType": "object",
    "required": ["title", "sections"],
    "additionalProperties": False,
    "properties": {
        "title": _str(300),
        "sections": {"bsonType": "array", "maxItems": 100, "items": SECTION},
    },
}

NOTE_REVISION = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "note_id", "patient_id", "seq", "parent_id", "author_id",
                     "author", "saved_at", "content", "content_hash", "search_text"],
        "additionalProperties": False,
        "properties": {
            "_id": _str(32, pattern=HEX32),
            "note_id": _str(32, pattern=HEX32),
            "patient_id": {"bsonType": INT, "minimum": 1},
            "seq": {"bsonType": INT, "minimum": 1},
            "parent_id": {"bsonType": ["string", "null"], "pattern": HEX32},
            "author_id": {"bsonType": INT},
            "author": _str(200),
            "saved_at": {"bsonType": "date"},
            "content": CONTENT,
            "content_hash": _str(64, pattern="^[0-9a-f]{64}$"),
            "search_text": _str(400_000),
        },
    }
}

NOTE_AUTOSAVE = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "note_id", "author_id", "base_revision", "content", "saved_at"],
        "additionalProperties": False,
        "properties": {
            "_id": _str(80),
            "note_id": _str(32, pattern=HEX32),
            "author_id": {"bsonType": INT},
            "base_revision": {"bsonType": ["string", "null"]},
            "content": CONTENT,
            "saved_at": {"bsonType": "date"},
        },
    }
}

TEXT_EXPANDER = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "user_id", "abbreviation", "expansion", "updated_at"],
        "additionalProperties": False,
        "properties": {
            "_id": _str(100),
            "user_id": {"bsonType": INT},
            "abbreviation": _str(30, pattern="^\\S+$"),
            "expansion": _str(2000, minLength=1),
            "updated_at": {"bsonType": "date"},
        },
    }
}

# For later issues: the fields they will need are required; more may be added then.
AI_DRAFT = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "patient_id", "source", "model", "status", "created_at",
                     "sections"],
        "properties": {
            "_id": _str(64),
            "patient_id": {"bsonType": INT, "minimum": 1},
            "note_id": {"bsonType": ["string", "null"]},
            "source": _str(64),            # the recording or transcript it came from
            "model": _str(200),
            "status": {"enum": ["pending", "ready", "accepted", "rejected", "failed"]},
            "created_at": {"bsonType": "date"},
            "sections": {"bsonType": "array", "items": SECTION},
        },
    }
}
TRANSCRIPT = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "recording_id", "patient_id", "language", "model", "text",
                     "segments", "created_at"],
        "properties": {
            "_id": _str(64),
            "recording_id": _str(64),
            "patient_id": {"bsonType": INT, "minimum": 1},
            "language": _str(20),
            "model": _str(200),
            "text": _str(2_000_000),
            "segments": {"bsonType": "array", "items": {
                "bsonType": "object", "required": ["start", "end", "text"],
                "properties": {"start": {"bsonType": ["double", "int", "long"]},
                               "end": {"bsonType": ["double", "int", "long"]},
                               "text": _str(100_000)}}},
            "created_at": {"bsonType": "date"},
        },
    }
}
DOCUMENT_META = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "document_id", "patient_id", "content_type", "size", "sha256",
                     "created_at"],
        "properties": {
            "_id": _str(64),
            "document_id": _str(36),
            "patient_id": {"bsonType": INT, "minimum": 1},
            "content_type": _str(200),
            "size": {"bsonType": INT, "minimum": 0},
            "sha256": _str(64, pattern="^[0-9a-f]{64}$"),
            "object_key": _str(512),
            "pages": {"bsonType": INT, "minimum": 0},
            "created_at": {"bsonType": "date"},
        },
    }
}


def v4_notes(db: Db) -> None:
    from backend_client.stores.mongo.setup import ensure_collection

    ensure_collection(db, "note_revisions", NOTE_REVISION)
    revisions = db["note_revisions"]
    revisions.create_index([("note_id", ASCENDING), ("seq", ASCENDING)], unique=True,
                           name="note_seq_unique")
    revisions.create_index([("patient_id", ASCENDING), ("note_id", ASCENDING)],
                           name="patient_note")
    # Search within one patient's notes: the equality prefix keeps it to their entries.
    revisions.create_index([("patient_id", ASCENDING), ("search_text", TEXT)],
                           name="patient_text", default_language="english")
    ensure_collection(db, "note_autosaves", NOTE_AUTOSAVE)
    db["note_autosaves"].create_index([("note_id", ASCENDING), ("author_id", ASCENDING)],
                                      unique=True, name="note_author_unique")
    ensure_collection(db, "text_expanders", TEXT_EXPANDER)
    db["text_expanders"].create_index([("user_id", ASCENDING), ("abbreviation", ASCENDING)],
                                      unique=True, name="user_abbreviation_unique")


def v5_later_documents(db: Db) -> None:
    from backend_client.stores.mongo.setup import ensure_collection

    ensure_collection(db, "ai_drafts", AI_DRAFT)
    db["ai_drafts"].create_index([("patient_id", ASCENDING), ("created_at", DESCENDING)],
                                 name="patient_newest")
    db["ai_drafts"].create_index("note_id", name="note", sparse=True)
    ensure_collection(db, "transcripts", TRANSCRIPT)
    db["transcripts"].create_index("recording_id", unique=True, name="recording_unique")
    db["transcripts"].create_index([("patient_id", ASCENDING), ("created_at", DESCENDING)],
                                   name="patient_newest")
    ensure_collection(db, "document_meta", DOCUMENT_META)
    db["document_meta"].create_index("document_id", unique=True, name="document_unique")
    db["document_meta"].create_index([("patient_id", ASCENDING), ("created_at", DESCENDING)],
                                     name="patient_newest")

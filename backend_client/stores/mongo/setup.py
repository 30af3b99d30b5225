"""Versioned, idempotent MongoDB setup: collections, validators and indexes.

Each step runs once per database (recorded in ``dra_schema``) and is safe to run again
(``collMod`` / ``create_index`` are idempotent), so a crash half-way is finished next time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo.database import Database
from pymongo.errors import CollectionInvalid

from backend_client.stores.mongo import notes_setup as notes

Db = Database[dict[str, Any]]


def ensure_collection(db: Db, name: str, validator: dict[str, Any] | None = None) -> None:
    options: dict[str, Any] = {"validator": validator} if validator else {}
    try:
        db.create_collection(name, **options)
    except CollectionInvalid:  # exists: bring its validator up to date
        if validator:
            db.command("collMod", name, validator=validator)


def _v1_clinic_meta(db: Db) -> None:
    ensure_collection(db, "clinic_meta", {
        "$jsonSchema": {
            "bsonType": "object",
            "required": ["key", "value", "updated_at"],
            "properties": {
                "key": {"bsonType": "string", "maxLength": 100},
                "updated_at": {"bsonType": "date"},
            },
        }
    })
    db["clinic_meta"].create_index("key", unique=True, name="key_unique")


def _v2_drafts(db: Db) -> None:
    ensure_collection(db, "drafts", {
        "$jsonSchema": {
            "bsonType": "object",
            "required": ["user_id", "key", "kind", "title", "payload", "saved_at"],
            "properties": {
                "user_id": {"bsonType": ["int", "long"]},
                "key": {"bsonType": "string", "maxLength": 200},
                "kind": {"bsonType": "string", "maxLength": 100},
                "title": {"bsonType": "string", "maxLength": 300},
                "payload": {"bsonType": "object"},
                "saved_at": {"bsonType": "date"},
            },
        }
    })
    db["drafts"].create_index([("user_id", 1), ("key", 1)], unique=True,
                              name="user_key_unique")
    db["drafts"].create_index([("user_id", 1), ("saved_at", -1)], name="user_newest")


def _v3_sealed_drafts(db: Db) -> None:
    # Kept forms are sealed for their author (backend_client/drafts/store.py): nothing
    # readable may be stored beside the ciphertext. Copies kept in the clear before this
    # are dropped: they cannot be sealed without their author's key.
    ensure_collection(db, "drafts", {
        "$jsonSchema": {
            "bsonType": "object",
            "required": ["user_id", "key", "kind", "sealed", "saved_at"],
            "additionalProperties": False,
            "properties": {
                "_id": {"bsonType": "string"},
                "user_id": {"bsonType": ["int", "long"]},
                "key": {"bsonType": "string", "maxLength": 200},
                "kind": {"bsonType": "string", "maxLength": 100},
                "sealed": {"bsonType": "binData"},
                "saved_at": {"bsonType": "date"},
            },
        }
    })
    db["drafts"].delete_many({"sealed": {"$exists": False}})


HEX32 = "^[0-9a-f]{32}$"
INT = ["int", "long"]
RECORDING_META = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "patient_id", "encounter_id", "note_id", "author_id", "priority",
                     "work_type", "duration_ms", "size", "sha256", "object_key",
                     "content_type", "started_at"],
        "additionalProperties": False,
        "properties": {
            "_id": {"bsonType": "string", "pattern": HEX32},
            "patient_id": {"bsonType": INT, "minimum": 1},
            "encounter_id": {"bsonType": [*INT, "null"]},
            "note_id": {"bsonType": ["string", "null"], "pattern": HEX32},
            "author_id": {"bsonType": INT, "minimum": 1},
            "priority": {"enum": ["routine", "urgent", "stat"]},
            "work_type": {"enum": ["letter", "note", "report"]},
            "duration_ms": {"bsonType": INT, "minimum": 0},
            "size": {"bsonType": INT, "minimum": 1},
            "sha256": {"bsonType": "string", "pattern": "^[0-9a-f]{64}$"},
            "object_key": {"bsonType": "string",
                           "pattern": "^recordings/[0-9a-f]{32}[.]ogg[.]sealed$"},
            "content_type": {"bsonType": "string", "maxLength": 100},
            # The workstation's clock: a label (the record's time is the PostgreSQL row's).
            "started_at": {"bsonType": "date"},
        },
    }
}


def _v6_recording_meta(db: Db) -> None:
    # One document per delivered dictation, keyed by the recording's id: insert-only for
    # the app (a retry's duplicate key means it is there already; delivery compares).
    ensure_collection(db, "recording_meta", RECORDING_META)
    db["recording_meta"].create_index([("patient_id", 1), ("started_at", -1)],
                                      name="patient_newest")
    db["recording_meta"].create_index([("priority", 1), ("started_at", 1)],
                                      name="priority_oldest")


STEPS: list[tuple[int, str, Callable[[Db], None]]] = [
    (1, "clinic_meta collection with validator and unique key", _v1_clinic_meta),
    (2, "drafts collection: unsaved work kept for its author", _v2_drafts),
    (3, "drafts sealed for their author: ciphertext only", _v3_sealed_drafts),
    (4, "clinical notes: immutable revisions, autosaves, text expanders", notes.v4_notes),
    (5, "AI drafts, transcripts and document metadata (filled by later issues)",
     notes.v5_later_documents),
    (6, "dictation metadata (recording_meta): one insert-only document per recording",
     _v6_recording_meta),
]


APP_ROLE = "draApp"
_ALL = ("find", "insert", "update", "remove")
# What the app's MongoDB user may do, by collection (a new collection is added here).
APP_COLLECTIONS: dict[str, tuple[str, ...]] = {
    # Which setup steps are applied (``migrate`` asks before it does anything, also when
    # run with the app's own logins): read only.
    "dra_schema": ("find",),
    "clinic_meta": _ALL,
    "drafts": _ALL,
    "note_revisions": ("find", "insert"),
    "note_autosaves": _ALL,
    "text_expanders": _ALL,
    "ai_drafts": ("find", "insert", "update"),
    "transcripts": ("find", "insert", "update"),
    "document_meta": ("find", "insert", "update"),
    "recording_meta": ("find", "insert"),
}


def grant_app_user(db: Db, username: str) -> None:
    """The app's own MongoDB user (``username``) may work with the documents of the
    collections in ``APP_COLLECTIONS``, as listed there, and nothing else: no other
    collection, no dropping, no indexes or validators, no other database, no user
    administration. Run as a user who may manage roles (the
    embedded stack's owner; on a clinic's servers, the DBA's)."""
    from pymongo.errors import OperationFailure

    # Per collection: a note's revisions may be read and added, never changed or removed,
    # so that what was signed stays as it was, whatever a workstation does with this login.
    privileges = [{"resource": {"db": db.name, "collection": name}, "actions": list(actions)}
                  for name, actions in APP_COLLECTIONS.items()]
    try:
        db.command("createRole", APP_ROLE, privileges=privileges, roles=[])
    except OperationFailure as exc:
        if exc.code != 51002:  # the role exists: bring it up to date
            raise
        db.command("updateRole", APP_ROLE, privileges=privileges, roles=[])
    db.client.admin.command("grantRolesToUser", username,
                            roles=[{"role": APP_ROLE, "db": db.name}])


def applied_versions(db: Db) -> set[int]:
    return {int(d["_id"]) for d in db["dra_schema"].find({}, {"_id": 1})}


def apply(db: Db) -> list[int]:
    """Apply the steps not yet recorded; returns the versions applied now."""
    done = applied_versions(db)
    applied = []
    for version, description, step in STEPS:
        if version in done:
            continue
        step(db)
        db["dra_schema"].update_one(
            {"_id": version},
            # MongoDB's clock, not this computer's.
            {"$setOnInsert": {"description": description},
             "$currentDate": {"applied_at": True}},
            upsert=True,
        )
        applied.append(version)
    return applied

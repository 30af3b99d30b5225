"""Attacks on signed notes with what a workstation holds: the app's own PostgreSQL login
with a doctor's live session named, and the app's own MongoDB user. A signed note must not
change through either, and a revision planted beside it must change nothing anyone sees
(and be reported by the reconciler)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymongo.collection import Collection
from pymongo.errors import OperationFailure
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from backend_client.notes.dto import NoteContent, NoteSummary, SectionContent
from backend_client.notes.reconcile import NoteReconciler
from tests.integration.conftest import tampered
from tests.integration.notes_clinic import (  # noqa: F401 (a fixture)
    NotesClinic,
    new_id,
    notes_clinic_fixture,
)


def _signed(c: NotesClinic, who: str = "doctor") -> NoteSummary:
    notes = c.service(who)
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    content = NoteContent(title=doc.head.content.title, sections=tuple(
        SectionContent(s.key, s.title, {"subjective": "Chest pain on exertion.",
                                        "assessment": "Stable angina.",
                                        "plan": "GTN spray; cardiology referral."}.get(
                           s.key, s.text), s.values)
        for s in doc.head.content.sections))
    r2 = notes.save(doc.summary.id, new_id(), doc.head.id, content)
    return notes.sign(doc.summary.id, r2.id)


@pytest.fixture
def as_doctor(notes_clinic: NotesClinic) -> Iterator[Connection]:
    """The app's login with the doctor's token for the whole connection (a tampered
    workstation): everything his role may do, the database allows."""
    with tampered(notes_clinic.backend.engine) as conn:
        conn.execute(text("SELECT set_config('dra.token', :t, false)"),
                     {"t": notes_clinic.access["doctor"].actor.token})  # type: ignore[union-attr]
        conn.commit()
        yield conn


def _refused(conn: Connection, sql: str, **params: Any) -> str:
    with pytest.raises(DBAPIError) as exc:
        conn.execute(text(sql), params)
    conn.rollback()
    return str(exc.value.orig)


@pytest.mark.parametrize("assignment", [
    "signed_hash = repeat('0', 64)",
    "signed_revision = '0123456789abcdef0123456789abcdef'",
    "head_revision = '0123456789abcdef0123456789abcdef'",
    "title = 'Nothing to see'",
    "status = 'draft', signed_by = NULL, signed_at = NULL, signed_revision = NULL, "
    "signed_hash = NULL",
    "signed_at = signed_at - interval '1 day'",
    "signed_by = (SELECT min(id) FROM users)",
    "cosign_required = true",
    "revision_count = revision_count + 1",
    "mongo_id = 'elsewhere'",
    "patient_id = patient_id + 1",
    "addendum_of = id",
])
def test_a_signed_row_cannot_be_changed_through_the_apps_login(
        notes_clinic: NotesClinic, as_doctor: Connection, assignment: str) -> None:
    note = _signed(notes_clinic)
    before = notes_clinic.owner("SELECT to_jsonb(d) FROM documents d WHERE id = :i",
                                i=note.id)[0][0]
    reason = _refused(as_doctor, f"UPDATE documents SET {assignment} WHERE id = :i",
                      i=note.id)
    assert "signed note cannot be changed" in reason
    after = notes_clinic.owner("SELECT to_jsonb(d) FROM documents d WHERE id = :i",
                               i=note.id)[0][0]
    assert after == before


def test_a_note_is_not_born_signed_nor_signed_in_someone_elses_name(
        notes_clinic: NotesClinic, as_doctor: Connection) -> None:
    c = notes_clinic
    reason = _refused(as_doctor, """
        INSERT INTO documents (id, patient_id, kind, title, mongo_id, status, head_revision,
                               signed_revision, signed_hash, signed_by, signed_at)
        VALUES (CAST(:i AS uuid), :p, 'note', 'Forged', :m, 'signed', :r, :r,
                repeat('0', 64), :u, now())""",
        i=(forged := new_id()), m=forged, p=c.patient, r=new_id(), u=c.users["doctor2"])
    assert "a new document is a draft" in reason
    # Signing a draft names the session's person and the database's clock, whatever is sent.
    doc = c.service("doctor").create(new_id(), c.patient, "soap")
    as_doctor.execute(text(
        "UPDATE documents SET status = 'signed', signed_revision = head_revision, "
        "signed_hash = repeat('a', 64), signed_by = :other, "
        "signed_at = timestamptz '2001-01-01 00:00+00' WHERE id = :i"),
        {"other": c.users["doctor2"], "i": doc.summary.id})
    as_doctor.commit()
    by, at = c.owner("SELECT signed_by, signed_at > timestamptz '2020-01-01' FROM documents "
                     "WHERE id = :i", i=doc.summary.id)[0]
    assert (by, at) == (c.users["doctor"], True)
    # The planted hash does not match the stored content: reading says so.
    assert c.service("doctor").read(doc.summary.id).intact is False


def test_a_nurse_cannot_sign_nor_cosign_through_the_database(notes_clinic: NotesClinic
                                                             ) -> None:
    c = notes_clinic
    doc = c.service("nurse").create(new_id(), c.patient, "soap")
    resident_note = _signed(c, "resident")
    with tampered(c.backend.engine) as conn:
        conn.execute(text("SELECT set_config('dra.token', :t, false)"),
                     {"t": c.access["nurse"].actor.token})  # type: ignore[union-attr]
        conn.commit()   # the token stays named after a refused statement's rollback
        reason = _refused(conn, "UPDATE documents SET status = 'signed', "
                                "signed_revision = head_revision, signed_hash = "
                                "repeat('0', 64), signed_by = 1, signed_at = now() "
                                "WHERE id = :i", i=doc.summary.id)
        assert "may not sign" in reason
        reason = _refused(conn, "UPDATE documents SET cosigned_by = 1, cosigned_at = now() "
                                "WHERE id = :i", i=resident_note.id)
        assert "may not co-sign" in reason


def test_even_the_schema_owner_cannot_change_a_signed_row(notes_clinic: NotesClinic) -> None:
    note = _signed(notes_clinic)
    with pytest.raises(DBAPIError, match="signed note cannot be changed"):
        notes_clinic.owner("UPDATE documents SET signed_hash = repeat('0', 64) "
                           "WHERE id = :i", i=note.id)


Attempt = Callable[[Collection[dict[str, Any]], str], object]
ATTEMPTS: dict[str, Attempt] = {
    "update_one": lambda coll, rid: coll.update_one(
        {"_id": rid}, {"$set": {"content.sections.0.text": "Nothing wrong."}}),
    "update_many": lambda coll, rid: coll.update_many(
        {"_id": rid}, {"$set": {"content_hash": "0" * 64}}),
    "replace_one": lambda coll, rid: coll.replace_one(
        {"_id": rid}, {**(coll.find_one({"_id": rid}) or {}), "author": "Someone else"}),
    "delete_one": lambda coll, rid: coll.delete_one({"_id": rid}),
    "delete_many": lambda coll, rid: coll.delete_many({"_id": rid}),
    "find_one_and_update": lambda coll, rid: coll.find_one_and_update(
        {"_id": rid}, {"$set": {"search_text": ""}}),
    "find_one_and_replace": lambda coll, rid: coll.find_one_and_replace(
        {"_id": rid}, {"note_id": "x"}),
    "find_one_and_delete": lambda coll, rid: coll.find_one_and_delete({"_id": rid}),
    "drop": lambda coll, rid: coll.drop(),
    "collMod": lambda coll, rid: coll.database.command(
        "collMod", "note_revisions", validator={}),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_the_apps_mongodb_user_cannot_change_a_revision(notes_clinic: NotesClinic,
                                                        attempt: str) -> None:
    note = _signed(notes_clinic)
    coll = notes_clinic.backend.mongo_db["note_revisions"]   # the app's own MongoDB user
    before = coll.find_one({"_id": note.head_revision})
    with pytest.raises(OperationFailure) as exc:
        ATTEMPTS[attempt](coll, note.head_revision)
    assert exc.value.code == 13, exc.value                     # Unauthorized
    assert coll.find_one({"_id": note.head_revision}) == before
    assert notes_clinic.service("doctor").read(note.id).intact


def test_a_planted_revision_changes_nothing_and_is_reported(notes_clinic: NotesClinic
                                                            ) -> None:
    c = notes_clinic
    note = _signed(c)
    notes = c.service("doctor")
    shown = notes.read(note.id)
    history = notes.history(note.id)
    coll = c.backend.mongo_db["note_revisions"]
    genuine = coll.find_one({"_id": note.head_revision})
    assert genuine is not None
    forged = dict(genuine, _id=new_id(), seq=genuine["seq"] + 1,
                  parent_id=note.head_revision,
                  content={"title": genuine["content"]["title"], "sections": [
                      {"key": "plan", "title": "Plan", "text": "No referral needed.",
                       "values": {}}]},
                  search_text="No referral needed.")
    coll.insert_one(forged)                 # the app's user may insert: so may an attacker
    assert notes.read(note.id) == shown and shown.intact
    assert notes.history(note.id) == history
    assert notes.search(c.patient, "needed") == ()     # only the planted text says it
    findings = NoteReconciler(c.backend.owner_engine, c.backend.mongo_db).run(
        patient_id=c.patient, finish=True)
    assert [(f.kind, f.note_id, f.revision_id, f.finished) for f in findings] == [
        ("unlinked", note.id, forged["_id"], False)]
    assert notes.read(note.id) == shown


@pytest.mark.parametrize("collection", ["dra_schema", "anything_new", "system.js"])
def test_the_apps_mongodb_user_writes_only_the_collections_it_is_given(
        notes_clinic: NotesClinic, collection: str) -> None:
    db = notes_clinic.backend.mongo_db
    with pytest.raises(OperationFailure) as exc:
        db[collection].insert_one({"_id": new_id(), "planted": True})
    assert exc.value.code == 13
    # ... and may still do its work in the ones it has.
    db["note_autosaves"].find_one({})


def test_tampering_with_mongodbs_owner_login_shows_on_reading(notes_clinic: NotesClinic
                                                              ) -> None:
    """Someone with more than the app holds (MongoDB's owner) edits the signed text: the
    note is shown as not intact, and the reconciler names it."""
    c = notes_clinic
    note = _signed(c)
    owner = c.backend.owner_mongo_db["note_revisions"]
    owner.update_one({"_id": note.head_revision},
                     {"$set": {"content.sections.0.text": "Nothing happened."}})
    read = c.service("doctor").read(note.id)
    assert read.intact is False
    assert read.head is not None and read.head.content.sections[0].text == "Nothing happened."
    findings = NoteReconciler(c.backend.owner_engine, c.backend.mongo_db).run(
        patient_id=c.patient)
    assert [(f.kind, f.revision_id) for f in findings] == [("altered", note.head_revision)]
    assert "no longer matches its signed hash" in findings[0].sentence

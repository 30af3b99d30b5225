"""Attacks on dictations with what a workstation holds: the app's own PostgreSQL login, with
or without a live session named (migration 0013). The data key stays unreadable, rows are
only ever inserted pending and for the session's own person, and only
``recording_delivered`` turns one uploaded, once. The app's MongoDB user may only find and
insert the metadata documents, in their one shape."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg import errors as pg
from pymongo.errors import OperationFailure, WriteError
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from backend_client.dictation.upload import delivery_proof
from tests.integration.dictation_clinic import (  # noqa: F401 (a fixture)
    DictationClinic,
    dictation_clinic_fixture,
)

# The workstation that records (its key makes the delivery proof the row checks).
KEY = os.urandom(32)
INSERT = ("INSERT INTO recordings (id, patient_id, author_id, priority, work_type, "
          "delivery_check) VALUES (:i, :p, :a, 'routine', 'letter', sha256(:proof))")
DELIVER = "SELECT recording_delivered(:i, :k, :s, :n, :d, :key, :proof)"


def _with(column: str, value: str) -> str:
    """INSERT with one more column set."""
    sql = INSERT.replace("delivery_check)", f"delivery_check, {column})").replace(
        "sha256(:proof))", f"sha256(:proof), {value})")
    assert sql.count(column) == 1 and sql.count(value) == 1
    return sql


def _proof(rid: uuid.UUID) -> bytes:
    return delivery_proof(KEY, rid.hex)


def _refused(conn: Connection, sql: str, **params: Any) -> DBAPIError:
    with pytest.raises(DBAPIError) as exc, conn.begin_nested():
        conn.execute(text(sql), params)
    return exc.value


def _pending(c: DictationClinic, who: str = "doctor") -> uuid.UUID:
    rid = uuid.uuid4()
    with c.backend.engine.begin() as conn:
        conn.execute(text("SELECT set_config('dra.token', :t, true)"), {"t": c.token(who)})
        conn.execute(text(INSERT), {"i": rid, "p": c.patient, "a": c.users[who],
                                    "proof": _proof(rid)})
    return rid


def _delivery(rid: uuid.UUID, **changes: Any) -> dict[str, Any]:
    values = {"i": rid, "k": f"recordings/{rid.hex}.ogg.sealed",
              "s": hashlib.sha256(rid.bytes).hexdigest(), "n": 1234, "d": 5000,
              "key": hashlib.sha256(b"key" + rid.bytes).digest(), "proof": _proof(rid)}
    values.update(changes)
    return values


def _deliver(c: DictationClinic, rid: uuid.UUID, **changes: Any) -> str:
    with c.backend.engine.begin() as conn:   # no session: the queue may run signed out
        return str(conn.execute(text(DELIVER), _delivery(rid, **changes)).scalar_one())


def test_the_data_key_is_not_readable_by_the_apps_login(dictation_clinic: DictationClinic
                                                        ) -> None:
    c = dictation_clinic
    rid = _pending(c)
    assert _deliver(c, rid) == "delivered"
    with c.app("doctor") as conn:
        assert conn.execute(text("SELECT count(*) FROM recordings WHERE id = :i"),
                            {"i": rid}).scalar_one() == 1
        for sql in ("SELECT data_key FROM recordings", "SELECT * FROM recordings",
                    "SELECT to_jsonb(r) FROM recordings r"):
            exc = _refused(conn, sql)
            assert isinstance(exc.orig, pg.InsufficientPrivilege), sql


@pytest.mark.parametrize(("who", "author", "sql"), [
    # for another author
    ("doctor", "doctor2", INSERT),
    # as delivered, or with a key or an object of its own choosing
    ("doctor", "doctor", _with("status", "'uploaded'")),
    ("doctor", "doctor", _with("data_key", "'\\x00'::bytea")),
    ("doctor", "doctor", _with("object_key", "'recordings/elsewhere'")),
    # without the check its delivery must answer
    ("doctor", "doctor", INSERT.replace(", delivery_check)", ")")
     .replace(", sha256(:proof))", ")")),
    # roles that may not dictate, and nobody signed in
    ("nurse", "nurse", INSERT),
    ("reception", "reception", INSERT),
    ("typist", "typist", INSERT),
    (None, "doctor", INSERT),
])
def test_rows_are_inserted_pending_and_only_for_the_sessions_own_person(
        dictation_clinic: DictationClinic, who: str | None, author: str, sql: str) -> None:
    c = dictation_clinic
    rid = uuid.uuid4()
    params = {"i": rid, "p": c.patient, "a": c.users[author], "proof": _proof(rid)}
    with c.app(who) as conn:
        exc = _refused(conn, sql, **{k: v for k, v in params.items() if f":{k}" in sql})
    assert isinstance(exc.orig, pg.InsufficientPrivilege)


@pytest.mark.parametrize("sql", [
    "UPDATE recordings SET priority = 'stat' WHERE id = :i",
    "UPDATE recordings SET status = 'uploaded' WHERE id = :i",
    "DELETE FROM recordings WHERE id = :i",
    "TRUNCATE recordings",
])
def test_the_app_updates_and_deletes_no_row(dictation_clinic: DictationClinic, sql: str
                                            ) -> None:
    c = dictation_clinic
    rid = _pending(c)
    with c.app("doctor") as conn:
        exc = _refused(conn, sql, i=rid)
    assert isinstance(exc.orig, pg.InsufficientPrivilege)
    assert c.owner("SELECT status, priority FROM recordings WHERE id = :i", i=rid) == [
        ("pending", "routine")]


def test_a_pending_row_is_invisible_even_to_its_author(dictation_clinic: DictationClinic
                                                       ) -> None:
    c = dictation_clinic
    rid = _pending(c)
    with c.app("doctor") as conn:
        assert conn.execute(text("SELECT count(*) FROM recordings WHERE id = :i"),
                            {"i": rid}).scalar_one() == 0
        assert conn.execute(text("SELECT status FROM recording_data_key(:i)"),
                            {"i": rid}).scalar_one() == "missing"


def test_delivery_is_once_and_idempotent(dictation_clinic: DictationClinic) -> None:
    c = dictation_clinic
    rid = _pending(c)
    assert _deliver(c, rid) == "delivered"
    assert _deliver(c, rid) == "already"
    for changes in ({"s": "0" * 64}, {"n": 99}, {"d": 1}, {"key": os.urandom(32)}):
        with pytest.raises(DBAPIError) as exc:
            _deliver(c, rid, **changes)
        assert exc.value.orig.sqlstate == "DRA23", changes  # type: ignore[union-attr]
    row = c.owner("SELECT status, sha256, size_bytes, duration_ms, data_key FROM recordings "
                  "WHERE id = :i", i=rid)[0]
    expected = _delivery(rid)
    assert tuple(row) == ("uploaded", expected["s"], 1234, 5000, expected["key"])


@pytest.mark.parametrize("changes", [
    {"k": "recordings/elsewhere.ogg.sealed"}, {"s": "not hex"}, {"n": 0},
    {"key": b"short"}, {"d": -1},
])
def test_delivery_names_the_derived_object_and_sound_values(
        dictation_clinic: DictationClinic, changes: dict[str, Any]) -> None:
    c = dictation_clinic
    rid = _pending(c)
    with pytest.raises(DBAPIError) as exc:
        _deliver(c, rid, **changes)
    assert exc.value.orig.sqlstate == "DRA22"  # type: ignore[union-attr]
    assert c.owner("SELECT status FROM recordings WHERE id = :i", i=rid) == [("pending",)]


def test_only_the_recording_workstation_can_deliver(dictation_clinic: DictationClinic) -> None:
    """Someone who learns a pending id (the MongoDB document comes before the row) cannot
    deliver it with values of their own, nor confirm the real ones, without the proof."""
    c = dictation_clinic
    rid = _pending(c)
    for proof in (None, b"", os.urandom(32), delivery_proof(os.urandom(32), rid.hex)):
        with pytest.raises(DBAPIError) as exc:
            _deliver(c, rid, proof=proof, s="1" * 64)
        assert exc.value.orig.sqlstate == "DRA24"  # type: ignore[union-attr]
    assert _deliver(c, rid) == "delivered"
    with pytest.raises(DBAPIError) as exc:
        _deliver(c, rid, proof=os.urandom(32))
    assert exc.value.orig.sqlstate == "DRA24"  # type: ignore[union-attr]


def test_an_unregistered_recording_cannot_be_delivered(dictation_clinic: DictationClinic
                                                       ) -> None:
    with pytest.raises(DBAPIError) as exc:
        _deliver(dictation_clinic, uuid.uuid4())
    assert exc.value.orig.sqlstate == "DRA21"  # type: ignore[union-attr]


def test_the_data_key_goes_to_readers_only_and_every_play_is_audited(
        dictation_clinic: DictationClinic) -> None:
    c = dictation_clinic
    rid = _pending(c)
    _deliver(c, rid)
    key = _delivery(rid)["key"]
    answers = {}
    for who in ("doctor", "nurse", "typist", "reception", None):
        with c.backend.engine.begin() as conn:
            if who:
                conn.execute(text("SELECT set_config('dra.token', :t, true)"),
                             {"t": c.token(who)})
            answers[who] = tuple(conn.execute(
                text("SELECT status, data_key FROM recording_data_key(:i)"), {"i": rid}).one())
    assert answers == {"doctor": ("ok", key), "nurse": ("ok", key), "typist": ("ok", key),
                       "reception": ("denied", None), None: ("signed_out", None)}
    events = c.owner("SELECT action, user_id, object_id FROM audit_events "
                     "WHERE action IN ('recording.play', 'access.denied') AND user_id = ANY(:u) "
                     "ORDER BY id", u=list(c.users.values()))
    assert [(a, u) for a, u, _ in events] == [
        ("recording.play", c.users["doctor"]), ("recording.play", c.users["nurse"]),
        ("recording.play", c.users["typist"]), ("access.denied", c.users["reception"])]
    assert [o for a, _, o in events if a == "recording.play"] == [rid.hex] * 3


def test_reception_sees_no_recording_row(dictation_clinic: DictationClinic) -> None:
    c = dictation_clinic
    rid = _pending(c)
    _deliver(c, rid)
    with c.app("reception") as conn:
        assert conn.execute(text("SELECT count(*) FROM recordings WHERE id = :i"),
                            {"i": rid}).scalar_one() == 0
    with c.app("typist") as conn:
        assert conn.execute(text("SELECT status FROM recordings WHERE id = :i"),
                            {"i": rid}).scalar_one() == "uploaded"


def test_a_registration_is_audited_as_its_authors(dictation_clinic: DictationClinic) -> None:
    c = dictation_clinic
    rid = _pending(c)
    rows = c.owner("SELECT action, user_id, workstation FROM audit_events "
                   "WHERE object_type = 'recordings' AND object_id = :i", i=str(rid))
    assert rows == [("row.insert", c.users["doctor"], "WS-doctor")]


# ------------------------------------------------------------------ MongoDB


def _meta(rid: str, **extra: Any) -> dict[str, Any]:
    return {"_id": rid, "patient_id": 1, "encounter_id": None, "note_id": None,
            "author_id": 1, "priority": "stat", "work_type": "letter", "duration_ms": 1000,
            "size": 10, "sha256": "0" * 64, "object_key": f"recordings/{rid}.ogg.sealed",
            "content_type": "audio/ogg; codecs=opus",
            "started_at": datetime(2026, 12, 3, tzinfo=UTC), **extra}


def test_the_apps_mongodb_user_only_finds_and_inserts_recording_meta(
        dictation_clinic: DictationClinic) -> None:
    c = dictation_clinic
    coll = c.backend.mongo_db["recording_meta"]          # the app's own MongoDB user
    rid = uuid.uuid4().hex
    try:
        coll.insert_one(_meta(rid))
        for attempt in (lambda: coll.update_one({"_id": rid}, {"$set": {"priority": "routine"}}),
                        lambda: coll.replace_one({"_id": rid}, _meta(rid, size=99)),
                        lambda: coll.delete_one({"_id": rid}),
                        lambda: coll.drop_indexes(),
                        lambda: c.backend.mongo_db.command("collMod", "recording_meta",
                                                           validator={})):
            with pytest.raises(OperationFailure, match="not authorized"):
                attempt()
        assert coll.find_one({"_id": rid}) == _meta(rid)
        # The validator refuses anything but the shape delivery writes.
        for bad in (_meta(uuid.uuid4().hex, transcript="typed here"),
                    _meta(uuid.uuid4().hex, priority="asap"),
                    _meta(uuid.uuid4().hex, object_key="recordings/elsewhere")):
            with pytest.raises(WriteError):
                coll.insert_one(bad)
    finally:
        c.backend.owner_mongo_db["recording_meta"].delete_many({"_id": rid})

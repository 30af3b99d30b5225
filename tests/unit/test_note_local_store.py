"""The local copy of notes being written: durable, sealed for its author, offered until
MongoDB holds the same content."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backend_client.notes.dto import NoteContent, SectionContent
from backend_client.notes.local_store import LocalNoteStore, content_hash

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def content(text: str) -> NoteContent:
    return NoteContent("Follow-up", (
        SectionContent("subjective", "Subjective", text),
        SectionContent("vitals", "Vitals", values=(("systolic", "128"), ("pulse", "72"))),
    ))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "notes.sqlite3"


def test_a_put_is_offered_back_after_reopening(path: Path) -> None:
    store = LocalNoteStore(path, 7, KEY)
    store.put("n1", 42, "Müller, Anna · MRN 000123", "Follow-up", "rev-1",
              content("Cough for three weeks"))
    store.close()
    again = LocalNoteStore(path, 7, KEY)
    (note,) = again.pending()
    assert (note.note_id, note.patient_id, note.base_revision) == ("n1", 42, "rev-1")
    assert note.patient_label == "Müller, Anna · MRN 000123"
    assert note.content == content("Cough for three weeks")
    again.close()


def test_the_newest_put_replaces_the_previous(path: Path) -> None:
    store = LocalNoteStore(path, 7, KEY)
    for text in ("Cou", "Cough", "Cough for three weeks"):
        store.put("n1", 42, "A", "T", None, content(text))
    assert [n.content for n in store.pending()] == [content("Cough for three weeks")]


def test_nothing_readable_is_on_disk(path: Path) -> None:
    store = LocalNoteStore(path, 7, KEY)
    store.put("n1", 42, "Müller, Anna", "Chest pain review", None,
              content("crushing retrosternal pain"))
    store.close()
    raw = b"".join(p.read_bytes() for p in path.parent.iterdir())
    for secret in ("Müller", "Chest pain", "retrosternal", "systolic"):
        assert secret.encode() not in raw
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_pushed_content_is_not_offered_but_a_newer_edit_is(path: Path) -> None:
    store = LocalNoteStore(path, 7, KEY)
    store.put("n1", 42, "A", "T", None, content("one"))
    store.mark_pushed("n1", content_hash(content("one")))
    assert store.pending() == ()
    store.put("n1", 42, "A", "T", None, content("one two"))
    assert len(store.pending()) == 1
    # MongoDB confirming an older text does not hide the newer local one.
    store.mark_pushed("n1", content_hash(content("one")))
    assert len(store.pending()) == 1
    store.mark_pushed("n1", content_hash(content("one two")))
    assert store.pending() == ()
    assert store.get("n1") is not None  # still kept locally, just not offered


def test_discard_forgets_the_copy(path: Path) -> None:
    store = LocalNoteStore(path, 7, KEY)
    store.put("n1", 42, "A", "T", None, content("one"))
    store.put("n2", 43, "B", "T", None, content("two"))
    store.discard("n1")
    assert [n.note_id for n in store.pending()] == ["n2"]


def test_another_author_sees_nothing_and_a_wrong_key_opens_nothing(path: Path) -> None:
    mine = LocalNoteStore(path, 7, KEY)
    mine.put("n1", 42, "A", "T", None, content("one"))
    other = LocalNoteStore(path, 8, OTHER_KEY)
    assert other.pending() == ()
    assert LocalNoteStore(path, 7, OTHER_KEY).pending() == ()  # e.g. after a new password
    assert len(mine.pending()) == 1


def test_a_copy_moved_to_another_note_fails_to_open(path: Path) -> None:
    store = LocalNoteStore(path, 7, KEY)
    store.put("n1", 42, "A", "T", None, content("one"))
    store.put("n2", 42, "A", "T", None, content("two"))
    store.close()
    with sqlite3.connect(path) as db:  # someone swaps the sealed blobs
        (blob,) = db.execute("SELECT sealed FROM local_notes WHERE note_id='n1'").fetchone()
        db.execute("UPDATE local_notes SET sealed=? WHERE note_id='n2'", (blob,))
    store = LocalNoteStore(path, 7, KEY)
    assert [n.note_id for n in store.pending()] == ["n1"]


def test_the_file_is_in_wal_mode_with_full_sync(path: Path) -> None:
    store = LocalNoteStore(path, 7, KEY)
    db = store._conn()  # noqa: SLF001 (asserting the durability settings themselves)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_short_key_is_refused(path: Path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        LocalNoteStore(path, 7, b"short")


def test_a_closed_store_says_so(path: Path) -> None:
    store = LocalNoteStore(path, 7, KEY)
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.put("n1", 1, "A", "T", None, content("x"))

"""Clinical notes on real MongoDB and PostgreSQL, through the app's own logins and real
sessions: revisions, conflicts, signing, addenda, co-signature, search, history, RBAC and
the audit of reads."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid

import pytest
from pymongo.errors import WriteError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend_client.errors import (
    IllegalTransition,
    NoteConflict,
    PermissionDenied,
    Unavailable,
    ValidationError,
)
from backend_client.local_stack.process import free_port
from backend_client.notes.dto import MergeResult, NoteContent, NoteDocument, SectionContent
from backend_client.notes.merge import resolve
from backend_client.notes.reconcile import NoteReconciler, run_cli
from backend_client.notes.service import NotesService
from backend_client.notes.store import NoteStore
from backend_client.notes.templates import TemplateLibrary
from backend_client.stores.mongo.client import build_mongo_client
from tests.integration.conftest import tampered
from tests.integration.notes_clinic import (  # noqa: F401 (a fixture)
    NotesClinic,
    new_id,
    notes_clinic_fixture,
)


def edit(doc_or_content: NoteDocument | NoteContent, **texts: str) -> NoteContent:
    content = (doc_or_content.head.content if isinstance(doc_or_content, NoteDocument)
               and doc_or_content.head else doc_or_content)
    assert isinstance(content, NoteContent)
    return NoteContent(title=content.title, sections=tuple(
        SectionContent(s.key, s.title, texts.get(s.key, s.text), s.values)
        for s in content.sections))


def with_values(content: NoteContent, key: str, **values: str) -> NoteContent:
    return NoteContent(title=content.title, sections=tuple(
        SectionContent(s.key, s.title, s.text, tuple(sorted(values.items())))
        if s.key == key else s for s in content.sections))


def signable(doc: NoteDocument) -> NoteContent:
    return edit(doc, subjective="Cough for three days.", assessment="Viral bronchitis.",
                plan="Fluids, review in a week.")


def test_create_is_idempotent_and_fills_smart_sections(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    assert {"soap", "progress", "referral_letter", "discharge_summary"} <= {
        t.id for t in notes.templates()}
    note_id = new_id()
    first = notes.create(note_id, c.patient, "soap", title="Cough")
    again = notes.create(note_id, c.patient, "soap", title="Cough")
    assert again.summary.id == first.summary.id == note_id
    assert again.head == first.head and first.head is not None
    assert first.summary.revision_count == 1 and first.summary.status == "draft"
    allergies = first.head.content.section("allergies")
    assert allergies is not None and "Penicillin (rash)" in allergies.text
    listed = notes.notes(c.patient)
    assert [n.id for n in listed] == [note_id]
    # The author is the session's person, set by the database.
    assert listed[0].author_id == c.users["doctor"] and listed[0].author.startswith("Doctor")
    assert any(e.kind == "note" and e.id == c.patient and e.action == "saved"
               for e in c.events.seen)
    with pytest.raises(ValidationError, match="That patient does not exist"):
        notes.create(new_id(), 10**12, "soap")
    assert c.backend.mongo_db["note_revisions"].find_one({"patient_id": 10**12}) is None
    with pytest.raises(ValidationError, match="no note template 'memo'"):
        notes.create(new_id(), c.patient, "memo")
    with pytest.raises(ValidationError, match="32 lowercase hexadecimal"):
        notes.create("not-an-id", c.patient, "soap")


def test_every_save_is_a_revision_with_server_time_and_hash(notes_clinic: NotesClinic
                                                            ) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    r2_id, r3_id = new_id(), new_id()
    r2 = notes.save(doc.summary.id, r2_id, doc.head.id, edit(doc, subjective="Day one."))
    r3 = notes.save(doc.summary.id, r3_id, r2.id, edit(r2.content, subjective="Day two."))
    # A retried save (same id) is the same revision, not a new one.
    assert notes.save(doc.summary.id, r3_id, r2.id, edit(r2.content, subjective="Day two.")
                      ) == r3
    # ... even after someone else saved on top of it (the answer was lost, not the save).
    assert c.service("doctor2").save(doc.summary.id, r2_id, doc.head.id,
                                     edit(doc, subjective="Day one.")) == r2
    history = notes.history(doc.summary.id)
    assert [r.id for r in history] == [doc.head.id, r2_id, r3_id]
    assert [r.seq for r in history] == [1, 2, 3]
    assert history[0].saved_at < history[1].saved_at < history[2].saved_at
    db_now = c.owner("SELECT clock_timestamp()")[0][0]
    assert history[2].saved_at <= db_now
    for r in history:
        canonical = json.dumps({"title": r.content.title, "sections": [
            {"key": s.key, "title": s.title, "text": s.text, "values": dict(s.values)}
            for s in r.content.sections]}, sort_keys=True, separators=(",", ":"),
            ensure_ascii=False).encode()
        assert r.content_hash == hashlib.sha256(canonical).hexdigest()
    row = c.owner("SELECT head_revision, revision_count FROM documents WHERE id = :i",
                  i=doc.summary.id)[0]
    assert tuple(row) == (r3_id, 3)
    listed = notes.notes(c.patient)[0]
    assert listed.updated_at > listed.created_at and listed.version == 3
    current = notes.read(doc.summary.id)
    assert current.head is not None and current.head.content.section("subjective").text == (  # type: ignore[union-attr]
        "Day two.")


def test_a_value_outside_its_range_is_named(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    bad = with_values(doc.head.content, "vitals", pulse="400", systolic="12O")
    with pytest.raises(ValidationError) as exc:
        notes.save(doc.summary.id, new_id(), doc.head.id, bad)
    assert "Pulse 400 /min is outside 20–250 /min" in str(exc.value)
    assert "Systolic pressure must be a number" in str(exc.value)
    assert len(notes.history(doc.summary.id)) == 1


def test_two_authors_conflict_and_the_second_keeps_a_merge(notes_clinic: NotesClinic
                                                           ) -> None:
    c = notes_clinic
    first, second = c.service("doctor"), c.service("doctor2")
    doc = first.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    base = doc.head
    theirs = first.save(doc.summary.id, new_id(), base.id,
                        edit(doc, subjective="Fever since Monday.", objective="Chest clear."))
    mine = edit(doc, subjective="Fever, and a cough.", plan="Paracetamol.")
    with pytest.raises(NoteConflict) as exc:
        second.save(doc.summary.id, new_id(), base.id, mine)
    assert "Doctor" in str(exc.value) and exc.value.changed_by == theirs.author
    merge = exc.value.merge
    assert isinstance(merge, MergeResult)
    by_key = {s.key: s for s in merge.sections}
    assert by_key["objective"].merged == "Chest clear."           # only they changed it
    assert by_key["plan"].merged == "Paracetamol."                # only I changed it
    assert by_key["subjective"].conflicted                        # both, differently
    assert (by_key["subjective"].mine, by_key["subjective"].theirs) == (
        "Fever, and a cough.", "Fever since Monday.")
    assert merge.base == base and merge.theirs == theirs
    # Nothing was written by the refused save.
    assert [r.id for r in second.history(doc.summary.id)] == [base.id, theirs.id]
    merged = resolve(merge, {"subjective": "mine"})
    kept = second.keep_theirs_as_mine(doc.summary.id, new_id(), theirs.id, merged)
    assert kept.parent_id == theirs.id and kept.author.startswith("Doctor2")
    head = second.read(doc.summary.id).head
    assert head is not None and head.id == kept.id
    assert {s.key: s.text for s in head.content.sections if s.text}.items() >= {
        "subjective": "Fever, and a cough.", "objective": "Chest clear.",
        "plan": "Paracetamol."}.items()


def _race(c: NotesClinic, note_id: str, parent: str, contents: list[NoteContent]
          ) -> list[object]:
    """Two workstations press save at the same moment on the same revision."""
    services = [c.service("doctor"), c.service("doctor2")]
    start = threading.Barrier(2)
    outcome: list[object] = [None, None]

    def save(k: int) -> None:
        start.wait()
        try:
            outcome[k] = services[k].save(note_id, new_id(), parent, contents[k])
        except NoteConflict as exc:
            outcome[k] = exc

    threads = [threading.Thread(target=save, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcome


def test_two_saves_racing_from_one_revision_make_one_head(notes_clinic: NotesClinic
                                                          ) -> None:
    """Exactly one becomes the head; the other gets the conflict whose "theirs" is the
    winner (threads, real stores), five rounds in a row."""
    c = notes_clinic
    doc = c.service("doctor").create(new_id(), c.patient, "soap")
    assert doc.head is not None
    parent = doc.head.id
    for round_ in range(5):
        outcome = _race(c, doc.summary.id, parent, [
            edit(doc, subjective=f"round {round_} by {k}") for k in range(2)])
        won = [o for o in outcome if not isinstance(o, NoteConflict)]
        lost = [o for o in outcome if isinstance(o, NoteConflict)]
        assert len(won) == 1 and len(lost) == 1, outcome
        assert isinstance(lost[0].merge, MergeResult) and lost[0].merge.theirs == won[0]
        head = c.service("doctor").read(doc.summary.id).head
        assert head is not None and head == won[0]
        parent = head.id
    assert len(c.service("doctor").history(doc.summary.id)) == 6


def test_signing_freezes_the_note(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    with pytest.raises(ValidationError) as empty:
        notes.sign(doc.summary.id, doc.head.id)
    assert "Subjective must be filled in before signing" in str(empty.value)
    r2 = notes.save(doc.summary.id, new_id(), doc.head.id, signable(doc))
    signed = notes.sign(doc.summary.id, r2.id)
    assert signed.status == "signed" and signed.signed_by.startswith("Doctor")
    assert signed.signed_at is not None and not signed.cosign_required
    with pytest.raises(IllegalTransition, match="signed and cannot be changed"):
        notes.save(doc.summary.id, new_id(), r2.id, edit(r2.content, plan="Changed."))
    with pytest.raises(IllegalTransition):
        notes.autosave(doc.summary.id, r2.id, edit(r2.content, plan="Changed."))
    with pytest.raises(IllegalTransition):
        notes.sign(doc.summary.id, r2.id)
    read = notes.read(doc.summary.id)
    assert read.intact and read.head == r2
    row = c.owner("SELECT signed_revision, signed_hash, signed_by FROM documents "
                  "WHERE id = :i", i=doc.summary.id)[0]
    assert tuple(row) == (r2.id, r2.content_hash, c.users["doctor"])
    assert any(e.action == "signed" for e in c.events.seen)


def test_an_addendum_is_shown_with_the_unchanged_original(notes_clinic: NotesClinic
                                                          ) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    r2 = notes.save(doc.summary.id, new_id(), doc.head.id, signable(doc))
    notes.sign(doc.summary.id, r2.id)
    draft = notes.create(new_id(), c.patient, "soap")
    with pytest.raises(IllegalTransition, match="Only a signed note takes an addendum"):
        notes.add_addendum(draft.summary.id, "A draft is edited, not amended.")
    addendum_id = new_id()
    added = notes.add_addendum(doc.summary.id, "Allergy to penicillin confirmed by GP.",
                               addendum_id=addendum_id)
    assert notes.add_addendum(doc.summary.id, "Allergy to penicillin confirmed by GP.",
                              addendum_id=addendum_id) == added       # a retry: one addendum
    assert added.status == "signed" and added.addendum_of == doc.summary.id
    read = notes.read(doc.summary.id)
    assert read.head == r2 and read.intact
    assert [a.summary.id for a in read.addenda] == [addendum_id]
    assert read.addenda[0].head is not None
    assert read.addenda[0].head.content.sections[0].text == (
        "Allergy to penicillin confirmed by GP.")


def test_a_residents_signature_waits_for_a_doctors(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    resident = c.service("resident")
    doc = resident.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    r2 = resident.save(doc.summary.id, new_id(), doc.head.id, signable(doc))
    with pytest.raises(PermissionDenied):
        c.service("nurse").sign(doc.summary.id, r2.id)
    signed = resident.sign(doc.summary.id, r2.id)
    assert signed.status == "signed" and signed.cosign_required and not signed.cosigned_by
    with pytest.raises(PermissionDenied):
        resident.cosign(doc.summary.id)
    cosigned = c.service("doctor").cosign(doc.summary.id)
    assert cosigned.cosigned_by.startswith("Doctor") and cosigned.cosigned_at is not None
    with pytest.raises(IllegalTransition):
        c.service("doctor2").cosign(doc.summary.id)
    assert c.service("doctor").read(doc.summary.id).head == r2


def test_search_finds_a_patients_newest_revisions(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    one = notes.create(new_id(), c.patient, "soap", title="Knee")
    two = notes.create(new_id(), c.patient, "soap", title="Ear")
    assert one.head is not None and two.head is not None
    r = notes.save(one.summary.id, new_id(), one.head.id,
                   edit(one, subjective="Swollen knee after football."))
    notes.save(one.summary.id, new_id(), r.id, edit(r.content, subjective="Knee better."))
    notes.save(two.summary.id, new_id(), two.head.id,
               edit(two, subjective="Otitis externa, swimmer."))
    assert [h.note_id for h in notes.search(c.patient, "swimmer")] == [two.summary.id]
    assert notes.search(c.patient, "football") == ()     # only in an older revision
    hits = notes.search(c.patient, "knee")
    assert [h.note_id for h in hits] == [one.summary.id] and "Knee better" in hits[0].snippet
    other = c.new_patient()
    assert notes.search(other, "swimmer") == ()


def test_history_and_a_readable_diff(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    r2 = notes.save(doc.summary.id, new_id(), doc.head.id,
                    edit(doc, subjective="Line one\nLine two"))
    r3 = notes.save(doc.summary.id, new_id(), r2.id,
                    edit(r2.content, subjective="Line one\nLine 2", plan="Rest."))
    d = notes.diff(doc.summary.id, r2.id, r3.id)
    changed = [(x.kind, x.section, x.text) for x in d.lines if x.kind != " "]
    assert changed == [("-", "Subjective", "Line two"), ("+", "Subjective", "Line 2"),
                       ("+", "Plan", "Rest.")]
    assert (" ", "Subjective", "Line one") in [(x.kind, x.section, x.text) for x in d.lines]
    assert not notes.diff(doc.summary.id, r3.id, r3.id).changed


def test_autosave_is_offered_until_the_next_save(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    typing = edit(doc, subjective="Half a sen")
    notes.autosave(doc.summary.id, doc.head.id, typing)
    notes.autosave(doc.summary.id, doc.head.id, edit(doc, subjective="Half a sentence"))
    assert notes.working_copy(doc.summary.id) == (doc.head.id,
                                                  edit(doc, subjective="Half a sentence"))
    assert c.service("doctor2").working_copy(doc.summary.id) is None   # only the author's
    notes.save(doc.summary.id, new_id(), doc.head.id, edit(doc, subjective="Half a sentence"))
    assert notes.working_copy(doc.summary.id) is None


def test_text_expanders_shipped_and_personal(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    shipped = {e.abbreviation: e for e in notes.expanders()}
    assert shipped[".sob"].expansion == "shortness of breath" and len(shipped) >= 20
    notes.save_expander(".sob", "short of breath on exertion")
    notes.save_expander(".gp", "general practitioner")
    mine = {e.abbreviation: e for e in notes.expanders()}
    assert mine[".sob"].expansion == "short of breath on exertion" and mine[".sob"].personal
    assert {e.abbreviation: e for e in c.service("doctor2").expanders()}[".sob"].expansion == (
        "shortness of breath")
    notes.delete_expander(".sob")
    assert {e.abbreviation: e for e in notes.expanders()}[".sob"].personal is False
    with pytest.raises(ValidationError, match="without spaces"):
        notes.save_expander(". sob", "x")


def test_smart_fill_takes_vitals_from_the_last_signed_note(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    assert "No vitals" in notes.smart_fill(c.patient, "progress")["last_vitals"]
    doc = notes.create(new_id(), c.patient, "soap")
    content = with_values(signable(doc), "vitals", pulse="72", systolic="128",
                          diastolic="82", temperature="37.2")
    r2 = notes.save(doc.summary.id, new_id(), doc.head.id, content)  # type: ignore[union-attr]
    notes.sign(doc.summary.id, r2.id)
    filled = notes.smart_fill(c.patient, "progress")
    assert "Pulse 72 /min" in filled["last_vitals"]
    assert "Systolic pressure 128 mmHg" in filled["last_vitals"]
    assert "Temperature 37.2 °C" in filled["last_vitals"]
    assert "Penicillin" in notes.smart_fill(c.patient, "soap")["allergies"]


def test_smart_fill_lists_current_medications_and_active_problems(
        notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    assert notes.smart_fill(c.patient, "soap")["medications"] == (
        "No current medications recorded.")
    c.owner("INSERT INTO medications (patient_id, name, dose, frequency) VALUES "
            "(:p, 'Metformin', '500 mg', 'twice daily'), (:p, 'Ramipril', '5 mg', 'daily')",
            p=c.patient)
    c.owner("INSERT INTO medications (patient_id, name, dose, status) VALUES "
            "(:p, 'Amoxicillin', '500 mg', 'stopped')", p=c.patient)
    c.owner("INSERT INTO problems (patient_id, description, code) VALUES "
            "(:p, 'Type 2 diabetes', 'E11')", p=c.patient)
    c.owner("INSERT INTO problems (patient_id, description, status) VALUES "
            "(:p, 'Ankle sprain', 'resolved')", p=c.patient)
    assert notes.smart_fill(c.patient, "soap")["medications"] == (
        "Metformin 500 mg oral twice daily\nRamipril 5 mg oral daily")
    assert notes.smart_fill(c.patient, "progress")["problems"] == "Type 2 diabetes (E11)"
    doc = notes.create(new_id(), c.patient, "referral_letter")
    assert doc.head is not None
    assert doc.head.content.section("medications").text.startswith("Metformin")  # type: ignore[union-attr]


def test_validators_refuse_malformed_revisions(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    raw = c.backend.mongo_db["note_revisions"].find_one({"_id": doc.head.id})
    assert raw is not None
    good = dict(raw, _id=new_id(), seq=99)
    broken = [
        dict(good, extra="field"),
        {k: v for k, v in good.items() if k != "content_hash"},
        dict(good, content={"title": "x", "sections": [{"key": "a", "title": "A"}]}),
        dict(good, content={"title": "x", "sections": [], "html": "<b>"}),
        dict(good, seq=0),
        dict(good, _id="not-a-uuid"),
        dict(good, saved_at="yesterday"),
    ]
    for document in broken:
        with pytest.raises(WriteError) as exc:
            c.backend.mongo_db["note_revisions"].insert_one(document)
        assert exc.value.code == 121, document          # DocumentValidationFailure


def test_reception_never_reads_a_note_and_reads_are_audited(notes_clinic: NotesClinic
                                                            ) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    reception = c.service("reception")
    for call in (lambda: reception.read(doc.summary.id), lambda: reception.notes(c.patient),
                 lambda: reception.search(c.patient, "x"),
                 lambda: reception.history(doc.summary.id)):
        with pytest.raises(PermissionDenied, match="read clinical notes"):
            call()
    # The database hides the rows from her session too.
    with c.backend.engine.begin() as conn:
        conn.execute(text("SELECT set_config('dra.token', :t, true)"),
                     {"t": c.access["reception"].actor.token})  # type: ignore[union-attr]
        assert conn.execute(text("SELECT count(*) FROM documents WHERE patient_id = :p"),
                            {"p": c.patient}).scalar_one() == 0
    notes.read(doc.summary.id)
    notes.history(doc.summary.id)
    events = c.owner("SELECT action, user_id, workstation, object_id, details->>'what' "
                     "FROM audit_events WHERE patient_id = :p AND action LIKE 'note.%' "
                     "ORDER BY id", p=c.patient)
    assert [tuple(e) for e in events] == [
        ("note.read", c.users["doctor"], "WS-doctor", doc.summary.id, "note"),
        ("note.read", c.users["doctor"], "WS-doctor", doc.summary.id, "history")]
    denials = c.owner("SELECT count(*) FROM audit_events WHERE action = 'access.denied' "
                      "AND user_id = :u AND object_id = 'note.read'",
                      u=c.users["reception"])[0][0]
    assert denials == 4


def test_the_reconciler_finishes_a_save_that_crashed_half_way(notes_clinic: NotesClinic
                                                              ) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    # The revision reached MongoDB; the workstation died before PostgreSQL moved the head.
    crashed = NoteStore(c.backend.mongo_db).insert(
        revision_id=new_id(), note_id=doc.summary.id, patient_id=c.patient, seq=2,
        parent_id=doc.head.id, author_id=c.users["doctor"], author="Doctor",
        saved_at=doc.head.saved_at, content=edit(doc, subjective="Typed before the crash."))
    assert notes.read(doc.summary.id).head == doc.head           # invisible until linked
    reconciler = NoteReconciler(c.backend.owner_engine, c.backend.mongo_db)
    found = reconciler.run(patient_id=c.patient)
    assert [(f.kind, f.revision_id, f.finished) for f in found] == [
        ("unlinked", crashed.id, False)]
    assert "never linked" in found[0].sentence
    lines: list[str] = []
    assert run_cli(c.backend.owner_engine, c.backend.mongo_db,
                   ["--finish", "--patient", str(c.patient)], lines.append) == 0
    assert lines == [f"note {doc.summary.id}: revision {crashed.id} was stored but has now "
                     "been linked", "1 finding(s), 1 finished, 0 to look at"]
    assert notes.read(doc.summary.id).head == crashed
    assert reconciler.run(patient_id=c.patient) == ()


def test_a_retried_save_after_a_crash_links_the_stored_revision(notes_clinic: NotesClinic
                                                                ) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    content = edit(doc, subjective="Saved once, linked once.")
    revision_id = new_id()
    # The first attempt stored the revision and died before PostgreSQL (kill -9).
    NoteStore(c.backend.mongo_db).insert(
        revision_id=revision_id, note_id=doc.summary.id, patient_id=c.patient, seq=2,
        parent_id=doc.head.id, author_id=c.users["doctor"], author="Doctor",
        saved_at=doc.head.saved_at, content=content)
    again = notes.save(doc.summary.id, revision_id, doc.head.id, content)
    assert again.id == revision_id
    assert [r.id for r in notes.history(doc.summary.id)] == [doc.head.id, revision_id]
    assert NoteReconciler(c.backend.owner_engine, c.backend.mongo_db).run(
        patient_id=c.patient) == ()


def test_a_retried_create_after_a_crash_is_one_note(notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    reconciler = NoteReconciler(c.backend.owner_engine, c.backend.mongo_db)
    # A create that stored its first revision and died before the row: an orphan, reported.
    note_id = new_id()
    first = uuid.uuid5(uuid.UUID(note_id), "first revision").hex
    NoteStore(c.backend.mongo_db).insert(
        revision_id=first, note_id=note_id, patient_id=c.patient, seq=1, parent_id=None,
        author_id=c.users["doctor"], author="Doctor",
        saved_at=c.owner("SELECT clock_timestamp()")[0][0],
        content=NoteContent("SOAP note", (SectionContent("subjective", "Subjective",
                                                         "Before the crash."),)))
    assert [(f.kind, f.revision_id) for f in reconciler.run(patient_id=c.patient)] == [
        ("orphan", first)]
    doc = notes.create(note_id, c.patient, "soap")      # the workstation retries
    assert doc.head is not None and doc.head.id == first
    assert doc.head.content.sections[0].text == "Before the crash."
    assert [n.id for n in notes.notes(c.patient)] == [note_id]
    assert reconciler.run(patient_id=c.patient) == ()


def test_mongodb_unreachable_saves_nothing_and_the_retry_saves_once(
        notes_clinic: NotesClinic) -> None:
    c = notes_clinic
    notes = c.service("doctor")
    doc = notes.create(new_id(), c.patient, "soap")
    assert doc.head is not None
    nowhere = build_mongo_client(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
                                 timeout_seconds=0.5)
    try:
        cut_off = NotesService(c.backend.engine, nowhere["dra_test"], c.access["doctor"],
                               templates=TemplateLibrary())
        content, revision_id = edit(doc, subjective="Typed during the outage."), new_id()
        with pytest.raises(Unavailable) as exc:
            cut_off.save(doc.summary.id, revision_id, doc.head.id, content)
        assert "MongoDB" in str(exc.value) and "try again" in str(exc.value)
    finally:
        nowhere.close()
    assert c.owner("SELECT revision_count FROM documents WHERE id = :i",
                   i=doc.summary.id)[0][0] == 1
    saved = notes.save(doc.summary.id, revision_id, doc.head.id, content)   # it is back
    assert notes.read(doc.summary.id).head == saved


def test_a_note_is_filed_only_under_its_own_patients_visit(notes_clinic: NotesClinic
                                                          ) -> None:
    c = notes_clinic
    other = c.new_patient()
    provider = c.owner("INSERT INTO providers (user_id, given_name, family_name, specialty) "
                       "VALUES (:u, 'Doc', :f, 'GP') RETURNING id",
                       u=c.users["doctor"], f=c.tag)[0][0]
    visits = {p: c.owner("INSERT INTO encounters (patient_id, provider_id, started_at) "
                         "VALUES (:p, :v, now()) RETURNING id", p=p, v=provider)[0][0]
              for p in (c.patient, other)}
    notes = c.service("doctor")
    with pytest.raises(ValidationError, match="not this patient's"):
        notes.create(new_id(), c.patient, "soap", encounter_id=visits[other])
    assert notes.notes(c.patient) == ()
    doc = notes.create(new_id(), c.patient, "soap", encounter_id=visits[c.patient])
    assert doc.summary.encounter_id == visits[c.patient]
    # The database refuses it too, whatever a workstation sends.
    with tampered(c.backend.engine) as conn:
        conn.execute(text("SELECT set_config('dra.token', :t, false)"),
                     {"t": c.access["doctor"].actor.token})  # type: ignore[union-attr]
        with pytest.raises(DBAPIError, match="another patient's"):
            conn.execute(text("UPDATE documents SET encounter_id = :e WHERE id = :i"),
                         {"e": visits[other], "i": doc.summary.id})
        conn.rollback()
    c.owner("DELETE FROM documents WHERE encounter_id = ANY(:e)", e=list(visits.values()))
    c.owner("DELETE FROM encounters WHERE id = ANY(:e)", e=list(visits.values()))
    c.owner("DELETE FROM providers WHERE id = :v", v=provider)

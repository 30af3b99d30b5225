"""A fake ``NotesApi`` for the notes views' and presenters' tests (our own seam).

It behaves like the service where the screen can tell: templates with text, structured
and smart sections; revisions made by the caller's ids (a retried save is one revision);
a save on a stale parent raises ``NoteConflict`` with a three-way merge by section; a
signed note refuses saves (``IllegalTransition``); addenda; a resident's signed note waits
for a co-signature; autosaves fail with ``Unavailable`` while ``mongo_down`` is set; a
line diff; search over the newest revisions; personal expanders winning over shipped ones.
Times come from ``now`` (a fixed clock advanced by a minute per write), never the machine.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from backend_client.dto import PatientDraft, PatientRecord
from backend_client.errors import IllegalTransition, NoteConflict, NotFound, Unavailable
from backend_client.notes.dto import (
    DiffLine,
    Expander,
    MergedSection,
    MergeResult,
    NoteContent,
    NoteDocument,
    NoteHit,
    NoteRevision,
    NoteSummary,
    NoteTemplate,
    RevisionDiff,
    SectionContent,
    TemplateField,
    TemplateSection,
)
from backend_client.notes.local_store import content_hash

VITALS = (
    TemplateField("systolic", "Systolic", unit="mmHg", minimum=50, maximum=260),
    TemplateField("diastolic", "Diastolic", unit="mmHg", minimum=30, maximum=160),
    TemplateField("pulse", "Pulse", unit="/min", minimum=20, maximum=250),
    TemplateField("temperature", "Temperature", unit="°C", minimum=30, maximum=44),
)
SOAP = NoteTemplate("soap", "SOAP note", "note", (
    TemplateSection("subjective", "Subjective", hint="What the patient tells you",
                    required=True),
    TemplateSection("vitals", "Vital signs", kind="fields", fields=VITALS),
    TemplateSection("medications", "Current medications", kind="smart",
                    smart_source="medications"),
    TemplateSection("allergies", "Allergies", kind="smart", smart_source="allergies"),
    TemplateSection("assessment", "Assessment", required=True),
    TemplateSection("plan", "Plan"),
))
PROGRESS = NoteTemplate("progress", "Progress note", "note", (
    TemplateSection("progress", "Progress", required=True),
    TemplateSection("plan", "Plan"),
))
REFERRAL = NoteTemplate("referral", "Referral letter", "letter", (
    TemplateSection("recipient", "To", hint="Dr … , department, hospital", required=True),
    TemplateSection("reason", "Reason for referral", required=True),
    TemplateSection("history", "History"),
    TemplateSection("medications", "Current medications", kind="smart",
                    smart_source="medications"),
))
TEMPLATES = (SOAP, PROGRESS, REFERRAL)
SHIPPED_EXPANDERS = (
    Expander(".sob", "shortness of breath"),
    Expander(".cp", "chest pain"),
    Expander(".nad", "no abnormality detected"),
)
SMART = {"medications": "Ramipril 5 mg once daily\nAtorvastatin 20 mg at night",
         "allergies": "Penicillin — anaphylaxis",
         "problems": "Hypertension", "vitals": "BP 132/84 mmHg, pulse 72/min"}
START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
OTHER_DOCTOR = (12, "Dr Amara Okafor")


def empty_content(template: NoteTemplate, title: str = "") -> NoteContent:
    return NoteContent(title or template.title, tuple(
        SectionContent(s.key, s.title, SMART.get(s.smart_source, "") if s.kind == "smart"
                       else "") for s in template.sections))


def section_text(section: SectionContent) -> str:
    """A section as one text: structured values as "key: value" lines."""
    if section.values:
        return "\n".join(f"{k}: {v}" for k, v in section.values)
    return section.text


class FakeNotesApi:
    """In-memory notes. ``user`` is who the calls are made as; ``roles`` decide
    co-signing."""

    def __init__(self, *, user: tuple[int, str] = (11, "Dr Anna Demo"),
                 roles: tuple[str, ...] = ("doctor",)) -> None:
        self.user_id, self.user_name = user
        self.roles = roles
        self.now = START
        self.mongo_down = False
        self.fail_next: dict[str, BaseException] = {}
        self.calls: list[tuple[str, object]] = []
        self.summaries: dict[str, NoteSummary] = {}
        self.revisions: dict[str, list[NoteRevision]] = {}
        self.addenda: dict[str, list[str]] = {}
        self.autosaves: dict[str, tuple[str | None, NoteContent]] = {}
        self.personal: dict[str, str] = {}
        self.tampered: set[str] = set()
        # method names whose next call does its work and then "times out" (the answer is
        # lost on the way back, as a network can)
        self.lose_answer: set[str] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ helpers for tests

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def _call(self, name: str, arg: object = None) -> None:
        self.calls.append((name, arg))
        failure = self.fail_next.pop(name, None)
        if failure is not None:
            raise failure

    def add_note(self, patient_id: int, template_id: str = "soap", *, title: str = "",
                 texts: dict[str, str] | None = None, note_id: str = "",
                 author: tuple[int, str] | None = None) -> NoteSummary:
        """A note with one revision holding ``texts`` (section key → text)."""
        saved_user = (self.user_id, self.user_name)
        if author is not None:
            self.user_id, self.user_name = author
        nid = note_id or f"note{len(self.summaries) + 1:03d}"
        doc = self.create(nid, patient_id, template_id, title=title)
        assert doc.head is not None
        content = _with_texts(doc.head.content, texts or {})
        self.save(nid, f"{nid}-r2", doc.head.id, content)
        self.user_id, self.user_name = saved_user
        return self.summaries[nid]

    def save_as(self, who: tuple[int, str], note_id: str, texts: dict[str, str]) -> None:
        """Someone else saves the note (their own revision on the head)."""
        saved_user = (self.user_id, self.user_name)
        self.user_id, self.user_name = who
        head = self.revisions[note_id][-1]
        self.save(note_id, f"{note_id}-their{len(self.revisions[note_id])}", head.id,
                  _with_texts(head.content, texts))
        self.user_id, self.user_name = saved_user

    # ------------------------------------------------------------ NotesApi

    def templates(self) -> tuple[NoteTemplate, ...]:
        self._call("templates")
        return TEMPLATES

    def notes(self, patient_id: int) -> tuple[NoteSummary, ...]:
        self._call("notes", patient_id)
        mine = [s for s in self.summaries.values() if s.patient_id == patient_id]
        return tuple(sorted(mine, key=lambda s: s.updated_at, reverse=True))

    def create(self, note_id: str, patient_id: int, template_id: str, *,
               encounter_id: int | None = None, title: str = "") -> NoteDocument:
        self._call("create", note_id)
        with self._lock:
            if note_id not in self.summaries:
                template = next(t for t in TEMPLATES if t.id == template_id)
                at = self._tick()
                content = empty_content(template, title)
                self.summaries[note_id] = NoteSummary(
                    id=note_id, version=1, patient_id=patient_id, encounter_id=encounter_id,
                    template_id=template_id, kind=template.kind, title=content.title,
                    status="draft", author_id=self.user_id, author=self.user_name,
                    created_at=at, updated_at=at, revision_count=0, head_revision="")
                self.revisions[note_id] = []
                self._add_revision(note_id, f"{note_id}-r1", None, content)
        return self._document(note_id)

    def smart_fill(self, patient_id: int, template_id: str) -> dict[str, str]:
        self._call("smart_fill", patient_id)
        template = next(t for t in TEMPLATES if t.id == template_id)
        return {s.key: SMART[s.smart_source] for s in template.sections if s.kind == "smart"}

    def read(self, note_id: str) -> NoteDocument:
        self._call("read", note_id)
        if note_id not in self.summaries:
            raise NotFound("This note no longer exists.")
        return self._document(note_id)

    def save(self, note_id: str, revision_id: str, parent_id: str | None,
             content: NoteContent) -> NoteRevision:
        self._call("save", revision_id)
        with self._lock:
            existing = next((r for r in self.revisions[note_id] if r.id == revision_id), None)
            if existing is not None:
                return existing  # a retry of a save that went through
            summary = self.summaries[note_id]
            if summary.status != "draft":
                raise IllegalTransition("This note is signed and cannot be changed; "
                                        "add an addendum instead.")
            head = self.revisions[note_id][-1]
            if parent_id != head.id:
                raise NoteConflict(f"{head.author} saved this note since you opened it.",
                                   self._merge(note_id, parent_id, content), head.author)
            self.autosaves.pop(note_id, None)
            revision = self._add_revision(note_id, revision_id, parent_id, content)
        if "save" in self.lose_answer:
            self.lose_answer.discard("save")
            raise Unavailable("mongodb", "MongoDB did not answer in time.")
        return revision

    def keep_theirs_as_mine(self, note_id: str, revision_id: str, theirs_id: str,
                            content: NoteContent) -> NoteRevision:
        self._call("keep_theirs_as_mine", revision_id)
        return self.save(note_id, revision_id, theirs_id, content)

    def autosave(self, note_id: str, base_revision: str | None, content: NoteContent) -> None:
        self._call("autosave", note_id)
        if self.mongo_down:
            raise Unavailable("mongodb", "MongoDB cannot be reached.")
        self.autosaves[note_id] = (base_revision, content)

    def working_copy(self, note_id: str) -> tuple[str | None, NoteContent] | None:
        self._call("working_copy", note_id)
        return self.autosaves.get(note_id)

    def sign(self, note_id: str, revision_id: str) -> NoteSummary:
        self._call("sign", note_id)
        summary = self.summaries[note_id]
        if summary.head_revision != revision_id:
            raise IllegalTransition("Only the newest revision can be signed.")
        resident = "resident" in self.roles
        return self._set(note_id, status="signed", signed_by=self.user_name,
                         signed_at=self._tick(), cosign_required=resident)

    def cosign(self, note_id: str) -> NoteSummary:
        self._call("cosign", note_id)
        return self._set(note_id, cosigned_by=self.user_name, cosigned_at=self._tick())

    def add_addendum(self, note_id: str, text: str) -> NoteSummary:
        self._call("add_addendum", note_id)
        self.addenda.setdefault(note_id, []).append(text)
        return self._set(note_id, status="amended")

    def history(self, note_id: str) -> tuple[NoteRevision, ...]:
        self._call("history", note_id)
        return tuple(self.revisions[note_id])

    def diff(self, note_id: str, older_id: str, newer_id: str) -> RevisionDiff:
        self._call("diff", (older_id, newer_id))
        revs = {r.id: r for r in self.revisions[note_id]}
        older, newer = revs[older_id], revs[newer_id]
        lines: list[DiffLine] = []
        for section in newer.content.sections:
            before = older.content.section(section.key)
            old = section_text(before).splitlines() if before else []
            for row in difflib.ndiff(old, section_text(section).splitlines()):
                if row[0] in " -+":
                    lines.append(DiffLine(row[0], section.title, row[2:]))
        return RevisionDiff(older, newer, tuple(lines))

    def search(self, patient_id: int, text: str) -> tuple[NoteHit, ...]:
        self._call("search", text)
        hits = []
        for summary in self.notes(patient_id):
            head = self.revisions[summary.id][-1]
            for section in head.content.sections:
                at = section.text.lower().find(text.lower())
                if text and at >= 0:
                    snippet = section.text[max(0, at - 20): at + len(text) + 20]
                    hits.append(NoteHit(summary.id, summary.title, summary.status,
                                        head.saved_at, snippet))
                    break
        return tuple(hits)

    def expanders(self) -> tuple[Expander, ...]:
        self._call("expanders")
        shipped = {e.abbreviation: e for e in SHIPPED_EXPANDERS}
        shipped.update({k: Expander(k, v, True) for k, v in self.personal.items()})
        return tuple(sorted(shipped.values(), key=lambda e: e.abbreviation))

    def save_expander(self, abbreviation: str, expansion: str) -> Expander:
        self._call("save_expander", abbreviation)
        self.personal[abbreviation] = expansion
        return Expander(abbreviation, expansion, True)

    def delete_expander(self, abbreviation: str) -> None:
        self._call("delete_expander", abbreviation)
        self.personal.pop(abbreviation, None)

    # ------------------------------------------------------------ inside

    def _add_revision(self, note_id: str, revision_id: str, parent_id: str | None,
                      content: NoteContent) -> NoteRevision:
        revs = self.revisions[note_id]
        revision = NoteRevision(revision_id, note_id, len(revs) + 1, parent_id, self.user_id,
                                self.user_name, self._tick(), content, content_hash(content))
        revs.append(revision)
        self._set(note_id, title=content.title, revision_count=len(revs),
                  head_revision=revision_id)
        return revision

    def _set(self, note_id: str, **changes: object) -> NoteSummary:
        old = self.summaries[note_id]
        new = replace(old, version=old.version + 1, updated_at=self.now,
                      **changes)  # type: ignore[arg-type]
        self.summaries[note_id] = new
        return new

    def _document(self, note_id: str) -> NoteDocument:
        summary = self.summaries[note_id]
        head = self.revisions[note_id][-1] if self.revisions[note_id] else None
        addenda = tuple(
            NoteDocument(replace(summary, id=f"{note_id}-add{i}", title="Addendum",
                                 status="signed", addendum_of=note_id),
                         replace(head, content=NoteContent("Addendum", (
                             SectionContent("addendum", "Addendum", text),))) if head else None)
            for i, text in enumerate(self.addenda.get(note_id, ()), 1))
        return NoteDocument(summary, head, addenda, intact=note_id not in self.tampered)

    def _merge(self, note_id: str, parent_id: str | None, mine: NoteContent) -> MergeResult:
        revs = {r.id: r for r in self.revisions[note_id]}
        base = revs.get(parent_id or "")
        theirs = self.revisions[note_id][-1]
        sections = []
        for section in mine.sections:
            b = base.content.section(section.key) if base else None
            t = theirs.content.section(section.key)
            bt, mt = section_text(b) if b else "", section_text(section)
            tt = section_text(t) if t else ""
            if mt == tt or tt == bt:
                merged: str | None = mt
            elif mt == bt:
                merged = tt
            else:
                merged = None
            sections.append(MergedSection(section.key, section.title, bt, mt, tt, merged))
        return MergeResult(base, mine, theirs, tuple(sections))


def _with_texts(content: NoteContent, texts: dict[str, str]) -> NoteContent:
    return replace(content, sections=tuple(
        replace(s, text=texts[s.key]) if s.key in texts else s for s in content.sections))


# --------------------------------------------------------------------------- test pieces


class FakeTimer:
    """The autosave timer, fired by the test (no waiting on the wall clock)."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.active = False
        self.starts: list[int] = []

    def start(self, msec: int) -> None:
        self.active = True
        self.starts.append(msec)

    def stop(self) -> None:
        self.active = False

    def isActive(self) -> bool:  # noqa: N802 (QTimer's name)
        return self.active

    def fire(self) -> None:
        assert self.active, "the autosave timer was not running"
        self.active = False
        self.callback()


class ManualRunner:
    """A task runner whose jobs run when the test says, in the order it chooses."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], Any], Any, Any]] = []

    def run(self, fn: Callable[[], Any], on_success: Any = None, on_failure: Any = None, *,
            pool: str = "read") -> None:
        self.jobs.append((fn, on_success, on_failure))

    def finish(self, index: int) -> None:
        fn, ok, failed = self.jobs.pop(index)
        try:
            result = fn()
        except Exception as exc:
            if failed is not None:
                failed(exc)
            return
        if ok is not None:
            ok(result)

    def finish_all(self) -> None:
        while self.jobs:
            self.finish(0)

    def shutdown(self, timeout_ms: int = 0) -> bool:
        return True


def patient(pid: int = 42) -> PatientRecord:
    return PatientRecord(
        id=pid, version=1,
        draft=PatientDraft(given_name="Anna", family_name="Müller",
                           birth_date=date(1984, 3, 12), sex="female"),
        mrn="000123", deceased_at=None, alerts=(),
        updated_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC), updated_by="")


TODAY = date(2026, 11, 27)
WRITER = frozenset({"note.read", "note.write", "note.sign"})


class Harness:
    """A chart's Notes section on the fake service, with the timer, clock and questions
    under the test's control."""

    def __init__(self, api: FakeNotesApi, store: Any = None, *, runner: Any = None,
                 permissions: frozenset[str] = WRITER, user_id: int = 11,
                 record: PatientRecord | None = None) -> None:
        from desktop.presenters.notes import make_notes_section
        from desktop.tasks import InlineTaskRunner

        self.api = api
        self.timers: list[FakeTimer] = []
        self.answers: list[bool] = []
        self.texts: list[str | None] = []
        self.pdf_to: Any = None
        self.questions: list[str] = []
        self.record = record or patient()
        self.section = make_notes_section(
            self.record, api, runner or InlineTaskRunner(), store, today=TODAY,
            user_id=user_id, permissions=permissions,
            clinic_lines=("Riverside Family Practice", "12 Mill Lane, Exeter EX1 1AA",
                          "Tel 01392 000000"),
            timer_factory=self._timer, now=lambda: datetime(2026, 11, 27, 10, 43),
            confirm=self._confirm, ask_text=self._ask_text,
            pdf_path=lambda _parent, _name: self.pdf_to)

    def _timer(self, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(callback)
        self.timers.append(timer)
        return timer

    def _confirm(self, _parent: object, _title: str, question: str) -> bool:
        self.questions.append(question)
        return self.answers.pop(0) if self.answers else True

    def _ask_text(self, _parent: object, _title: str, label: str) -> str | None:
        self.questions.append(label)
        return self.texts.pop(0) if self.texts else None

    @property
    def editor(self) -> Any:
        assert self.section.editor is not None, "no note is open"
        return self.section.editor

    @property
    def timer(self) -> FakeTimer:
        return self.timers[-1]

    def load(self) -> None:
        done: list[bool] = []
        self.section.load(lambda: done.append(True))
        assert done == [True]

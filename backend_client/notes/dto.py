"""Clinical notes as the UI sees them (frozen; the UI may import this module).

A note is a PostgreSQL row (``documents``: who, which patient and encounter, status, the
head and the signed revision with its hash — what makes it visible and what freezes it)
plus its revisions in MongoDB (``note_revisions``: immutable, one per save). Content is
sections of free text and structured fields, laid out by a template from
``resources/note_templates``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# --------------------------------------------------------------------------- templates

SECTION_KINDS = ("text", "fields", "smart")
FIELD_KINDS = ("number", "text", "choice")
SMART_SOURCES = ("medications", "allergies", "problems", "vitals")


@dataclass(frozen=True)
class TemplateField:
    """A structured field, e.g. systolic pressure: kind "number", unit "mmHg", 50–260."""

    key: str
    label: str
    kind: str = "number"
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class TemplateSection:
    key: str                       # "subjective"
    title: str                     # "Subjective"
    kind: str = "text"             # text, fields (structured) or smart (filled from chart)
    hint: str = ""                 # placeholder text
    smart_source: str = ""         # for kind "smart": one of SMART_SOURCES
    fields: tuple[TemplateField, ...] = ()
    required: bool = False         # signing refuses while it is empty


@dataclass(frozen=True)
class NoteTemplate:
    id: str                        # file stem: "soap"
    title: str                     # "SOAP note"
    kind: str                      # "note" or "letter"
    sections: tuple[TemplateSection, ...]
    version: int = 1


# --------------------------------------------------------------------------- content


@dataclass(frozen=True)
class SectionContent:
    key: str
    title: str
    text: str = ""
    # structured values as typed, by field key (numbers as text: "120"); units come from
    # the template
    values: tuple[tuple[str, str], ...] = ()

    def value(self, key: str) -> str:
        return dict(self.values).get(key, "")


@dataclass(frozen=True)
class NoteContent:
    title: str
    sections: tuple[SectionContent, ...]

    def section(self, key: str) -> SectionContent | None:
        return next((s for s in self.sections if s.key == key), None)


NOTE_STATUSES = ("draft", "signed", "amended", "entered_in_error")


@dataclass(frozen=True)
class NoteSummary:
    """A note in the chart's list (no content: listing is not reading)."""

    id: str                        # uuid made by the client that created it
    version: int                   # the PostgreSQL row's version
    patient_id: int
    encounter_id: int | None
    template_id: str
    kind: str                      # note or letter
    title: str
    status: str                    # draft, signed, amended, entered_in_error
    author_id: int
    author: str
    created_at: datetime
    updated_at: datetime
    revision_count: int
    head_revision: str             # id of the newest revision ("" before the first save)
    signed_by: str = ""
    signed_at: datetime | None = None
    cosign_required: bool = False
    cosigned_by: str = ""
    cosigned_at: datetime | None = None
    addendum_of: str | None = None # the signed note this addendum corrects


@dataclass(frozen=True)
class NoteRevision:
    id: str                        # uuid made by the client (a retried save is one revision)
    note_id: str
    seq: int                       # 1, 2, 3 ... in save order
    parent_id: str | None          # the revision the author started from
    author_id: int
    author: str
    saved_at: datetime             # the database's clock
    content: NoteContent
    content_hash: str              # sha256 hex of the canonical content


@dataclass(frozen=True)
class NoteDocument:
    """A note to read: its row, its newest revision, and for a signed note its addenda.
    ``intact`` is False when the stored content no longer matches the signed hash (shown
    as a warning; never silently)."""

    summary: NoteSummary
    head: NoteRevision | None
    addenda: tuple[NoteDocument, ...] = ()
    intact: bool = True


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class DiffLine:
    kind: str                      # " " same, "-" only in the older, "+" only in the newer
    section: str                   # section title
    text: str


@dataclass(frozen=True)
class RevisionDiff:
    older: NoteRevision
    newer: NoteRevision
    lines: tuple[DiffLine, ...]

    @property
    def changed(self) -> bool:
        return any(line.kind != " " for line in self.lines)


@dataclass(frozen=True)
class MergedSection:
    key: str
    title: str
    base: str
    mine: str
    theirs: str
    merged: str | None             # None: both changed it differently, the user decides

    @property
    def conflicted(self) -> bool:
        return self.merged is None


@dataclass(frozen=True)
class MergeResult:
    base: NoteRevision | None
    mine: NoteContent
    theirs: NoteRevision
    sections: tuple[MergedSection, ...]

    @property
    def clean(self) -> bool:
        return not any(s.conflicted for s in self.sections)

    def resolved(self, picks: Mapping[str, str] | None = None, *,
                 title: str | None = None) -> NoteContent:
        """The merged content (an addition to the contract, so that the merge view can
        build what it saves from the DTO alone): sections merged automatically, and for
        each conflicted one the side in ``picks`` (section key → "mine" or "theirs"; a
        section not conflicted may be overridden too). A conflicted section without a
        pick raises ``KeyError`` naming it: nothing is decided silently. Structured
        values travel with their section."""
        picks = dict(picks or {})
        base = self.base.content if self.base else None
        out: list[SectionContent] = []
        for s in self.sections:
            if s.conflicted and s.key not in picks:
                raise KeyError(s.key)
            m, t = self.mine.section(s.key), self.theirs.content.section(s.key)
            b = base.section(s.key) if base else None
            pick = picks.get(s.key, "auto")
            if pick == "mine":
                chosen = m
            elif pick == "theirs":
                chosen = t
            else:   # the side that changed it
                chosen = t if _same(m, t) or (base is not None and _same(m, b)) else m
            if chosen is not None:
                out.append(chosen)
        if title is None:
            base_title = base.title if base else None
            title = (self.theirs.content.title if self.mine.title == base_title
                     else self.mine.title)
        return NoteContent(title=title, sections=tuple(out))


def _same(a: SectionContent | None, b: SectionContent | None) -> bool:
    """The same text and values (values in any order)."""
    if a is None or b is None:
        return a is b
    return (a.text, tuple(sorted(a.values))) == (b.text, tuple(sorted(b.values)))


# --------------------------------------------------------------------------- other


@dataclass(frozen=True)
class NoteHit:
    note_id: str
    title: str
    status: str
    saved_at: datetime
    snippet: str                   # the matching words with a little context


@dataclass(frozen=True)
class Expander:
    abbreviation: str              # ".sob"
    expansion: str                 # "shortness of breath"
    personal: bool = False         # defined by this user (else shipped)


@dataclass(frozen=True)
class UnsavedNote:
    """A local copy newer than what MongoDB holds: offered at the next start/sign-in."""

    note_id: str
    patient_id: int
    patient_label: str
    title: str
    base_revision: str | None
    content: NoteContent
    saved_locally_at: datetime     # the workstation's clock: a label only
    extra: dict[str, str] = field(default_factory=dict)

"""Three-way merge of a note by section: what two authors did to the same revision.

A section only one side changed takes that side; a section both changed the same way takes
it; a section both changed differently is left for the user (``merged`` None), who picks
theirs or mine (``MergeResult.resolved``, which the merge view can call on the DTO).
Nothing is merged inside a section: clinical text merged line by line can say something
neither author wrote.
"""

from __future__ import annotations

from collections.abc import Mapping

from backend_client.notes.content import section_text
from backend_client.notes.dto import (
    MergedSection,
    MergeResult,
    NoteContent,
    NoteRevision,
    _same,  # one rule for "unchanged", shared with MergeResult.resolved
)


def _keys(*contents: NoteContent | None) -> list[str]:
    """Every section key, in the order of the first content that has it."""
    order: list[str] = []
    for content in contents:
        for s in content.sections if content else ():
            if s.key not in order:
                order.append(s.key)
    return order


def merge3(base: NoteRevision | None, mine: NoteContent, theirs: NoteRevision) -> MergeResult:
    """``base``: the revision both started from (None if it cannot be found: then every
    section the two differ in is a conflict)."""
    base_c = base.content if base else None
    sections = []
    for key in _keys(theirs.content, mine, base_c):
        b = base_c.section(key) if base_c else None
        m, t = mine.section(key), theirs.content.section(key)
        title = (t or m or b).title if (t or m or b) else key  # type: ignore[union-attr]
        if _same(m, t):
            merged: str | None = section_text(t)
        elif base_c is not None and _same(m, b):
            merged = section_text(t)        # only they changed it
        elif base_c is not None and _same(t, b):
            merged = section_text(m)        # only I changed it
        else:
            merged = None
        sections.append(MergedSection(key=key, title=title, base=section_text(b),
                                      mine=section_text(m), theirs=section_text(t),
                                      merged=merged))
    return MergeResult(base=base, mine=mine, theirs=theirs, sections=tuple(sections))


def resolve(result: MergeResult, picks: Mapping[str, str] | None = None, *,
            title: str | None = None) -> NoteContent:
    """``result.resolved(picks, title=...)``: see ``MergeResult.resolved``."""
    return result.resolved(picks, title=title)

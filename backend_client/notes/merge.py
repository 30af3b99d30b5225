"""Three-way merge of a note by section: what two authors did to the same revision.

A section only one side changed takes that side; a section both changed the same way takes
it; a section both changed differently is left for the user (``merged`` None), who picks
theirs or mine (``resolve``). Nothing is merged inside a section: clinical text merged
line by line can say something neither author wrote.
"""

from __future__ import annotations

from collections.abc import Mapping

from backend_client.notes.content import section_text
from backend_client.notes.dto import (
    MergedSection,
    MergeResult,
    NoteContent,
    NoteRevision,
    SectionContent,
)


def _keys(*contents: NoteContent | None) -> list[str]:
    """Every section key, in the order of the first content that has it."""
    order: list[str] = []
    for content in contents:
        for s in content.sections if content else ():
            if s.key not in order:
                order.append(s.key)
    return order


def _same(a: SectionContent | None, b: SectionContent | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.text, tuple(sorted(a.values))) == (b.text, tuple(sorted(b.values)))


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


def _source(result: MergeResult, key: str, pick: str) -> SectionContent | None:
    base_c = result.base.content if result.base else None
    m, t = result.mine.section(key), result.theirs.content.section(key)
    b = base_c.section(key) if base_c else None
    if pick == "mine":
        return m
    if pick == "theirs":
        return t
    # automatic: the side that changed it
    if _same(m, t) or (base_c is not None and _same(m, b)):
        return t
    return m


def resolve(result: MergeResult, picks: Mapping[str, str] | None = None, *,
            title: str | None = None) -> NoteContent:
    """The merged content: sections merged automatically, and for each conflicted one the
    side in ``picks`` (section key → "mine" or "theirs"). A conflicted section without a
    pick raises ``KeyError`` naming it: nothing is decided silently."""
    picks = dict(picks or {})
    out: list[SectionContent] = []
    for s in result.sections:
        if s.conflicted and s.key not in picks:
            raise KeyError(s.key)
        chosen = _source(result, s.key, picks.get(s.key, "auto"))
        if chosen is not None:
            out.append(chosen)
    if title is None:
        base_title = result.base.content.title if result.base else None
        title = (result.theirs.content.title if result.mine.title == base_title
                 else result.mine.title)
    return NoteContent(title=title, sections=tuple(out))

"""A readable line diff between two revisions of a note, section by section (difflib)."""

from __future__ import annotations

import difflib

from backend_client.notes.content import section_text
from backend_client.notes.dto import DiffLine, NoteRevision, RevisionDiff


def diff_revisions(older: NoteRevision, newer: NoteRevision) -> RevisionDiff:
    """Every section of either revision in the newer one's order (sections only the older
    has come last): unchanged lines " ", removed "-", added "+". A changed title is a line
    of the section "Title"."""
    lines: list[DiffLine] = []
    if older.content.title != newer.content.title:
        lines.append(DiffLine("-", "Title", older.content.title))
        lines.append(DiffLine("+", "Title", newer.content.title))
    keys = [s.key for s in newer.content.sections]
    keys += [s.key for s in older.content.sections if s.key not in keys]
    for key in keys:
        a, b = older.content.section(key), newer.content.section(key)
        title = (b or a).title if (b or a) else key  # type: ignore[union-attr]
        old_lines = section_text(a).splitlines() if a else []
        new_lines = section_text(b).splitlines() if b else []
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                lines.extend(DiffLine(" ", title, t) for t in old_lines[i1:i2])
                continue
            lines.extend(DiffLine("-", title, t) for t in old_lines[i1:i2])
            lines.extend(DiffLine("+", title, t) for t in new_lines[j1:j2])
    return RevisionDiff(older=older, newer=newer, lines=tuple(lines))

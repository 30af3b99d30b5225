"""A note's content as stored: the MongoDB shape, its canonical bytes and their hash.

The hash is sha256 of the canonical JSON (keys sorted, no spaces, UTF-8, values by key), so
the same content always has the same hash whichever workstation wrote it; a signed note's
hash in PostgreSQL is compared with the stored content's every time it is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from backend_client.errors import ValidationError
from backend_client.notes.dto import NoteContent, SectionContent

HEX32 = re.compile(r"^[0-9a-f]{32}$")
MAX_TITLE = 300
MAX_TEXT = 200_000
MAX_SECTIONS = 100
MAX_VALUE = 200


def to_doc(content: NoteContent) -> dict[str, Any]:
    return {"title": content.title,
            "sections": [{"key": s.key, "title": s.title, "text": s.text,
                          "values": dict(sorted(s.values))} for s in content.sections]}


def from_doc(doc: dict[str, Any]) -> NoteContent:
    return NoteContent(
        title=str(doc.get("title", "")),
        sections=tuple(SectionContent(
            key=str(s["key"]), title=str(s.get("title", "")), text=str(s.get("text", "")),
            values=tuple(sorted((str(k), str(v)) for k, v in (s.get("values") or {}).items())))
            for s in doc.get("sections", [])))


def canonical_bytes(content: NoteContent) -> bytes:
    return json.dumps(to_doc(content), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def content_hash(content: NoteContent) -> str:
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def search_text(content: NoteContent) -> str:
    """What full-text search indexes: the title, every section's text and its values."""
    parts = [content.title]
    for s in content.sections:
        parts.append(s.text)
        parts.extend(v for _, v in s.values if v)
    return "\n".join(p for p in parts if p)


def section_text(section: SectionContent | None) -> str:
    """A section as one text (structured values as "key: value" lines): what merges and
    diffs compare."""
    if section is None:
        return ""
    lines = [f"{k}: {v}" for k, v in section.values if v]
    return "\n".join([section.text, *lines] if section.text else lines)


def check_id(name: str, value: str) -> None:
    if not isinstance(value, str) or not HEX32.match(value):
        raise ValidationError(name, "An id is 32 lowercase hexadecimal characters (a uuid4 "
                                    "without dashes).")


def check_content(content: NoteContent) -> None:
    """Says which part of the note cannot be stored, and why."""
    if len(content.title) > MAX_TITLE:
        raise ValidationError("title", f"The title is longer than {MAX_TITLE} characters.")
    if len(content.sections) > MAX_SECTIONS:
        raise ValidationError("sections", f"A note has at most {MAX_SECTIONS} sections.")
    seen: set[str] = set()
    for s in content.sections:
        if not s.key or len(s.key) > 64:
            raise ValidationError("sections", "Every section needs a key of 1 to 64 "
                                              "characters.")
        if s.key in seen:
            raise ValidationError("sections", f"The section {s.title or s.key!r} appears "
                                              "twice.")
        seen.add(s.key)
        if len(s.text) > MAX_TEXT:
            raise ValidationError(s.key, f"The section {s.title or s.key!r} is longer than "
                                         f"{MAX_TEXT:,} characters.")
        for key, value in s.values:
            if "." in key or key.startswith("$") or not key:
                raise ValidationError(s.key, f"The field name {key!r} cannot be stored.")
            if len(value) > MAX_VALUE:
                raise ValidationError(s.key, f"The value of {key!r} in {s.title or s.key!r} "
                                             f"is longer than {MAX_VALUE} characters.")

"""A signed note or letter as a PDF: the clinic's header, the patient (name, date of
birth, MRN), the sections, the signature block (who signed, when, the content hash), and
each addendum after the original with its own signature."""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from backend_client.dto import PatientRecord
from backend_client.notes.dto import NoteDocument, NoteTemplate, SectionContent
from ui.notes.notes_model import when
from ui.patients.formatting import format_date


def _section_html(section: SectionContent, template: NoteTemplate | None) -> str:
    spec = next((s for s in template.sections if s.key == section.key), None) \
        if template else None
    if section.values:
        units = {f.key: (f.label, f.unit) for f in spec.fields} if spec else {}
        rows = "".join(
            f"<tr><td style='padding-right:16px'>{html.escape(units.get(k, (k, ''))[0])}</td>"
            f"<td>{html.escape(v)} {html.escape(units.get(k, ('', ''))[1])}</td></tr>"
            for k, v in section.values)
        body = f"<table>{rows}</table>"
    elif section.text.strip():
        body = f"<p>{html.escape(section.text).replace(chr(10), '<br>')}</p>"
    else:
        return ""
    return f"<h3>{html.escape(section.title)}</h3>{body}"


def _signature(document: NoteDocument) -> str:
    s = document.summary
    lines = [f"Electronically signed by <b>{html.escape(s.signed_by)}</b> on "
             f"{when(s.signed_at)}" if s.signed_at else "<b>Not signed</b>"]
    if s.cosigned_at:
        lines.append(f"Co-signed by <b>{html.escape(s.cosigned_by)}</b> on "
                     f"{when(s.cosigned_at)}")
    elif s.cosign_required:
        lines.append("Awaiting co-signature")
    if document.head is not None:
        lines.append(f"Revision {document.head.seq}, content sha256 "
                     f"{document.head.content_hash[:16]}…")
    if not document.intact:
        lines.append("<span style='color:#b00020'><b>Warning: the stored text no longer "
                     "matches what was signed.</b></span>")
    return ("<div style='margin-top:14px; border-top:1px solid #888; padding-top:6px'>"
            + "<br>".join(lines) + "</div>")


def note_html(document: NoteDocument, record: PatientRecord, today: date,
              clinic_lines: tuple[str, ...], template: NoteTemplate | None) -> str:
    draft = record.draft
    born = draft.birth_date
    born_text = format_date(born) if isinstance(born, date) else ""
    header = "<br>".join(html.escape(line) for line in clinic_lines)
    content = document.head.content if document.head else None
    parts = [f"<div style='text-align:right; color:#333'>{header}</div><hr>",
             f"<p><b>Patient:</b> {html.escape(draft.family_name)}, "
             f"{html.escape(draft.given_name)} &nbsp; <b>Born:</b> {born_text} &nbsp; "
             f"<b>MRN:</b> {html.escape(record.mrn)}</p>",
             f"<h2>{html.escape(content.title if content else document.summary.title)}</h2>",
             f"<p style='color:#555'>Written by {html.escape(document.summary.author)}, "
             f"{when(document.summary.created_at)}</p>"]
    if content is not None:
        parts.extend(_section_html(s, template) for s in content.sections)
    parts.append(_signature(document))
    for addendum in document.addenda:
        text = "".join(f"<p>{html.escape(s.text).replace(chr(10), '<br>')}</p>"
                       for s in addendum.head.content.sections) if addendum.head else ""
        parts.append("<div style='margin-top:18px'><h2>Addendum</h2>"
                     f"{text}{_signature(addendum)}</div>")
    return "".join(parts)


def write_note_pdf(path: Path, document: NoteDocument, record: PatientRecord, today: date,
                   clinic_lines: tuple[str, ...], template: NoteTemplate | None) -> Path:
    """Writes the PDF (on the GUI thread: Qt's text layout is not thread-safe; a note is a
    few pages, milliseconds)."""
    writer = QPdfWriter(str(path))
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait,
                                     QMarginsF(18, 16, 18, 16), QPageLayout.Unit.Millimeter))
    writer.setResolution(300)
    writer.setTitle(document.summary.title)
    writer.setCreator("Dr. Assistant")
    doc = QTextDocument()
    doc.setDefaultStyleSheet("body { font-size: 10.5pt; } h2 { font-size: 15pt; } "
                             "h3 { font-size: 11.5pt; margin-bottom: 2px; }")
    doc.setHtml(note_html(document, record, today, clinic_lines, template))
    doc.print_(writer)
    return path

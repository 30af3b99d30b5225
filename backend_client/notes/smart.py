"""Smart sections: text filled from the chart when a note is created.

Allergies come from ``alerts`` (kind allergy, active). Medications and problems come from
the chart's lists (migration 0010, another part of this issue): they are read only when
those tables exist (``to_regclass``), so notes work on a database without them. Vitals are
the values of the patient's last signed note that has a vitals section (MongoDB).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend_client.notes.dto import NoteTemplate, TemplateField
from backend_client.notes.store import NoteStore

_EXISTS = text("SELECT to_regclass(:t) IS NOT NULL")
NONE = {"medications": "No current medications recorded.",
        "allergies": "No known allergies recorded.",
        "problems": "No active problems recorded.",
        "vitals": "No vitals recorded in a signed note."}


def _table(s: Session, name: str) -> bool:
    return bool(s.execute(_EXISTS, {"t": f"public.{name}"}).scalar_one())


def _active(row: dict[str, Any]) -> bool:
    return str(row.get("status", "active")) == "active"


def allergies(s: Session, patient_id: int) -> str:
    rows = s.execute(text(
        "SELECT description, reaction, severity FROM alerts WHERE patient_id = :p AND "
        "kind = 'allergy' AND status = 'active' ORDER BY severity DESC, description"),
        {"p": patient_id}).mappings().all()
    return "\n".join(
        f"{r['description']}" + (f" ({r['reaction']})" if r["reaction"] else "")
        + (" — high severity" if r["severity"] == "high" else "") for r in rows)


def medications(s: Session, patient_id: int) -> str:
    if not _table(s, "medications"):
        return ""
    rows = [dict(r) for r in s.execute(text(
        "SELECT * FROM medications WHERE patient_id = :p ORDER BY id"),
        {"p": patient_id}).mappings()]
    out = []
    for r in rows:
        if not _active(r):
            continue
        parts = [str(r.get(k) or "") for k in ("name", "dose", "route", "frequency")]
        out.append(" ".join(p for p in parts if p))
    return "\n".join(o for o in out if o)


def problems(s: Session, patient_id: int) -> str:
    if not _table(s, "problems"):
        return ""
    rows = [dict(r) for r in s.execute(text(
        "SELECT * FROM problems WHERE patient_id = :p ORDER BY id"),
        {"p": patient_id}).mappings()]
    return "\n".join(
        str(r.get("description") or "") + (f" ({r['code']})" if r.get("code") else "")
        for r in rows if _active(r))


def _vitals_fields(templates: tuple[NoteTemplate, ...]) -> dict[str, TemplateField]:
    out: dict[str, TemplateField] = {}
    for t in templates:
        for sec in t.sections:
            if sec.key == "vitals":
                out.update({f.key: f for f in sec.fields})
    return out


def last_vitals(s: Session, store: NoteStore, patient_id: int,
                templates: tuple[NoteTemplate, ...], look_at: int = 20) -> str:
    rows = s.execute(text(
        "SELECT signed_revision, signed_at FROM documents WHERE patient_id = :p AND "
        "status = 'signed' AND signed_revision IS NOT NULL "
        "ORDER BY signed_at DESC LIMIT :n"), {"p": patient_id, "n": look_at}).all()
    if not rows:
        return ""
    revisions = store.many(r.signed_revision for r in rows)
    fields = _vitals_fields(templates)
    for r in rows:
        rev = revisions.get(r.signed_revision)
        section = rev.content.section("vitals") if rev else None
        values = [(k, v) for k, v in (section.values if section else ()) if v.strip()]
        if not values:
            continue
        when = r.signed_at.date().isoformat()
        parts = []
        for k, v in values:
            f = fields.get(k)
            label = f.label if f else k
            unit = f" {f.unit}" if f and f.unit else ""
            parts.append(f"{label} {v}{unit}")
        return f"{', '.join(parts)} (signed {when})"
    return ""


def fill(s: Session, store: NoteStore, patient_id: int, template: NoteTemplate,
         templates: tuple[NoteTemplate, ...]) -> dict[str, str]:
    """Section key → text for the template's smart sections."""
    sources = {"medications": lambda: medications(s, patient_id),
               "allergies": lambda: allergies(s, patient_id),
               "problems": lambda: problems(s, patient_id),
               "vitals": lambda: last_vitals(s, store, patient_id, templates)}
    cache: dict[str, str] = {}
    out = {}
    for sec in template.sections:
        if sec.kind != "smart":
            continue
        if sec.smart_source not in cache:
            cache[sec.smart_source] = sources[sec.smart_source]() or NONE[sec.smart_source]
        out[sec.key] = cache[sec.smart_source]
    return out

"""A patient form's content as a plain document for the drafts collection, and back.
No store library here: the window uses it before the stores are loaded."""

from __future__ import annotations

from datetime import date
from typing import Any

from backend_client.dto import Contact, Identifier, PatientDraft, PreviousName


def patient_draft_to_payload(draft: PatientDraft) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        return value

    data: dict[str, Any] = {}
    for name in PatientDraft.__dataclass_fields__:
        value = getattr(draft, name)
        if name == "identifiers":
            data[name] = [{"kind": i.kind, "value": i.value, "issuer": i.issuer} for i in value]
        elif name == "previous_names":
            data[name] = [{"given_name": n.given_name, "family_name": n.family_name}
                          for n in value]
        elif name == "emergency_contact":
            data[name] = None if value is None else {
                "name": value.name, "relationship": value.relationship, "phone": value.phone,
                "email": value.email, "is_emergency": value.is_emergency}
        else:
            data[name] = plain(value)
    return data


def patient_draft_from_payload(data: dict[str, Any]) -> PatientDraft:
    fields = dict(data)
    birth = fields.get("birth_date")
    if isinstance(birth, str):
        try:
            fields["birth_date"] = date.fromisoformat(birth)
        except ValueError:
            pass  # what the user typed, still to be validated
    fields["identifiers"] = tuple(Identifier(**i) for i in fields.get("identifiers") or ())
    fields["previous_names"] = tuple(PreviousName(**n)
                                     for n in fields.get("previous_names") or ())
    contact = fields.get("emergency_contact")
    fields["emergency_contact"] = Contact(**contact) if contact else None
    known = set(PatientDraft.__dataclass_fields__)
    return PatientDraft(**{k: v for k, v in fields.items() if k in known})

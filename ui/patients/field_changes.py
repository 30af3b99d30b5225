"""Field by field: what the form started from, what someone else saved, what the user typed.

A three-way comparison over a patient's fields, so that another person's save never comes
as "someone saved, keep mine?" but as a list: the fields only they changed (taken), the
fields only you changed (kept), and the fields you both changed differently (you choose,
one by one). Lists (identifiers, previous names) and the emergency contact are one field
each: taking theirs takes their whole list.

Plain Python over the DTOs (no widgets), used by the edit form's presenter and the
conflict dialog.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from backend_client.dto import (
    IDENTIFIER_KIND_CHOICES,
    Contact,
    Identifier,
    PatientDraft,
    PreviousName,
)
from ui.patients.formatting import DateFormatError, format_date, read_date, sex_label

FIELDS: tuple[tuple[str, str], ...] = (
    ("given_name", "Given name"), ("middle_name", "Middle name"),
    ("family_name", "Family name"), ("preferred_name", "Preferred name"),
    ("birth_date", "Date of birth"), ("sex", "Sex"), ("gender_identity", "Gender identity"),
    ("phone", "Phone"), ("email", "Email"), ("language", "Preferred language"),
    ("address_line1", "Address"), ("address_line2", "Address line 2"),
    ("city", "City or town"), ("region", "Region or state"), ("postal_code", "Postal code"),
    ("country", "Country"), ("emergency_contact", "Emergency contact"),
    ("identifiers", "Identifiers"), ("previous_names", "Previous names"),
)
LABELS = dict(FIELDS)

# How each field compares, after the form's spelling of it is made the record's.
THEIRS, YOURS, BOTH, SAME = "theirs", "yours", "both", "same"


def _text(value: str) -> str:
    return " ".join(value.split())


def comparable(d: PatientDraft, key: str) -> Any:
    """The field's value for comparing: the form's typing ("3 Jan 1975", stray spaces)
    compares equal to the record's value it shows."""
    value = getattr(d, key)
    if key == "birth_date":
        if isinstance(value, str):
            try:
                return read_date(value) or None
            except DateFormatError:
                return _text(value)
        return value
    if key == "identifiers":
        return tuple(Identifier(i.kind, _text(i.value), _text(i.issuer)) for i in value)
    if key == "previous_names":
        return tuple(PreviousName(_text(n.given_name), _text(n.family_name)) for n in value)
    if key == "emergency_contact":
        if value is None:
            return None
        return Contact(_text(value.name), _text(value.relationship), _text(value.phone),
                       _text(value.email), True)
    if key == "country":
        return _text(value).upper()
    return _text(value or "")


def changed_fields(before: PatientDraft, after: PatientDraft) -> list[str]:
    """The keys of the fields that differ, in the form's order."""
    return [k for k, _ in FIELDS if comparable(before, k) != comparable(after, k)]


def field_list(keys: list[str]) -> str:
    """"given name, phone and identifiers" for a sentence."""
    words = [LABELS[k][:1].lower() + LABELS[k][1:] for k in keys]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def shown(d: PatientDraft | None, key: str) -> str:
    """The field's value as a person reads it ("" when empty)."""
    if d is None:
        return ""
    value = getattr(d, key)
    if key == "birth_date":
        if isinstance(value, date):
            return format_date(value)
        parsed = comparable(d, key)
        return format_date(parsed) if isinstance(parsed, date) else str(value or "")
    if key == "sex":
        return sex_label(value) if value else ""
    if key == "identifiers":
        kinds = {"MRN": "MRN", **dict(IDENTIFIER_KIND_CHOICES[1:])}
        return "; ".join(f"{kinds.get(i.kind, i.kind)} {i.value}"
                         + (f" ({i.issuer})" if i.issuer else "") for i in value)
    if key == "previous_names":
        return "; ".join(f"{n.given_name} {n.family_name}".strip() for n in value)
    if key == "emergency_contact":
        if value is None:
            return ""
        parts = [value.name + (f" ({value.relationship})" if value.relationship else ""),
                 value.phone, value.email]
        return ", ".join(p for p in parts if p)
    return str(value or "")


@dataclass(frozen=True)
class FieldChange:
    """One field that differs somewhere among the three.

    Attributes:
        key: the PatientDraft field.
        label: its name on the form.
        kind: THEIRS (only they changed it: taken), YOURS (only you: kept), BOTH (both,
            differently: the user chooses), SAME (both, to the same value).
        base, theirs, yours: the values as shown (base "" when unknown).
    """

    key: str
    label: str
    kind: str
    base: str
    theirs: str
    yours: str


@dataclass(frozen=True)
class ThreeWay:
    """Args:
        base: what the form started from; None when unknown (a form kept from an older
            version of the app): then every difference is the user's choice.
        theirs: what is saved now.
        yours: what the form says.
    """

    base: PatientDraft | None
    theirs: PatientDraft
    yours: PatientDraft

    def changes(self) -> list[FieldChange]:
        out = []
        for key, label in FIELDS:
            t, y = comparable(self.theirs, key), comparable(self.yours, key)
            b = comparable(self.base, key) if self.base is not None else None
            if self.base is None:
                if t == y:
                    continue
                kind = BOTH
            elif t == y:
                if b == t:
                    continue
                kind = SAME
            elif b == y:
                kind = THEIRS
            elif b == t:
                kind = YOURS
            else:
                kind = BOTH
            out.append(FieldChange(key, label, kind, shown(self.base, key),
                                   shown(self.theirs, key), shown(self.yours, key)))
        return out

    def to_choose(self) -> list[FieldChange]:
        return [c for c in self.changes() if c.kind == BOTH]

    def merged(self, choices: dict[str, str]) -> PatientDraft:
        """The form's draft with the side chosen for each field in ``choices`` (key →
        THEIRS or YOURS); a field not in it keeps its default: theirs where only they
        changed it, yours where only you did. A field both changed differently has no
        default: without a choice it raises KeyError, so nothing is decided silently."""
        values: dict[str, Any] = {}
        for change in self.changes():
            side = choices.get(change.key, change.kind)
            if side == BOTH:
                raise KeyError(change.key)
            if side == THEIRS:
                values[change.key] = getattr(self.theirs, change.key)
        return replace(self.yours, **values)

    def take_theirs(self) -> PatientDraft:
        """Every field they changed takes their value; the user's other typing stays."""
        if self.base is None:
            return self.theirs
        keys = changed_fields(self.base, self.theirs)
        return replace(self.yours, **{k: getattr(self.theirs, k) for k in keys})

"""Checks a PatientDraft field by field; every message says which field and why.

Phone numbers come out in E.164 and a date like 12.03.1984 is read as the clinic says
(``ClinicLocale``, issue 13)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from backend_client.dto import ClinicLocale, Contact, Identifier, PatientDraft, PreviousName
from backend_client.errors import ValidationError
from backend_client.patients.dates import DateProblem, parse_birth_date
from backend_client.patients.phones import PhoneProblem, to_e164
from backend_client.stores.postgres.models import IDENTIFIER_KINDS, SEXES

LIMITS = {
    "given_name": 100, "middle_name": 100, "family_name": 100, "preferred_name": 100,
    "gender_identity": 60, "phone": 40, "email": 254, "address_line1": 200,
    "address_line2": 200, "city": 100, "region": 100, "postal_code": 20, "language": 35,
}
LABELS = {
    "given_name": "Given name", "family_name": "Family name", "middle_name": "Middle name",
    "preferred_name": "Preferred name", "birth_date": "Date of birth", "sex": "Sex",
    "gender_identity": "Gender identity", "phone": "Phone", "email": "E-mail",
    "address_line1": "Address", "address_line2": "Address (line 2)", "city": "City",
    "region": "Region", "postal_code": "Postal code", "country": "Country",
    "language": "Language",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-./ ]*$")
_MRN = re.compile(r"^[A-Z0-9][A-Z0-9\-]{2,19}$")


@dataclass(frozen=True)
class CleanDraft:
    """A validated draft: text trimmed, date parsed, identifiers normalised."""

    draft: PatientDraft
    birth_date: date


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _phone(phone: str, region: str, field: str, errors: dict[str, str]) -> str:
    """``phone`` in E.164, or as typed with the field's error recorded."""
    try:
        return to_e164(phone, region)
    except PhoneProblem as exc:
        errors[field] = str(exc)
        return phone


def validate(draft: PatientDraft, today: date,
             clinic: ClinicLocale | None = None) -> CleanDraft:
    """Return the cleaned draft or raise ValidationError listing every problem.

    ``clinic``: the country a number without "+" belongs to and the reading of 12.03.1984
    (None: the defaults of ``ClinicLocale``)."""
    clinic = clinic or ClinicLocale()
    errors: dict[str, str] = {}
    trimmed: dict[str, Any] = {f: str(getattr(draft, f) or "").strip() for f in LIMITS}
    d = replace(draft, **trimmed)
    d = replace(d, sex=(draft.sex or "").strip().lower(),
                country=(draft.country or "").strip().upper())

    for field, limit in LIMITS.items():
        value = getattr(d, field)
        if len(value) > limit:
            errors[field] = f"is at most {limit} characters long (this one has {len(value)})"
        elif _has_control(value):
            errors[field] = "contains invisible control characters; retype it"
    for field in ("given_name", "family_name"):
        if field not in errors:
            value = getattr(d, field)
            if not value:
                errors[field] = "is required"
            elif not any(c.isalpha() for c in value):
                errors[field] = "must contain at least one letter"

    born: date | None = None
    raw = draft.birth_date
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors["birth_date"] = "is required"
    else:
        try:
            born = raw if isinstance(raw, date) else parse_birth_date(
                raw, today, day_first=clinic.day_first)
        except DateProblem as exc:
            errors["birth_date"] = str(exc)
        if born is not None:
            if born > today:
                errors["birth_date"] = (f"{born.isoformat()} is in the future; "
                                        "check the year")
            elif born < date(1880, 1, 1):
                errors["birth_date"] = f"{born.isoformat()} is before 1880; check the year"

    if d.sex not in SEXES:
        errors["sex"] = "choose female, male, other or unknown"
    if d.phone and "phone" not in errors:
        d = replace(d, phone=_phone(d.phone, clinic.phone_region, "phone", errors))
    if d.email and "email" not in errors and not _EMAIL.match(d.email):
        errors["email"] = f"'{d.email}' is not an e-mail address like name@example.org"
    if d.country and not re.fullmatch(r"[A-Z]{2}", d.country):
        errors["country"] = "use the two-letter country code, such as GB, DE or US"

    identifiers: list[Identifier] = []
    seen: set[tuple[str, str]] = set()
    for i, ident in enumerate(draft.identifiers):
        kind = (ident.kind or "").strip().upper()
        value = (ident.value or "").strip()
        key = f"identifiers.{i}"
        if kind not in IDENTIFIER_KINDS:
            errors[f"{key}.kind"] = "choose MRN, insurance number, national ID or other"
        if not value:
            errors[f"{key}.value"] = "is required (or remove the identifier)"
        elif len(value) > 64:
            errors[f"{key}.value"] = f"is at most 64 characters long (this one has {len(value)})"
        elif not _IDENTIFIER.match(value):
            errors[f"{key}.value"] = "may contain only letters, digits, spaces and - . /"
        elif kind == "MRN" and not _MRN.match(value.upper()):
            errors[f"{key}.value"] = "an MRN has 3 to 20 letters, digits or dashes"
        # Identifiers are matched exactly, whatever case they were typed in.
        value = value.upper()
        if (kind, value) in seen:
            errors[f"{key}.value"] = "is listed twice"
        seen.add((kind, value))
        issuer = (ident.issuer or "").strip()
        if len(issuer) > 100 or _has_control(issuer + value):
            errors[f"{key}.issuer"] = "is at most 100 characters, without control characters"
        identifiers.append(Identifier(kind, value, issuer))
    if sum(1 for ident in identifiers if ident.kind == "MRN") > 1:
        errors["identifiers"] = "a patient has one MRN"

    contact = draft.emergency_contact
    if contact is not None:
        contact = Contact(contact.name.strip(), contact.relationship.strip(),
                          contact.phone.strip(), contact.email.strip(), contact.is_emergency)
        if not any((contact.name, contact.phone, contact.email, contact.relationship)):
            contact = None
        else:
            for field, limit in (("name", 200), ("relationship", 60), ("phone", 40),
                                 ("email", 254)):
                value = getattr(contact, field)
                if len(value) > limit:
                    errors[f"emergency_contact.{field}"] = (
                        f"is at most {limit} characters long (this one has {len(value)})")
                elif _has_control(value):
                    errors[f"emergency_contact.{field}"] = (
                        "contains invisible control characters; retype it")
            if not contact.name:
                errors["emergency_contact.name"] = "is required"
            if not contact.phone and not contact.email:
                errors["emergency_contact.phone"] = "give a phone number (or an e-mail address)"
            elif contact.phone and "emergency_contact.phone" not in errors:
                contact = replace(contact, phone=_phone(
                    contact.phone, clinic.phone_region, "emergency_contact.phone", errors))
            if (contact.email and "emergency_contact.email" not in errors
                    and not _EMAIL.match(contact.email)):
                errors["emergency_contact.email"] = (
                    f"'{contact.email}' is not an e-mail address like name@example.org")

    previous: list[PreviousName] = []
    for i, name in enumerate(draft.previous_names):
        given, family = name.given_name.strip(), name.family_name.strip()
        if not given and not family:
            continue
        if len(given) > 100 or len(family) > 100:
            errors[f"previous_names.{i}"] = "a name is at most 100 characters long"
        elif _has_control(given + family):
            errors[f"previous_names.{i}"] = "contains invisible control characters; retype it"
        previous.append(PreviousName(given, family))

    if errors:
        raise ValidationError.of(errors)
    assert born is not None
    return CleanDraft(
        replace(d, birth_date=born, identifiers=tuple(identifiers),
                emergency_contact=contact, previous_names=tuple(previous)),
        born,
    )

"""What is wrong with a chart entry as typed: every bad field named at once
(``ValidationError.of``), in sentences a clinician reads. No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from backend_client.chart.dto import (
    ALERT_KINDS,
    ALERT_SEVERITIES,
    ALERT_STATUSES,
    AlertDraft,
    MedicationDraft,
    ProblemDraft,
)
from backend_client.errors import ValidationError

MAX_REASON = 500
MAX_COMMENT = 2000


def _text(errors: dict[str, str], field: str, value: str, label: str, limit: int, *,
          required: bool = False) -> str:
    clean = (value or "").strip()
    if required and not clean:
        errors[field] = f"{label} is required."
    elif len(clean) > limit:
        errors[field] = f"{label} is {len(clean)} characters long; at most {limit} fit."
    return clean


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError.of(errors)


def problem(d: ProblemDraft) -> ProblemDraft:
    errors: dict[str, str] = {}
    description = _text(errors, "description", d.description, "The problem", 300,
                        required=True)
    code = _text(errors, "code", d.code, "The code", 40)
    comment = _text(errors, "comment", d.comment, "The comment", MAX_COMMENT)
    if d.status not in ("active", "resolved"):
        errors["status"] = ("A problem is active or resolved; to take one off the list "
                            "because it was entered in error, retire it with a reason.")
    _raise(errors)
    return replace(d, description=description, code=code, comment=comment)


def medication(d: MedicationDraft) -> MedicationDraft:
    errors: dict[str, str] = {}
    name = _text(errors, "name", d.name, "The medication's name", 200, required=True)
    dose = _text(errors, "dose", d.dose, "The dose", 100)
    route = _text(errors, "route", d.route, "The route", 40)
    frequency = _text(errors, "frequency", d.frequency, "The frequency", 100)
    comment = _text(errors, "comment", d.comment, "The comment", MAX_COMMENT)
    if d.status not in ("active", "stopped"):
        errors["status"] = ("A medication is active or stopped; to take one off the list "
                            "because it was entered in error, retire it with a reason.")
    if (d.started_on is not None and d.stopped_on is not None
            and d.stopped_on < d.started_on):
        errors["stopped_on"] = (f"It was stopped on {_day(d.stopped_on)}, before it was "
                                f"started ({_day(d.started_on)}).")
    _raise(errors)
    return replace(d, name=name, dose=dose, route=route or "oral", frequency=frequency,
                   comment=comment)


def alert(d: AlertDraft, *, status_may_change: bool) -> AlertDraft:
    """``status_may_change``: False when the stored alert is active (making it inactive is
    retiring, which asks for a reason)."""
    errors: dict[str, str] = {}
    if d.kind not in ALERT_KINDS:
        errors["kind"] = "Choose whether it is an allergy, a clinical, infection or other alert."
    what = "The substance" if d.kind == "allergy" else "The alert"
    description = _text(errors, "description", d.description, what, 300, required=True)
    reaction = _text(errors, "reaction", d.reaction, "The reaction", 300)
    if d.severity not in ALERT_SEVERITIES:
        errors["severity"] = "The severity is low, moderate or high."
    if d.status not in ALERT_STATUSES:
        errors["status"] = "An alert is active, inactive or resolved."
    elif d.status != "active" and not status_may_change:
        errors["status"] = ("To make an active alert inactive or resolved, retire it: that "
                            "asks why.")
    _raise(errors)
    return replace(d, description=description, reaction=reaction)


def reason(value: str, what: str) -> str:
    errors: dict[str, str] = {}
    clean = _text(errors, "reason", value, f"A reason for {what}", MAX_REASON, required=True)
    _raise(errors)
    return clean


def summary(value: str) -> str:
    clean = (value or "").strip()
    if not clean:
        raise ValidationError("summary", "An encounter is closed with a summary: write what "
                                         "was done and decided.")
    if len(clean) > 20000:
        raise ValidationError("summary", "The summary is longer than 20,000 characters; "
                                         "put the detail in a note.")
    return clean


def encounter_reason(value: str) -> str:
    errors: dict[str, str] = {}
    clean = _text(errors, "reason", value, "The reason for the encounter", MAX_REASON)
    _raise(errors)
    return clean


def _day(d: date) -> str:
    return d.strftime("%d %b %Y")

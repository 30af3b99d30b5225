"""Checking a prescription as it is typed: every field that is wrong is named at once, in a
sentence a prescriber can act on, and what is right is normalised ("bd" → "twice daily",
"MG" → "mg", the quantity computed when it was left empty). Pure: no I/O, no clock.

Frequencies understood (case and extra spaces do not matter): "once daily", "twice daily",
"three times daily", "four times daily", "N times daily", "every N hours", "at night",
"in the morning", "weekly", "as needed" (PRN) and "... as needed", and the abbreviations
od, bd, tds, qds, qid, bid, tid, qh-style "q8h", prn, nocte, mane.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from backend_client.chart.dto import ROUTES, STRENGTH_UNITS, PrescriptionDraft
from backend_client.errors import ValidationError

MAX_DURATION = 365
MAX_REFILLS = 12
# Forms counted in units the pharmacy hands out one by one: the quantity can be computed.
COUNTABLE_FORMS = ("tablet", "capsule", "patch", "suppository", "pessary", "sachet",
                   "lozenge", "puff", "ampoule", "vial", "pen", "dose")
MAX_LENGTHS = {"drug": 200, "form": 40, "dose": 100, "instructions": 500, "quantity": 40}


@dataclass(frozen=True)
class Frequency:
    """A frequency understood: its canonical words, doses per day (None when as needed)."""

    text: str
    per_day: float | None

    @property
    def as_needed(self) -> bool:
        return self.per_day is None


_WORD_NUMBERS = {"once": 1, "one": 1, "twice": 2, "two": 2, "three": 3, "thrice": 3,
                 "four": 4, "five": 5, "six": 6}
_ABBREVIATIONS = {
    "od": ("once daily", 1.0), "qd": ("once daily", 1.0), "daily": ("once daily", 1.0),
    "once a day": ("once daily", 1.0), "once daily": ("once daily", 1.0),
    "bd": ("twice daily", 2.0), "bid": ("twice daily", 2.0),
    "tds": ("three times daily", 3.0), "tid": ("three times daily", 3.0),
    "qds": ("four times daily", 4.0), "qid": ("four times daily", 4.0),
    "nocte": ("at night", 1.0), "at night": ("at night", 1.0),
    "at bedtime": ("at night", 1.0),
    "mane": ("in the morning", 1.0), "om": ("in the morning", 1.0),
    "in the morning": ("in the morning", 1.0), "every morning": ("in the morning", 1.0),
    "weekly": ("weekly", 1 / 7), "once weekly": ("weekly", 1 / 7),
    "once a week": ("weekly", 1 / 7), "every week": ("weekly", 1 / 7),
}
_AS_NEEDED = re.compile(r"\b(?:as needed|as required|when required|prn)\b")
_TIMES = re.compile(r"^(once|twice|thrice|one|two|three|four|five|six|\d+)"
                    r"(?: times?)? (?:daily|a day|per day|each day)$")
_EVERY = re.compile(r"^(?:every (\d+) ?(?:hours?|hrs?|h)|q(\d+)h)$")
_CANONICAL_TIMES = {1: "once daily", 2: "twice daily", 3: "three times daily",
                    4: "four times daily"}


def parse_frequency(text: str) -> Frequency | None:
    """The frequency ``text`` means, or None when it is not understood."""
    words = " ".join(text.lower().replace(",", " ").split())
    if not words:
        return None
    prn = bool(_AS_NEEDED.search(words))
    base = " ".join(_AS_NEEDED.sub(" ", words).split())
    if prn and not base:
        return Frequency("as needed", None)
    regular = _regular(base)
    if regular is None:
        return None
    if prn:
        return Frequency(f"{regular.text} as needed", None)
    return regular


def _regular(words: str) -> Frequency | None:
    if words in _ABBREVIATIONS:
        canonical, per_day = _ABBREVIATIONS[words]
        return Frequency(canonical, per_day)
    m = _TIMES.match(words)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _WORD_NUMBERS[m.group(1)]
        if not 1 <= n <= 24:
            return None
        return Frequency(_CANONICAL_TIMES.get(n, f"{n} times daily"), float(n))
    m = _EVERY.match(words)
    if m:
        hours = int(m.group(1) or m.group(2))
        if not 1 <= hours <= 168:
            return None
        if hours == 24:
            return Frequency("once daily", 1.0)
        return Frequency(f"every {hours} hour{'s' if hours != 1 else ''}", 24 / hours)
    return None


def _number(text: str) -> Decimal | None:
    """A plain positive number ("500", "0.5", "2,5"), or None."""
    cleaned = text.strip().replace(",", ".")
    if not re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
    return value if value > 0 else None


def _plain(value: Decimal) -> str:
    """500 → "500", 0.50 → "0.5"."""
    text = format(value.normalize(), "f")
    return text


_DOSE = re.compile(r"^(\d+/\d+|\d+(?:[.,]\d+)?|\.\d+)\s*(.*)$")


def dose_amount(text: str) -> Decimal | None:
    """How many per administration: "1", "2", "0.5", "1/2", "5 ml" → 5; None if not a
    positive amount."""
    m = _DOSE.match(text.strip())
    if not m:
        return None
    raw = m.group(1)
    if "/" in raw:
        top, bottom = raw.split("/")
        if int(bottom) == 0:
            return None
        value = Decimal(top) / Decimal(bottom)
    else:
        value = Decimal(raw.replace(",", "."))
    return value if value > 0 else None


def _lookup(value: str, allowed: tuple[str, ...]) -> str | None:
    folded = value.strip().casefold()
    return next((a for a in allowed if a.casefold() == folded), None)


def check(draft: PrescriptionDraft) -> PrescriptionDraft:
    """The draft normalised, or ``ValidationError`` naming every field that is wrong."""
    errors: dict[str, str] = {}
    drug = " ".join(draft.drug.split())
    if not drug:
        errors["drug"] = "Say which drug to prescribe."
    elif not re.search(r"[^\W\d_]", drug):
        errors["drug"] = "The drug's name needs letters, not only numbers or signs."
    elif len(drug) > MAX_LENGTHS["drug"]:
        errors["drug"] = f"The drug's name is longer than {MAX_LENGTHS['drug']} characters."

    strength_value = _number(draft.strength)
    strength = ""
    if strength_value is None:
        errors["strength"] = ("The strength must be a positive number, like 500 or 0.5 "
                              f"(you typed {draft.strength.strip()!r})." if draft.strength.strip()
                              else "Give the strength, a positive number like 500.")
    else:
        strength = _plain(strength_value)

    unit = _lookup(draft.unit, STRENGTH_UNITS)
    if unit is None:
        errors["unit"] = ("Choose the strength's unit: " + ", ".join(STRENGTH_UNITS) + "."
                          if not draft.unit.strip() else
                          f"{draft.unit.strip()!r} is not a unit this app knows; choose one "
                          "of " + ", ".join(STRENGTH_UNITS) + ".")

    form = " ".join(draft.form.split()).lower()
    if not form:
        errors["form"] = "Say what form it comes in (tablet, capsule, solution, ...)."
    elif len(form) > MAX_LENGTHS["form"]:
        errors["form"] = f"The form is longer than {MAX_LENGTHS['form']} characters."

    dose = " ".join(draft.dose.split())
    amount = dose_amount(dose)
    if amount is None:
        errors["dose"] = ("Say how many to take each time, like 1, 2 or 5 ml"
                          + (f" (you typed {dose!r})." if dose else "."))
    elif len(dose) > MAX_LENGTHS["dose"]:
        errors["dose"] = f"The dose is longer than {MAX_LENGTHS['dose']} characters."

    route = _lookup(draft.route, ROUTES)
    if route is None:
        errors["route"] = (f"{draft.route.strip()!r} is not a route this app knows; choose "
                           "one of " + ", ".join(ROUTES) + "." if draft.route.strip()
                           else "Choose the route (oral, topical, inhaled, ...).")

    frequency = parse_frequency(draft.frequency)
    if frequency is None:
        errors["frequency"] = (
            (f"{draft.frequency.strip()!r} is not a frequency this app understands; "
             if draft.frequency.strip() else "Say how often. ")
            + "Write it like \"twice daily\", \"every 8 hours\", \"at night\", \"weekly\" "
              "or \"as needed\" (bd, tds, qds, nocte and prn work too).")

    duration = draft.duration_days
    if not 1 <= duration <= MAX_DURATION:
        errors["duration_days"] = (f"The duration must be 1 to {MAX_DURATION} days "
                                   f"(you gave {duration}).")

    quantity = " ".join(draft.quantity.split())
    if quantity:
        if dose_amount(quantity) is None:
            errors["quantity"] = ("The quantity must start with a positive number, like 28 or "
                                  f"200 ml (you typed {quantity!r}).")
        elif len(quantity) > MAX_LENGTHS["quantity"]:
            errors["quantity"] = (f"The quantity is longer than {MAX_LENGTHS['quantity']} "
                                  "characters.")
    elif frequency is not None and amount is not None and "duration_days" not in errors:
        if frequency.as_needed:
            errors["quantity"] = ("For a medicine taken as needed, say how many to supply "
                                  "(it cannot be worked out).")
        elif form not in COUNTABLE_FORMS or not _countable(dose):
            errors["quantity"] = (f"Say how much to supply (a {form or 'preparation'} is not "
                                  "counted in units, so it cannot be worked out), like "
                                  "\"200 ml\" or \"1 tube\".")
        else:
            assert frequency.per_day is not None
            total = float(amount) * frequency.per_day * duration
            quantity = str(max(1, math.ceil(total - 1e-9)))

    if not 0 <= draft.refills <= MAX_REFILLS:
        errors["refills"] = (f"Refills must be 0 to {MAX_REFILLS} "
                             f"(you gave {draft.refills}).")

    instructions = draft.instructions.strip()
    if len(instructions) > MAX_LENGTHS["instructions"]:
        errors["instructions"] = (f"The instructions are longer than "
                                  f"{MAX_LENGTHS['instructions']} characters.")

    if errors:
        raise ValidationError.of(errors)
    assert unit is not None and route is not None and frequency is not None
    return replace(draft, drug=drug, strength=strength, unit=unit, form=form, dose=dose,
                   route=route, frequency=frequency.text, quantity=quantity,
                   instructions=instructions)


def _countable(dose: str) -> bool:
    """A dose of whole units ("1", "2", "1/2"), not an amount of something ("5 ml")."""
    m = _DOSE.match(dose)
    return m is not None and not m.group(2).strip()


def doses_per_day(draft: PrescriptionDraft) -> float | None:
    """Doses a day of a checked draft (None when taken as needed)."""
    frequency = parse_frequency(draft.frequency)
    return None if frequency is None else frequency.per_day

"""Phone numbers as the clinic types them, stored one way (issue 13).

A number is stored in E.164 ("+19172065843"), read with the clinic's country
(``ClinicLocale.phone_region``) when it has no "+" and country code, and shown in the
clinic's national format ("(917) 206-5843") — or, for a number of another country, in
international format ("+44 20 7946 0958"), so it can be dialled as written.

Search needs nothing from here: ``patients.phone_digits`` holds the E.164 digits, and a
typed number in any format matches by its last seven digits and, leading zeros dropped, as
one number's end of the other (``search.py``).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult
from phonenumbers import phonenumberutil as _util

# Sentences for what libphonenumber says is wrong with the length or country.
_REASONS = {
    ValidationResult.TOO_SHORT: "is too short for a phone number{where}",
    ValidationResult.TOO_LONG: "is too long for a phone number{where}",
    ValidationResult.INVALID_LENGTH: "has the wrong number of digits for a phone number{where}",
    ValidationResult.INVALID_COUNTRY_CODE: "starts with a country code that does not exist",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "has no area code; write it with the area code",
}


class PhoneProblem(ValueError):
    """The text is not a phone number we can store; the message says why (it completes
    "Phone ...")."""


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber:
    text = text.strip()
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix most of the world dials
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        raise PhoneProblem(
            f"'{text}' is not a phone number; write it like "
            f"{example(region)}, or with + and the country code") from None


def to_e164(text: str, region: str) -> str:
    """``text`` as E.164, reading a number without a country code as ``region``'s.

    Raises PhoneProblem when it is not a phone number or has an impossible length. A
    number of a possible length but not (yet) known to be in use is kept: numbering plans
    change faster than libphonenumber's tables, and films' 555 numbers are still numbers.
    """
    number = _parse(text, region)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason not in (ValidationResult.IS_POSSIBLE,):
        country = phonenumbers.region_code_for_country_code(number.country_code or 0)
        where = f" in {_country_name(country)}" if country not in ("ZZ", "001") else ""
        sentence = _REASONS.get(reason, "is not a possible phone number{where}")
        raise PhoneProblem(f"'{text.strip()}' " + sentence.format(where=where))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@lru_cache(maxsize=16384)
def display(stored: str, region: str) -> str:
    """How a stored number is shown: national format for the clinic's country (one that
    shares its country code, such as Canada's in a US clinic), international otherwise.
    Text that is not a number (left by an older version) is shown as it is.

    Remembered: a search shows fifty numbers, and the desk searches the same patients again
    and again as a name is typed (libphonenumber takes about 30 µs a number)."""
    if not stored:
        return ""
    number = _read_e164(stored)
    if number is None:
        try:
            number = phonenumbers.parse(stored, region)
        except NumberParseException:
            return stored
    same = number.country_code == phonenumbers.country_code_for_region(region)
    return phonenumbers.format_number(
        number, PhoneNumberFormat.NATIONAL if same else PhoneNumberFormat.INTERNATIONAL)


_E164 = re.compile(r"\+([1-9][0-9]{6,14})")


def _read_e164(stored: str) -> PhoneNumber | None:
    """A stored E.164 number read as ``phonenumbers.parse`` reads it, in a tenth of the
    time; None for anything else, or whenever parse could read it otherwise (a national
    prefix it would strip), so the caller parses it in full.

    parse spends most of its time on what a typed number may hold (letters, extensions,
    international prefixes); a stored number holds none of it: + country code, national
    number. The same library functions read those two as parse does."""
    m = _E164.fullmatch(stored)
    if m is None:
        return None
    try:
        cc, national = _util._extract_country_code(m.group(1))
        if cc == 0:
            return None
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
            cc, phonenumbers.region_code_for_country_code(cc))
        if metadata is None or len(national) < 2:
            return None
        if metadata.national_prefix_for_parsing is not None:
            _carrier, stripped, _ = _util._maybe_strip_national_prefix_carrier_code(
                national, metadata)
            if stripped != national:
                return None  # parse might strip it (if what is left is long enough)
        number = PhoneNumber(country_code=cc, national_number=int(national))
        _util._set_italian_leading_zeros_for_phone_number(national, number)
    except (AttributeError, TypeError, ValueError):  # a library version without these
        return None
    return number


def example(region: str) -> str:
    """A number in ``region``'s national format, for hints ("(201) 555-0123")."""
    number = phonenumbers.example_number(region)
    if number is None:
        return "+44 20 7946 0958"
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)


def _country_name(region: str) -> str:
    return _NAMES.get(region, region)


# Names for the commonest countries in messages; others by their code ("in MX").
_NAMES = {"US": "the United States", "GB": "the United Kingdom", "DE": "Germany",
          "FR": "France", "IN": "India", "CN": "China", "CA": "Canada", "AU": "Australia",
          "IE": "Ireland", "NL": "the Netherlands", "ES": "Spain", "IT": "Italy",
          "PL": "Poland", "TR": "Turkey", "NG": "Nigeria", "JP": "Japan", "KR": "Korea",
          "BR": "Brazil", "MX": "Mexico", "PK": "Pakistan", "PH": "the Philippines"}

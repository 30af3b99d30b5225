"""What was typed in the one search box, read as name words, dates of birth, identifiers
and phone numbers (``parse_query``); ``search.py`` runs it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from backend_client.patients import names
from backend_client.patients.dates import find_dates
from backend_client.patients.phones import PhoneProblem, to_e164


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    tokens: tuple[str, ...]
    dates: tuple[date, ...]
    identifiers: tuple[str, ...]
    phones: tuple[str, ...]
    # Years of birth typed with a name ("anna 1984"): they narrow the name's matches.
    years: tuple[int, ...] = ()
    # The workstation's date the query was read on: relative dates are resolved on it, and
    # it is the day whose appointments rank patients first (None: the local date at run).
    today: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.tokens or self.dates or self.identifiers or self.phones)


_PHONE_ONLY = re.compile(r"^[\s0-9+\-().]+$")
# Digit groups joined by blanks, dashes, dots or brackets: at least two groups ("+49 (0)30
# 1234567": a bracketed trunk zero may run into the next group).
_PHONE_GROUPS = re.compile(
    r"(?<![\w])\+?\(?\d+\)?(?:(?:[ \-.]+|(?<=\)))\(?\d+\)?)+(?![\w])")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_DIGITS = frozenset("0123456789")
MAX_TOKENS = 6
MIN_YEAR = 1900   # four digits from here to this year, typed with a name, are a birth year


def _add_number(digits: str, identifiers: list[str], phones: list[str]) -> None:
    """A bare number is searched as an identifier, as an MRN's digits (up to 7) and as a
    phone number (7 to 15 digits)."""
    identifiers.append(digits)
    if len(digits) <= 7:
        identifiers.append(names.format_mrn(int(digits)))
    if 7 <= len(digits) <= 15:
        phones.append(digits)


def _e164_digits(text: str, region: str | None) -> list[str]:
    """The digits of ``text`` as the register form would store it (E.164, read with the
    clinic's country), when that differs from its bare digits: "+44 (0)20 7946 0958" is
    442079460958, not 4402079460958."""
    if region is None:
        return []
    try:
        return [names.phone_digits(to_e164(text, region))]
    except PhoneProblem:
        return []


def parse_query(query: str, today: date, *, day_first: bool | None = None,
                region: str | None = None) -> ParsedQuery:
    """``day_first``: the clinic's reading of 12.03.1984 (``ClinicLocale``), the same as the
    register form's; ``None`` searches both readings. ``region``: the clinic's phone
    country, to search a typed number also as it is stored (E.164)."""
    query = _CONTROL.sub(" ", query)
    rest = query
    dates: list[date] = []
    identifiers: list[str] = []
    phones: list[str] = []
    tokens: list[str] = []
    for match in reversed(find_dates(query, today, day_first=day_first)):
        dates.extend(match.candidates)
        span = query[match.start:match.end]
        if span.isascii() and span.isdigit():
            # Eight digits may be a date, an identifier or a phone number: search all three.
            identifiers.append(span)
            phones.append(span)
        rest = rest[:match.start] + " " + rest[match.end:]
    stripped = rest.strip()
    if stripped and _PHONE_ONLY.match(stripped) and 7 <= len(names.phone_digits(stripped)) <= 15:
        _add_number(names.phone_digits(stripped), identifiers, phones)
        phones.extend(_e164_digits(stripped, region))
        stripped = ""
    # A number written in groups next to a name ("okafor 917 206 5843") is one phone number.
    for m in reversed(list(_PHONE_GROUPS.finditer(stripped))):
        digits = names.phone_digits(m.group())
        if 7 <= len(digits) <= 15:
            phones.append(digits)
            phones.extend(_e164_digits(m.group(), region))
            stripped = stripped[:m.start()] + " " + stripped[m.end():]
    initials: list[str] = []
    years: list[str] = []
    for raw in re.split(r"[\s,;]+", stripped):
        if not raw:
            continue
        if any(c in _ASCII_DIGITS for c in raw):
            ident = raw.strip(".").upper()
            if ident.isascii() and ident.isdigit():
                if len(ident) == 4 and MIN_YEAR <= int(ident) <= today.year:
                    years.append(ident)  # a year of birth if a name comes with it
                else:
                    _add_number(ident, identifiers, phones)
            else:
                identifiers.append(ident)
            continue
        for tok in names.tokens(raw):
            ascii_tok = all(ord(c) < 128 for c in tok)
            if (len(tok) >= names.MIN_PREFIX or not ascii_tok) and tok not in tokens:
                tokens.append(tok)
            elif tok.isalpha() and tok not in initials:
                initials.append(tok)
    if tokens:
        # An initial narrows a name ("smith j"); alone, one letter names nobody.
        tokens += [i for i in initials if i not in tokens]
    else:
        for y in years:
            _add_number(y, identifiers, phones)
        years = []
    # Enough to name anyone; more words only make the query slower, not better.
    tokens = sorted(tokens, key=len, reverse=True)[:MAX_TOKENS] if len(tokens) > MAX_TOKENS \
        else tokens
    return ParsedQuery(query, tuple(tokens), tuple(dict.fromkeys(dates)),
                       tuple(dict.fromkeys(identifiers)), tuple(dict.fromkeys(phones)),
                       tuple(dict.fromkeys(int(y) for y in years)), today)
